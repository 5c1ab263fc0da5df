// SIGTERM, as the kubelet sends it when the controller resets a slot to the placeholder
// image: a slot that does not serve must exit promptly and cleanly, so the restart is not
// held up by the termination grace period (30 s by default), and the serving slot must not
// notice. A slot that serves alone finishes its requests and exits.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NO_LOSS, Pod, lossSummary, moreAnswers, servingNames, startServing, upgrade } from './harness.ts';

/** Well under the kubelet's default grace period, well over what a clean stop needs. */
const STOP_WITHIN_MS = 8_000;

let pod: Pod;
beforeEach(async () => {
  pod = await Pod.create();
});
afterEach(async () => {
  await pod.cleanup();
});

describe('stop on SIGTERM', () => {
  it('an idle predecessor and a waiting standby exit with status 0 at once; the serving slot keeps serving', async () => {
    const a = await startServing(pod, { slot: 'a', version: 'v1' });
    await upgrade(pod, a, { slot: 'b', version: 'v2' });
    const c = pod.start({ slot: 'c', version: 'v3', env: { HOTUPGRADE_ACTIVE_SLOT: 'b' } });
    await pod.waitForState(c, 'waiting');
    const load = pod.load();
    await moreAnswers(load, 30);

    a.signal('SIGTERM');
    c.signal('SIGTERM');
    const [aExit, cExit] = await Promise.all([
      a.waitExit(STOP_WITHIN_MS).catch((e: Error) => e.message),
      c.waitExit(STOP_WITHIN_MS).catch((e: Error) => e.message),
    ]);
    await moreAnswers(load, 30);
    const report = await load.stop();

    expect({ idlePredecessor: aExit, waitingStandby: cExit }).toEqual({
      idlePredecessor: { code: 0, signal: null },
      waitingStandby: { code: 0, signal: null },
    });
    expect(lossSummary(report)).toEqual(NO_LOSS);
    expect(servingNames(pod)).toEqual(['b']);
  });

  it('a slot serving alone answers what it has and exits with status 0', async () => {
    const a = await startServing(pod, { slot: 'a', version: 'v1' });
    const v = await pod.get('/version');
    expect(v.status).toBe(200);
    a.signal('SIGTERM');
    expect(await a.waitExit(STOP_WITHIN_MS)).toEqual({ code: 0, signal: null });
    const view = pod.volume();
    expect(view.lockHeld).toBe(false);
    expect(view.slots.find((s) => s.slot === 'a')?.file?.state).toBe('stopped');
  });
});
