// Both slots restarted at once (the node rebooted the containers, or both crashed): when
// they come back exactly one serves, and the sessions' state survives because the shared
// memory directory outlives the processes.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { continueFrom } from '../../demo/loadgen.ts';
import {
  NO_LOSS,
  Pod,
  lossSummary,
  moreAnswers,
  servingSlots,
  startServing,
  waitFor,
  upgrade,
} from './harness.ts';

let pod: Pod;
beforeEach(async () => {
  pod = await Pod.create();
});
afterEach(async () => {
  await pod.cleanup();
});

describe('both slots restarted', () => {
  it('exactly one slot serves afterwards, never two, and every session continues from before', async () => {
    const a = await startServing(pod, { slot: 'a', version: 'v1' });
    const b = await upgrade(pod, a, { slot: 'b', version: 'v2' });
    const before = pod.load();
    await moreAnswers(before, 100);
    const first = await before.stop();
    expect(lossSummary(first)).toEqual(NO_LOSS);

    await Promise.all([a.kill(), b.kill()]);
    expect(pod.volume().lockHeld).toBe(false);

    // The pod's active-slot annotation names b; both come back at the same moment.
    const env = { HOTUPGRADE_ACTIVE_SLOT: 'b' };
    const a2 = pod.start({ slot: 'a', version: 'v1', env });
    const b2 = pod.start({ slot: 'b', version: 'v2', env });
    expect(b2.running).toBe(true);
    // Whichever takes the lock first, the settled pod has b (the annotated active slot)
    // serving and a standing by (waiting, or idle if it served first and handed over);
    // at no moment do two slots say they serve.
    let mostServing = 0;
    const settled = await waitFor(
      'b serving and a standing by',
      () => {
        const view = pod.volume();
        mostServing = Math.max(
          mostServing,
          view.slots.filter((s) => s.alive && s.file?.state === 'serving').length,
        );
        const serving = servingSlots(view);
        const standby = pod.fileOf(a2, view);
        const ok =
          view.lockHeld &&
          serving.length === 1 &&
          serving[0]?.file?.state === 'serving' &&
          (standby?.state === 'waiting' || standby?.state === 'idle');
        return ok ? serving[0] : undefined;
      },
      30_000,
      () => pod.describe(),
    );
    expect(mostServing).toBe(1);
    expect(settled.slot).toBe('b');

    const after = pod.load(continueFrom(first));
    await moreAnswers(after, 100);
    const report = await after.stop();
    expect(lossSummary(report)).toEqual(NO_LOSS);
    expect(report.sessionsSeen).toBe(first.sessionsSeen);
  });
});
