import { describe, expect, it } from 'vitest';
import { summarize } from '../sdk/handover.ts';
import type { VolumeView } from '../sdk/volume.ts';
import { broken, live, makeFile, makeView } from './fixtures.ts';
import { readiness } from './readiness.ts';

const check = (view: VolumeView) => readiness(view, summarize(view), '/hotupgrade');
const a1 = makeFile({ slot: 'a', version: 'v1' });
const b2 = makeFile({ slot: 'b', version: 'v2', state: 'waiting', role: 'successor' });

describe('readiness', () => {
  it.each<[string, VolumeView, string]>([
    ['a slot serves', makeView(true, live(a1)), 'none'],
    ['a successor waits while the active slot serves', makeView(true, live(a1), live(b2)), 'announced'],
    [
      'a placeholder runs beside the active slot',
      makeView(true, live(a1), live(makeFile({ slot: 'b', state: 'placeholder', role: 'standby' }))),
      'none',
    ],
    [
      'the active slot drains for a successor',
      makeView(true, live({ ...a1, state: 'draining', successor: 'b' }), live(b2)),
      'draining',
    ],
  ])('is ready when %s', (_t, view, phase) => {
    expect(check(view)).toMatchObject({ ready: true, activeSlot: 'a', activeVersion: 'v1', phase });
  });

  it('stays ready between release and takeover while the successor already accepts (and holds) connections', () => {
    const view = makeView(false, live({ ...a1, state: 'idle' }), live({ ...b2, listeningAtMs: 5 }));
    expect(check(view)).toMatchObject({
      ready: true,
      activeSlot: 'b',
      activeVersion: 'v2',
      phase: 'takeover',
    });
  });

  it.each<[string, VolumeView, string[]]>([
    ['no slot has started', makeView(false), ['no slot has started', '/hotupgrade/slots']],
    [
      'nobody holds the lock',
      makeView(false, live({ ...a1, state: 'failed', error: 'boom' })),
      ['nobody holds the active lock', 'slot "a": failed, version v1: boom'],
    ],
    [
      'only a placeholder runs',
      makeView(false, live(makeFile({ slot: 'b', version: 'placeholder', state: 'placeholder' }))),
      ['nobody holds the active lock', 'slot "b": placeholder (idle, never serves)'],
    ],
    [
      'the serving process is dead',
      makeView(false, live(a1, false)),
      ['nobody holds the active lock', 'slot "a": process gone (last state serving, version v1)'],
    ],
    [
      "the holder's file is malformed",
      makeView(true, broken('a', 'malformed version file: file is empty')),
      [
        'the active lock is held, but no live slot says it serves',
        'slot "a": malformed version file: file is empty',
      ],
    ],
    [
      'the lock is between release and takeover and the successor does not listen yet',
      makeView(false, live({ ...a1, state: 'idle' }), live(b2)),
      ['handover in progress', 'slot "b" is taking it'],
    ],
  ])('is not ready when %s, and says why', (_t, view, phrases) => {
    const r = check(view);
    expect(r.ready).toBe(false);
    if (r.ready) return;
    for (const p of phrases) expect(r.reason).toContain(p);
  });
});
