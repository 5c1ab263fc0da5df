import { describe, expect, it } from 'vitest';
import { findSuccessor, summarize } from './handover.ts';
import { makeFile } from './fixtures.ts';
import type { SlotView, VolumeView } from './volume.ts';
import type { VersionFile } from './versionFile.ts';

const slot = (over: Partial<VersionFile>, alive = true): SlotView => ({
  slot: over.slot ?? 'a',
  alive,
  file: makeFile(over),
});
const view = (lockHeld: boolean, ...slots: SlotView[]): VolumeView => ({ lockHeld, slots });

describe('findSuccessor', () => {
  const me = makeFile({ slot: 'a', state: 'serving' });
  it.each([
    ['a live waiting successor is found', view(true, slot({ slot: 'b', state: 'waiting' })), 'b'],
    ['a dead one is ignored', view(true, slot({ slot: 'b', state: 'waiting' }, false)), undefined],
    ['a standby is ignored', view(true, slot({ slot: 'b', state: 'waiting', role: 'standby' })), undefined],
    ['a failed one is ignored', view(true, slot({ slot: 'b', state: 'failed' })), undefined],
    ['our own slot is never our successor', view(true, slot({ slot: 'a', state: 'waiting' })), undefined],
    [
      'a live placeholder is not a successor, whatever its role',
      view(true, slot({ slot: 'b', state: 'placeholder', role: 'successor' })),
      undefined,
    ],
  ])('%s', (_t, v, want) => {
    expect(findSuccessor(me, v)?.slot).toBe(want);
  });

  it('a rejected slot@version is not handed over to again', () => {
    const v = view(true, slot({ slot: 'b', version: 'v2', state: 'waiting' }));
    expect(findSuccessor({ ...me, rejected: ['b@v2'] }, v)).toBeUndefined();
    expect(findSuccessor({ ...me, rejected: ['b@v1'] }, v)?.slot).toBe('b');
  });
});

describe('summarize: what the sidecar reports', () => {
  it.each([
    [
      'one slot serving',
      view(true, slot({ slot: 'a', state: 'serving' })),
      { serving: true, activeSlot: 'a', phase: 'none' },
    ],
    [
      'a successor announced',
      view(true, slot({ slot: 'a', state: 'serving' }), slot({ slot: 'b', state: 'waiting', version: 'v2' })),
      { serving: true, activeSlot: 'a', phase: 'announced', successorSlot: 'b' },
    ],
    [
      'the old one draining still serves',
      view(
        true,
        slot({ slot: 'a', state: 'draining', successor: 'b' }),
        slot({ slot: 'b', state: 'waiting' }),
      ),
      { serving: true, activeSlot: 'a', phase: 'draining', successorSlot: 'b' },
    ],
    [
      'between release and takeover',
      view(false, slot({ slot: 'a', state: 'idle' }), slot({ slot: 'b', state: 'waiting' })),
      { serving: false, phase: 'takeover' },
    ],
    [
      'a dead server does not serve, whatever its file says',
      view(false, slot({ slot: 'a', state: 'serving' }, false)),
      { serving: false, phase: 'unserved' },
    ],
    [
      'a held lock without a serving file is not serving',
      view(true, slot({ slot: 'a', state: 'starting' })),
      { serving: false },
    ],
    [
      'a placeholder beside the serving slot announces no handover',
      view(
        true,
        slot({ slot: 'a', state: 'serving' }),
        slot({ slot: 'b', state: 'placeholder', role: 'standby' }),
      ),
      { serving: true, activeSlot: 'a', phase: 'none', successorSlot: null },
    ],
    [
      'a placeholder alone does not serve and is not about to',
      view(false, slot({ slot: 'b', state: 'placeholder', role: 'standby' })),
      { serving: false, activeSlot: null, phase: 'unserved', successorSlot: null },
    ],
    [
      'binary mode reports the version the launcher runs',
      view(true, slot({ slot: 'a', state: 'serving', version: 'v1', runningVersion: 'v2' })),
      { serving: true, activeVersion: 'v2' },
    ],
  ])('%s', (_t, v, want) => {
    expect(summarize(v)).toMatchObject(want);
  });
});
