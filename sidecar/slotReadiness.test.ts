import { describe, expect, it } from 'vitest';
import type { VolumeView } from '../sdk/volume.ts';
import { broken, live, makeFile, makeView } from './fixtures.ts';
import { invalidSlot, isSlotName, slotReadiness } from './slotReadiness.ts';

const a1 = makeFile({ slot: 'a', version: 'v1', state: 'serving' });
const b = (p: Parameters<typeof makeFile>[0]) => makeFile({ slot: 'b', version: 'v2', ...p });
const placeholder = b({ version: 'placeholder', state: 'placeholder', role: 'standby' });
const stagedV2 = b({ mode: 'binary', state: 'staged', role: 'standby' });
const a1binary = { ...a1, mode: 'binary' as const };

describe('slotReadiness', () => {
  it.each<[string, VolumeView, string, { state: string; version: string }]>([
    [
      'the slot serves and the active lock is held',
      makeView(true, live(a1)),
      'a',
      { state: 'serving', version: 'v1' },
    ],
    [
      'the slot drains for its successor',
      makeView(true, live({ ...a1, state: 'draining', successor: 'b' }), live(b({ state: 'waiting' }))),
      'a',
      { state: 'draining', version: 'v1' },
    ],
    [
      'the slot handed over and guards its successor',
      makeView(true, live({ ...a1, state: 'idle' }), live(b({ state: 'serving' }))),
      'a',
      { state: 'idle', version: 'v1' },
    ],
    [
      'the placeholder program runs in the slot',
      makeView(true, live(a1), live(placeholder)),
      'b',
      { state: 'placeholder', version: 'placeholder' },
    ],
    [
      'the placeholder runs while nobody serves (a slot is judged alone)',
      makeView(false, live(placeholder)),
      'b',
      { state: 'placeholder', version: 'placeholder' },
    ],
    [
      'the slot staged the version the active slot now runs (binary mode)',
      makeView(true, live({ ...a1binary, runningVersion: 'v2' }), live(stagedV2)),
      'b',
      { state: 'staged', version: 'v2' },
    ],
    [
      'the active slot runs a staged version (binary mode)',
      makeView(true, live({ ...a1binary, runningVersion: 'v2' })),
      'a',
      { state: 'serving', version: 'v2' },
    ],
  ])('is ready when %s', (_t, view, slot, want) => {
    expect(slotReadiness(view, slot)).toEqual({ ready: true, slot, ...want });
  });

  it.each<[string, VolumeView, string, string | null, string]>([
    [
      'its version waits for the active lock as the successor',
      makeView(true, live(a1), live(b({ state: 'waiting', role: 'successor' }))),
      'b',
      'waiting',
      'slot "b": version v2 is waiting for the active lock (handover in progress)',
    ],
    [
      'its version waits as a standby',
      makeView(true, live(a1), live(b({ state: 'waiting', role: 'standby' }))),
      'b',
      'waiting',
      'waiting for the active lock as a standby (HOTUPGRADE_ACTIVE_SLOT names another slot',
    ],
    [
      'its version is starting',
      makeView(true, live(a1), live(b({ state: 'starting' }))),
      'b',
      'starting',
      'slot "b": version v2 is starting (it has not announced itself yet)',
    ],
    [
      'its version is staging (binary mode)',
      makeView(true, live(a1binary), live(b({ mode: 'binary', state: 'staging' }))),
      'b',
      'staging',
      'slot "b": version v2 is copying its files into the shared volume (staging)',
    ],
    [
      'its version staged but the active slot has not switched to it yet',
      makeView(true, live(a1binary), live(stagedV2)),
      'b',
      'staged',
      'slot "b": version v2 is staged; waiting for the active slot "a" to switch to it (it runs v1)',
    ],
    [
      'its version staged and nobody serves',
      makeView(false, live(stagedV2)),
      'b',
      'staged',
      'slot "b": version v2 is staged, but no slot serves to switch to it',
    ],
    [
      'its version failed',
      makeView(true, live(a1), live(b({ state: 'failed', error: 'handover deadline of 60000 ms passed' }))),
      'b',
      'failed',
      'slot "b": version v2 failed: handover deadline of 60000 ms passed',
    ],
    [
      'its process is stopping',
      makeView(true, live(a1), live(b({ state: 'stopped' }))),
      'b',
      'stopped',
      'slot "b": version v2 has stopped (its process is exiting)',
    ],
    [
      'its file says serving but nobody holds the active lock',
      makeView(false, live(a1)),
      'a',
      'serving',
      'slot "a": version v1 says serving but nobody holds the active lock',
    ],
    [
      'its process died serving',
      makeView(false, live(a1, false)),
      'a',
      null,
      'slot "a": no live process (the container is starting, or its process died; last state serving, version v1)',
    ],
    [
      'the placeholder was killed',
      makeView(true, live(a1), live(placeholder, false)),
      'b',
      null,
      'slot "b": no live process (the container is starting, or its process died; last state placeholder',
    ],
    [
      'the slot has no files at all',
      makeView(true, live(a1)),
      'b',
      null,
      'slot "b": no live process (the container is starting, or its process died)',
    ],
    [
      'a live process has not written its version file',
      makeView(true, live(a1), broken('b', 'no version file yet')),
      'b',
      null,
      'slot "b": a live process has not written its version file yet',
    ],
    [
      'its version file is malformed',
      makeView(true, live(a1), broken('b', 'malformed version file: file is empty')),
      'b',
      null,
      'slot "b": malformed version file: file is empty; it is ignored until its process writes a valid one',
    ],
  ])('is not ready when %s, and says why', (_t, view, slot, state, reason) => {
    const r = slotReadiness(view, slot);
    expect(r).toMatchObject({ ready: false, slot, state });
    expect(r.reason).toContain(reason);
  });

  it.each([
    ['a', true],
    ['b-2', true],
    ['B', false],
    ['a.b', false],
    ['-a', false],
    ['x'.repeat(33), false],
  ])('judges whether %j is a slot name: %s', (name, ok) => {
    expect(isSlotName(name)).toBe(ok);
  });

  it('explains a path that names no slot', () => {
    expect(invalidSlot('A')).toMatchObject({ ready: false, slot: 'A', state: null, version: null });
    expect(invalidSlot('A').reason).toContain('"A" is not a slot name');
  });
});
