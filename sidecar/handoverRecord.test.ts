import { describe, expect, it } from 'vitest';
import { isHandoverRecord, latestHandover, lockWaitMs } from './handoverRecord.ts';
import { live, makeFile, makeHandover, makeView } from './fixtures.ts';

describe('isHandoverRecord', () => {
  it.each<[string, unknown, boolean]>([
    ['a complete record', makeHandover(), true],
    ['null', null, false],
    ['a duration that is a string', { ...makeHandover(), totalMs: '35' }, false],
    ['a negative duration', { ...makeHandover(), drainMs: -1 }, false],
    ['an end without a version', { ...makeHandover(), to: { slot: 'b' } }, false],
    ['no atMs', { ...makeHandover(), atMs: undefined }, false],
  ])('%s -> %s', (_t, v, ok) => expect(isHandoverRecord(v)).toBe(ok));
});

describe('latestHandover', () => {
  it('picks the most recent well-formed record of any slot, dead or alive', () => {
    const old = makeHandover({ atMs: 1 });
    const recent = makeHandover({
      atMs: 2,
      from: { slot: 'b', version: 'v2' },
      to: { slot: 'a', version: 'v3' },
    });
    const view = makeView(
      true,
      live(makeFile({ slot: 'a', handover: recent }), false),
      live(makeFile({ slot: 'b', handover: old })),
    );
    expect(latestHandover(view)).toEqual(recent);
  });
  it('ignores a record with wrong types', () => {
    const bad = { ...makeHandover(), atMs: 'soon' } as unknown as ReturnType<typeof makeHandover>;
    expect(latestHandover(makeView(true, live(makeFile({ handover: bad }))))).toBeUndefined();
  });
});

describe('lockWaitMs', () => {
  it.each<[string, number | undefined, number | undefined, number | undefined]>([
    ['announced and acquired', 100, 150, 50],
    ['never announced (took the lock at start)', undefined, 150, undefined],
    ['acquired before announcing (clock step)', 200, 150, undefined],
  ])('%s -> %s', (_t, announcedAtMs, lockAcquiredAtMs, want) => {
    expect(lockWaitMs(makeFile({ announcedAtMs, lockAcquiredAtMs }))).toBe(want);
  });
});
