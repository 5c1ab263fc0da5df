import { describe, expect, it } from 'vitest';
import { summarize } from '../sdk/handover.ts';
import { broken, live, makeFile, makeHandover, makeView } from './fixtures.ts';
import { buildReport, slotReport } from './report.ts';

describe('slotReport', () => {
  it('copies what the file says, and only the optional fields it has', () => {
    const f = makeFile({
      slot: 'b',
      version: 'v2',
      state: 'draining',
      successor: 'a',
      drainStartedAtMs: 5,
      rejected: ['a@v0'],
    });
    expect(slotReport(live(f))).toEqual({
      slot: 'b',
      alive: true,
      state: 'draining',
      version: 'v2',
      role: 'standby',
      mode: 'slot',
      pid: 100,
      instance: 'b-1',
      startedAtMs: 1000,
      updatedAtMs: 1000,
      drainStartedAtMs: 5,
      successor: 'a',
      rejected: ['a@v0'],
    });
  });

  it('reports an unusable file as nulls and the problem', () => {
    expect(slotReport(broken('a', 'malformed version file: file is empty', false))).toMatchObject({
      slot: 'a',
      alive: false,
      state: null,
      version: null,
      problem: 'malformed version file: file is empty',
    });
  });

  it('drops runningVersion and error when they are not strings', () => {
    const f = { ...makeFile(), runningVersion: 7, error: { code: 1 } } as unknown as ReturnType<
      typeof makeFile
    >;
    const r = slotReport(live(f));
    expect(r).not.toHaveProperty('runningVersion');
    expect(r).not.toHaveProperty('error');
  });
});

describe('buildReport', () => {
  it('puts the summary, the slots, the last handover and the counts together', () => {
    const record = makeHandover();
    const view = makeView(
      true,
      live(makeFile({ slot: 'a', state: 'idle' })),
      live(makeFile({ slot: 'b', version: 'v2', handover: record })),
    );
    const report = buildReport({
      view,
      summary: summarize(view),
      handovers: { completed: 1, failed: 0 },
      pod: { name: 'web-0', namespace: 'media' },
      observedAtMs: 42,
    });
    expect(report).toMatchObject({
      protocol: 1,
      pod: { name: 'web-0', namespace: 'media' },
      serving: true,
      activeSlot: 'b',
      activeVersion: 'v2',
      phase: 'none',
      successorSlot: null,
      lastHandover: record,
      handovers: { completed: 1, failed: 0 },
      observedAtMs: 42,
    });
    expect(report.slots.map((s) => s.slot)).toEqual(['a', 'b']);
  });

  it('leaves pod and lastHandover out when unknown', () => {
    const view = makeView(false);
    const report = buildReport({
      view,
      summary: summarize(view),
      handovers: { completed: 0, failed: 0 },
      pod: undefined,
      observedAtMs: 1,
    });
    expect(report).not.toHaveProperty('pod');
    expect(report).not.toHaveProperty('lastHandover');
  });
});
