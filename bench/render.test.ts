import { describe, expect, it } from 'vitest';
import { table, windowLine } from './render.ts';
import { makeReport } from './fixtures.ts';
import { summarizeMode, type WindowResult } from './summary.ts';

const w: WindowResult = {
  mode: 'slot',
  kind: 'upgrade',
  index: 3,
  loadStartedAtMs: 10_000,
  upgrade: {
    from: 'v3',
    to: 'v4',
    triggerAtMs: 11_000,
    servingAtMs: 11_310,
    settledAtMs: 11_400,
    handover: {
      from: { slot: 'a', version: 'v3' },
      to: { slot: 'b', version: 'v4' },
      noticeMs: 1,
      drainMs: 40,
      takeoverMs: 2,
      totalMs: 300,
      atMs: 11_310,
    },
  },
  report: makeReport({
    latencyMs: { p50: 1, p99: 5.24, max: 9 },
    maxGapMs: 4,
    maxGapAtMs: 1_305,
    sessionsSeen: 1,
  }),
};

describe('windowLine', () => {
  it('reads as the progress line of the issue: mode, count, versions, gap and where it fell', () => {
    expect(windowLine(w, 20)).toBe(
      'slot upgrade 3/20 v3->v4: gap 4 ms (in upgrade), failed 0, p99 5.2 ms, 2000 req/s, serving after 310 ms (drain 40 ms, takeover 2 ms)',
    );
  });
  it('names failure reasons and lost sessions when there are some', () => {
    const bad = {
      ...w,
      report: { ...w.report, failed: 2, failureReasons: { ECONNREFUSED: 2 }, sessionsLost: 1 },
    };
    expect(windowLine(bad, 20)).toContain('failed 2 {"ECONNREFUSED":2}');
    expect(windowLine(bad, 20)).toContain('sessions lost 1');
  });
});

describe('table', () => {
  it('has a header and one row per mode', () => {
    const t = table({ slot: summarizeMode([w]), restart: summarizeMode([w]) }).split('\n');
    expect(t).toHaveLength(3);
    expect(t[0]).toMatch(/^mode\s+upgrades/);
    expect(t[2]).toMatch(/^restart\s+1\s+4000/);
  });
});
