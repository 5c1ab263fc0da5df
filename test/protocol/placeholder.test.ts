// The placeholder announces itself, and slot readiness (the sidecar's
// GET /v1/slots/<slot>/ready, the readiness probe of each slot container) tells the
// controller when an upgrade is done. Readiness is judged here with the sidecar's pure
// function on the same view of the volume the sidecar reads, as often as the event loop
// allows: what the kubelet would see if it probed at that instant.
//
// The placeholder is HOTUPGRADE_CONFORMANCE_PLACEHOLDER_CMD (cli: --placeholder-cmd), by
// default this repository's placeholder/main.ts; the slot program is the suite's.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { slotReadiness, type SlotReadiness } from '../../sidecar/slotReadiness.ts';
import type { SlotState } from '../../sdk/versionFile.ts';
import {
  NO_LOSS,
  Pod,
  lossSummary,
  moreAnswers,
  placeholderCommand,
  servingNames,
  sleep,
  startServing,
  type SlotProcess,
} from './harness.ts';

let pod: Pod;
beforeEach(async () => {
  pod = await Pod.create();
});
afterEach(async () => {
  await pod.cleanup();
});

/** What the kubelet's probe of `slot` would answer now. */
const readiness = (slot: string): SlotReadiness => slotReadiness(pod.volume(), slot);

/**
 * The placeholder container of `slot`, as the controller builds it: the pod's env with
 * HOTUPGRADE_VERSION "" (the annotation of the placeholder slot).
 */
function startPlaceholder(slot: string, activeSlot: string): SlotProcess {
  return pod.start({
    slot,
    version: '',
    cmd: placeholderCommand(),
    env: { HOTUPGRADE_ACTIVE_SLOT: activeSlot },
  });
}

interface Sample {
  /** Slot b's state in the volume, whoever wrote it (the stopped placeholder, then the new version). */
  b: SlotState | null;
  bReady: boolean;
  a: SlotState | null;
  aReady: boolean;
}

/** Samples both slots' readiness, yielding to I/O between looks, until `done` holds (bounded). */
async function sampleUntil(done: (s: Sample) => boolean, timeoutMs: number): Promise<Sample[]> {
  const out: Sample[] = [];
  const end = Date.now() + timeoutMs;
  for (;;) {
    const view = pod.volume();
    const a = slotReadiness(view, 'a');
    const b = slotReadiness(view, 'b');
    const s = { b: b.state, bReady: b.ready, a: a.state, aReady: a.ready };
    out.push(s);
    if (done(s)) return out;
    if (Date.now() > end) {
      throw new Error(`timed out after ${timeoutMs} ms; last sample ${JSON.stringify(s)}\n${pod.describe()}`);
    }
    await new Promise((r) => setImmediate(r));
  }
}

