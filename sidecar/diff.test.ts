import { describe, expect, it } from 'vitest';
import type { VolumeView } from '../sdk/volume.ts';
import { diff, EMPTY_MEMORY, type Memory, type Transition } from './diff.ts';
import { broken, live, makeFile, makeHandover, makeView } from './fixtures.ts';

const kinds = (ts: Transition[]): string[] =>
  ts.map((t) => (t.kind === 'summary' ? `summary:${t.to.phase}` : `${t.kind}:${'slot' in t ? t.slot : ''}`));

/** Runs views in order from an empty memory; returns each step's transitions. */
function run(views: VolumeView[], sinceMs = 0): Transition[][] {
  let memory: Memory = EMPTY_MEMORY;
  return views.map((v) => {
    const r = diff(memory, v, sinceMs);
    memory = r.memory;
    return r.transitions;
  });
}

const MALFORMED =
  'malformed version file: not valid JSON (Unexpected end of JSON input); the file may be truncated';
const record = makeHandover({ atMs: 10_000 });
const a1 = makeFile({ slot: 'a', version: 'v1', state: 'serving' });
const b2 = makeFile({ slot: 'b', version: 'v2', state: 'waiting', role: 'successor', announcedAtMs: 9_000 });
const b2serving = {
  ...b2,
  state: 'serving' as const,
  lockAcquiredAtMs: 9_990,
  servingAtMs: 10_000,
  handover: record,
};

describe('diff: a handover v1 -> v2, step by step', () => {
  const steps: [string, VolumeView, string[]][] = [
    ['a serves v1 alone', makeView(true, live(a1)), ['process:a', 'summary:none']],
    ['b announces v2', makeView(true, live(a1), live(b2)), ['process:b', 'summary:announced']],
    [
      'a drains for b',
      makeView(true, live({ ...a1, state: 'draining', successor: 'b' }), live(b2)),
      ['state:a', 'summary:draining'],
    ],
    [
      'a releases the lock',
      makeView(false, live({ ...a1, state: 'idle' }), live(b2)),
      ['state:a', 'summary:takeover'],
    ],
    [
      'b serves and writes its record',
      makeView(true, live({ ...a1, state: 'idle' }), live(b2serving)),
      ['state:b', 'handover:b', 'summary:none'],
    ],
    ['a rescan with nothing new', makeView(true, live({ ...a1, state: 'idle' }), live(b2serving)), []],
    [
      "b's file is truncated for a moment",
      makeView(true, live({ ...a1, state: 'idle' }), broken('b', MALFORMED)),
      ['problem:b', 'summary:takeover'],
    ],
    [
      'the same truncation on the next rescan',
      makeView(true, live({ ...a1, state: 'idle' }), broken('b', MALFORMED)),
      [],
    ],
    [
      "b's file is readable again, same record",
      makeView(true, live({ ...a1, state: 'idle' }), live(b2serving)),
      ['problem-cleared:b', 'summary:none'],
    ],
  ];
  const results = run(steps.map((s) => s[1]));
  it.each(steps.map((s, i) => [s[0], s[2], i] as const))('%s -> %j', (_title, expected, i) => {
    expect(kinds(results[i] ?? [])).toEqual(expected);
  });

  it('the handover transition carries the record and the lock wait (announced -> lock acquired)', () => {
    expect(results[4]?.find((t) => t.kind === 'handover')).toEqual({
      kind: 'handover',
      slot: 'b',
      record,
      lockWaitMs: 990,
    });
  });
});

describe('diff: what counts once, and what does not count at all', () => {
  const failedB = {
    ...b2,
    state: 'failed' as const,
    updatedAtMs: 70_000,
    error: 'handover deadline of 60000 ms passed',
  };
  it.each<[string, VolumeView[], number, string[][]]>([
    [
      'a handover record written before the sidecar started is not counted (a restarted sidecar sees it again)',
      [makeView(true, live(b2serving))],
      20_000,
      [['process:b', 'summary:none']],
    ],
    [
      'a handover record written after the sidecar started is counted on first sight',
      [makeView(true, live(b2serving))],
      5_000,
      [['process:b', 'handover:b', 'summary:none']],
    ],
    [
      'a slot entering failed counts once, however many rescans see it',
      [
        makeView(true, live(a1), live(b2)),
        makeView(true, live(a1), live(failedB)),
        makeView(true, live(a1), live(failedB)),
      ],
      0,
      [['process:a', 'process:b', 'summary:announced'], ['state:b', 'failed:b', 'summary:none'], []],
    ],
    [
      'a slot already failed before the sidecar started is not counted',
      [makeView(true, live(a1), live(failedB))],
      80_000,
      [['process:a', 'process:b', 'summary:none']],
    ],
    [
      'a new rejected entry in a known process counts; the first look at a process is a baseline',
      [
        makeView(true, live({ ...a1, rejected: ['c@v0'] })),
        makeView(true, live({ ...a1, rejected: ['c@v0', 'b@v2'] })),
        makeView(true, live({ ...a1, rejected: ['c@v0', 'b@v2'] })),
      ],
      0,
      [['process:a', 'summary:none'], ['rejected:a'], []],
    ],
    [
      'a process that dies is one transition, and serving stops',
      [makeView(true, live(a1)), makeView(false, live(a1, false)), makeView(false, live(a1, false))],
      0,
      [['process:a', 'summary:none'], ['alive:a', 'summary:unserved'], []],
    ],
    [
      'a new process in a slot is a new process, not a state change',
      [makeView(true, live(a1)), makeView(true, live({ ...a1, instance: 'a-2', state: 'starting' }))],
      0,
      [
        ['process:a', 'summary:none'],
        ['process:a', 'summary:unserved'],
      ],
    ],
    [
      'a slot whose files disappear is removed',
      [makeView(true, live(a1), live(b2)), makeView(true, live(a1))],
      0,
      [
        ['process:a', 'process:b', 'summary:announced'],
        ['removed:b', 'summary:none'],
      ],
    ],
  ])('%s', (_title, views, sinceMs, expected) => {
    expect(run(views, sinceMs).map(kinds)).toEqual(expected);
  });
});

describe('diff: problems with a version file', () => {
  it.each<[string, (string | null)[], boolean[]]>([
    ['missing, then malformed: enters malformed once', ['no version file yet', MALFORMED], [false, true]],
    [
      'malformed, then malformed differently: a new line, not a new error',
      [MALFORMED, 'malformed version file: file is empty'],
      [true, false],
    ],
    ['malformed, readable, malformed again: two errors', [MALFORMED, null, MALFORMED], [true, true]],
  ])('%s', (_title, problems, entered) => {
    const views = problems.map((p) =>
      makeView(false, p === null ? live(makeFile({ state: 'idle' })) : broken('a', p)),
    );
    const seen = run(views)
      .flat()
      .filter((t) => t.kind === 'problem')
      .map((t) => t.enteredMalformed);
    expect(seen).toEqual(entered);
  });
});
