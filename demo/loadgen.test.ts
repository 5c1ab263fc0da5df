import { describe, expect, it } from 'vitest';
import {
  sessionsLostWith,
  sessionsOnGonePods,
  LoadRecorder,
  continues,
  parseDuration,
  parseRate,
  percentile,
  reasonOf,
  transportFor,
  type Success,
} from './loadgen.ts';

const ok = (session: number, count: number, atMs: number, over: Partial<Success> = {}): Success => ({
  session,
  count,
  atMs,
  latencyMs: 1,
  version: 'v1',
  slot: 'a',
  ...over,
});

describe('percentile', () => {
  it.each([
    { name: 'no samples give 0', sorted: [], p: 50, want: 0 },
    { name: 'one sample is every percentile', sorted: [7], p: 99, want: 7 },
    { name: 'p50 of 1..10 is 5 (nearest rank)', sorted: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], p: 50, want: 5 },
    { name: 'p99 of 1..100 is 99', sorted: Array.from({ length: 100 }, (_, i) => i + 1), p: 99, want: 99 },
    { name: 'p100 is the max', sorted: [1, 2, 3], p: 100, want: 3 },
  ])('$name', ({ sorted, p, want }) => {
    expect(percentile(sorted, p)).toBe(want);
  });
});

describe('continues', () => {
  it.each([
    {
      name: 'the first count of a session is accepted whatever it is',
      last: undefined,
      count: 41,
      failed: false,
      want: true,
    },
    { name: 'previous + 1 continues', last: 3, count: 4, failed: false, want: true },
    { name: 'a repeated count is state lost', last: 3, count: 3, failed: false, want: false },
    { name: 'a count back at 1 is state lost', last: 3, count: 1, failed: false, want: false },
    {
      name: 'a skipped count without a failure is state lost',
      last: 3,
      count: 5,
      failed: false,
      want: false,
    },
    {
      name: 'a skipped count after a failed request continues (the lost answer was counted)',
      last: 3,
      count: 5,
      failed: true,
      want: true,
    },
    {
      name: 'a count going back after a failed request is still state lost',
      last: 3,
      count: 2,
      failed: true,
      want: false,
    },
  ])('$name', ({ last, count, failed, want }) => {
    expect(continues(last, count, failed)).toBe(want);
  });
});