describe('the placeholder and slot readiness', () => {
  it('announces the placeholder (ready), then an upgrade: b not ready until it serves, a ready throughout; nothing lost', async () => {
    const a = await startServing(pod, { slot: 'a', version: 'v1', env: { HOTUPGRADE_ACTIVE_SLOT: 'a' } });
    const placeholder = startPlaceholder('b', 'a');
    const announced = await pod.waitForState(placeholder, 'placeholder');
    expect(announced).toMatchObject({
      protocol: 1,
      slot: 'b',
      version: 'placeholder',
      mode: 'slot',
      state: 'placeholder',
      role: 'standby',
    });
    expect(readiness('b')).toEqual({ ready: true, slot: 'b', state: 'placeholder', version: 'placeholder' });
    expect(readiness('a')).toEqual({ ready: true, slot: 'a', state: 'serving', version: 'v1' });
    expect(servingNames(pod)).toEqual(['a']);
    const load = pod.load();
    await moreAnswers(load, 30);
    // The serving slot was notified of the placeholder's file and did not take it for a successor.
    const aFile = pod.fileOf(a);
    expect(aFile?.state).toBe('serving');
    expect(aFile?.successor).toBeUndefined();

    // The controller patches b to v2: the kubelet stops the placeholder, then starts v2.
    expect(await placeholder.reset()).toEqual({ code: 0, signal: null });
    expect(pod.volume().slots.find((s) => s.slot === 'b')?.file?.state).toBe('stopped');
    expect(readiness('b')).toMatchObject({ ready: false, state: null });
    expect(readiness('b').reason).toContain('slot "b": no live process');

    // A slow request in flight on a makes its drain, and so b's wait, last long enough to
    // be seen (GET /slow/<ms> is optional in the slot program's API, see drainKill.test.ts).
    const slowSupported = (await pod.get('/slow/1')).status === 200;
    const slow = slowSupported ? pod.get('/slow/1500', 15_000) : Promise.resolve(undefined);
    await moreAnswers(load, 10);
    const b = pod.start({ slot: 'b', version: 'v2', env: { HOTUPGRADE_ACTIVE_SLOT: 'b' } });
    const samples = await sampleUntil((s) => s.b === 'serving' && s.bReady, 20_000);
    await slow;

    expect(samples.filter((s) => s.bReady && s.b !== 'serving')).toEqual([]);
    expect(samples.filter((s) => !s.aReady)).toEqual([]);
    if (slowSupported) expect(samples.some((s) => s.b === 'waiting' && !s.bReady)).toBe(true);
    await pod.waitForState(a, 'idle');
    expect(readiness('b')).toEqual({ ready: true, slot: 'b', state: 'serving', version: 'v2' });
    expect(readiness('a')).toEqual({ ready: true, slot: 'a', state: 'idle', version: 'v1' });
    await moreAnswers(load, 30);

    // The controller resets a to the placeholder: it announces itself in a.
    await a.reset();
    const back = startPlaceholder('a', 'b');
    await pod.waitForState(back, 'placeholder');
    expect(readiness('a')).toMatchObject({ ready: true, state: 'placeholder' });
    await moreAnswers(load, 30);
    expect(lossSummary(await load.stop())).toEqual(NO_LOSS);
    expect(servingNames(pod)).toEqual(['b']);
    expect(b.running).toBe(true);
  });

  it('a placeholder killed with SIGKILL leaves its slot not ready (no live process); the active slot serves on', async () => {
    await startServing(pod, { slot: 'a', version: 'v1', env: { HOTUPGRADE_ACTIVE_SLOT: 'a' } });
    const placeholder = startPlaceholder('b', 'a');
    await pod.waitForState(placeholder, 'placeholder');
    const load = pod.load();
    await moreAnswers(load, 20);

    await placeholder.kill();
    const r = readiness('b');
    expect(r).toMatchObject({ ready: false, slot: 'b', state: null, version: null });
    expect(r.reason).toContain('slot "b": no live process');
    expect(r.reason).toContain('last state placeholder');
    expect(readiness('a')).toMatchObject({ ready: true, state: 'serving' });

    // The kubelet restarts the container: a new placeholder announces itself again.
    const again = startPlaceholder('b', 'a');
    const file = await pod.waitForState(again, 'placeholder');
    expect(file.instance).not.toBe(placeholder.previousInstance);
    expect(readiness('b')).toMatchObject({ ready: true, state: 'placeholder' });
    await moreAnswers(load, 20);
    expect(lossSummary(await load.stop())).toEqual(NO_LOSS);
  });

  it('a placeholder started in a slot that a live process holds leaves it alone and stays up', async () => {
    const a = await startServing(pod, { slot: 'a', version: 'v1' });
    const before = pod.fileOf(a);
    const intruder = startPlaceholder('a', 'a');
    // Nothing to wait for but time (it says nothing in the volume): it must write nothing and must not exit.
    await sleep(1_500);
    expect(intruder.running).toBe(true);
    expect(pod.fileOf(a)).toEqual(before);
    expect(readiness('a')).toMatchObject({ ready: true, state: 'serving', version: 'v1' });
    expect(await intruder.reset()).toEqual({ code: 0, signal: null });
    expect(pod.fileOf(a)).toEqual(before);
  });
});