describe('LoadRecorder', () => {
  it('reports no lost sessions when every session counts up', () => {
    const r = new LoadRecorder();
    for (let i = 1; i <= 3; i++) {
      r.success(ok(1, i, i * 10));
      r.success(ok(2, i, i * 10 + 1));
    }
    const rep = r.report(100);
    expect(rep).toMatchObject({
      ok: 6,
      failed: 0,
      sessionsSeen: 2,
      sessionsLost: 0,
      lastCounts: { '1': 3, '2': 3 },
    });
  });

  it('counts a session once however many times its continuity breaks', () => {
    const r = new LoadRecorder();
    r.success(ok(1, 5, 1));
    r.success(ok(1, 1, 2));
    r.success(ok(1, 1, 3));
    r.success(ok(2, 1, 4));
    const rep = r.report(10);
    expect(rep.sessionsLost).toBe(1);
    expect(rep.lostEventCount).toBe(2);
    expect(rep.lostEvents[0]).toEqual({ atMs: 2, session: 1, expected: 6, got: 1 });
  });

  it('continues from a baseline, so a second run detects state lost across a restart', () => {
    const r = new LoadRecorder({ '1': 10, '2': 4 });
    r.success(ok(1, 11, 1));
    r.success(ok(2, 1, 2));
    expect(r.report(5)).toMatchObject({ sessionsLost: 1, lostEvents: [{ session: 2, expected: 5, got: 1 }] });
  });

  it('carries sessions whose last request failed into the next run', () => {
    const first = new LoadRecorder();
    first.success(ok(1, 1, 1));
    first.success(ok(2, 1, 1));
    first.failure({ atMs: 2, session: 1, transport: 'keepalive', reason: 'ECONNRESET' });
    const rep = first.report(3);
    expect(rep.uncertain).toEqual([1]);
    const second = new LoadRecorder(rep.lastCounts, 0, rep.uncertain);
    second.success(ok(1, 3, 1));
    second.success(ok(2, 3, 1));
    expect(second.report(2).lostEvents.map((e) => e.session)).toEqual([2]);
  });

  it('lets the count skip ahead after a failed request of the same session only', () => {
    const r = new LoadRecorder();
    r.success(ok(1, 1, 1));
    r.success(ok(2, 1, 1));
    r.failure({ atMs: 2, session: 1, transport: 'fresh', reason: 'ECONNRESET' });
    r.success(ok(1, 3, 3));
    r.success(ok(2, 3, 3));
    const rep = r.report(5);
    expect(rep.sessionsLost).toBe(1);
    expect(rep.lostEvents.map((e) => e.session)).toEqual([2]);
    expect(rep).toMatchObject({ failed: 1, failureReasons: { ECONNRESET: 1 } });
  });

  it('lets the count skip ahead after a retried request, and counts the retry', () => {
    const r = new LoadRecorder();
    r.success(ok(1, 1, 1));
    r.retry(1, 'ECONNRESET');
    r.success(ok(1, 3, 3));
    expect(r.report(5)).toMatchObject({
      sessionsLost: 0,
      failed: 0,
      retried: 1,
      retryReasons: { ECONNRESET: 1 },
    });
  });

  it('keeps one counter per pod when the server names its pod (a Service spreads a session over pods)', () => {
    const r = new LoadRecorder();
    r.success(ok(1, 1, 1, { pod: 'demo-0' }));
    r.success(ok(1, 1, 2, { pod: 'demo-1' }));
    r.success(ok(1, 2, 3, { pod: 'demo-0' }));
    r.success(ok(1, 2, 4, { pod: 'demo-1' }));
    r.success(ok(2, 1, 5, { pod: 'demo-1' }));
    const rep = r.report(6);
    expect(rep).toMatchObject({
      sessionsSeen: 2,
      sessionsLost: 0,
      pods: { 'demo-0': 2, 'demo-1': 3 },
      lastCounts: { 'demo-0/1': 2, 'demo-1/1': 2, 'demo-1/2': 1 },
    });
    r.success(ok(1, 1, 7, { pod: 'demo-0' }));
    expect(r.report(8)).toMatchObject({ sessionsLost: 1, lostEvents: [{ session: 1, expected: 3, got: 1 }] });
  });

  it('after a failure, lets every pod counter of that session skip ahead once (the failure does not say which pod counted)', () => {
    const r = new LoadRecorder();
    r.success(ok(1, 1, 1, { pod: 'a' }));
    r.success(ok(1, 1, 2, { pod: 'b' }));
    r.failure({ atMs: 3, session: 1, transport: 'fresh', reason: 'ECONNRESET' });
    r.success(ok(1, 3, 4, { pod: 'a' }));
    r.success(ok(1, 3, 5, { pod: 'b' }));
    expect(r.report(6).sessionsLost).toBe(0);
    r.success(ok(1, 5, 7, { pod: 'a' }));
    expect(r.report(8).sessionsLost).toBe(1);
  });

  it.each([
    { name: 'no pod gone: nothing stranded', live: ['demo-0', 'demo-1'], want: 0 },
    { name: 'demo-0 gone: its two sessions are stranded', live: ['demo-1'], want: 2 },
    { name: 'every pod replaced: every session stranded', live: ['demo-7'], want: 3 },
  ])('sessionsOnGonePods: $name', ({ live, want }) => {
    const report = { lastCounts: { 'demo-0/1': 4, 'demo-0/2': 1, 'demo-1/2': 3, 'demo-1/3': 9 } };
    expect(sessionsOnGonePods(report, live).size).toBe(want);
    expect(sessionsLostWith({ ...report, lostSessionIds: [3, 9] }, live)).toBe(
      new Set([...sessionsOnGonePods(report, live), 3, 9]).size,
    );
  });

  it('measures the largest gap between consecutive answers, from the start of the run', () => {
    const r = new LoadRecorder({}, 0);
    for (const t of [5, 10, 12, 80, 90]) r.success(ok(1, t, t));
    const rep = r.report(200);
    expect(rep.maxGapMs).toBe(68);
    expect(rep.maxGapAtMs).toBe(80);
    expect(rep.trailingGapMs).toBe(110);
  });

  it('does not shrink the gap clock when answers complete out of order', () => {
    const r = new LoadRecorder({}, 0);
    r.success(ok(1, 1, 50));
    r.success(ok(2, 1, 40));
    r.success(ok(3, 1, 60));
    expect(r.report(60).maxGapMs).toBe(50);
  });

  it('reports latency percentiles, versions and slots', () => {
    const r = new LoadRecorder();
    for (let i = 1; i <= 100; i++)
      r.success(ok(i, 1, i, { latencyMs: i, version: i <= 40 ? 'v1' : 'v2', slot: i <= 40 ? 'a' : 'b' }));
    const rep = r.report(100);
    expect(rep.latencyMs).toEqual({ p50: 50, p99: 99, max: 100 });
    expect(rep.versions).toEqual({ v1: 40, v2: 60 });
    expect(rep.slots).toEqual({ a: 40, b: 60 });
  });
});

describe('transportFor', () => {
  it.each([
    { share: 0, want: 0 },
    { share: 0.25, want: 25 },
    { share: 0.5, want: 50 },
    { share: 1, want: 100 },
  ])('sends $want of 100 requests on keep-alive connections at share $share', ({ share, want }) => {
    const n = Array.from({ length: 100 }, (_, i) => transportFor(i, share)).filter(
      (t) => t === 'keepalive',
    ).length;
    expect(n).toBe(want);
  });
});

describe('CLI parsing and failure reasons', () => {
  it.each([
    ['2000', 2000],
    ['2000/s', 2000],
    ['12.5/s', 12.5],
  ])('reads rate %s as %d per second', (raw, want) => expect(parseRate(raw)).toBe(want));
  it('names the flag when a rate is malformed', () => expect(() => parseRate('fast')).toThrow(/--rate/));
  it.each([
    ['1500', 1500],
    ['1500ms', 1500],
    ['30s', 30_000],
    ['2m', 120_000],
  ])('reads duration %s as %d ms', (raw, want) => expect(parseDuration(raw)).toBe(want));
  it.each([
    {
      name: 'an errno code',
      err: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }),
      want: 'ECONNREFUSED',
    },
    {
      name: 'an abort by timeout',
      err: Object.assign(new Error('x'), { name: 'TimeoutError' }),
      want: 'timeout',
    },
    {
      name: 'a code in the cause',
      err: new Error('fetch failed', { cause: Object.assign(new Error('y'), { code: 'ECONNRESET' }) }),
      want: 'ECONNRESET',
    },
    { name: 'a plain message', err: new Error('boom'), want: 'boom' },
  ])('gives the reason of $name', ({ err, want }) => expect(reasonOf(err)).toBe(want));
});
