// The old version never hands over (here: it is frozen with SIGSTOP, as a wedged process
// would be). The successor must give up at its handover deadline and stay a standby
// (`failed`), never serve beside the old one; once the old one runs again it serves on and
// the requests it had queued are answered, nothing lost.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NO_LOSS, Pod, lossSummary, moreAnswers, servingNames, startServing } from './harness.ts';

let pod: Pod;
beforeEach(async () => {
  pod = await Pod.create();
});
afterEach(async () => {
  await pod.cleanup();
});

describe('handover deadline', () => {
  it('a successor that never gets the lock goes failed; the old version serves on after SIGCONT, nothing lost', async () => {
    const a = await startServing(pod, { slot: 'a', version: 'v1' });
    // Requests wait in the kernel's queue while a is frozen: the timeout must outlast the freeze.
    const load = pod.load({ timeoutMs: 30_000 });
    await moreAnswers(load, 30);

    a.signal('SIGSTOP');
    try {
      const b = pod.start({ slot: 'b', version: 'v2', env: { HOTUPGRADE_HANDOVER_DEADLINE_MS: '1500' } });
      const failed = await pod.waitForState(b, 'failed');
      expect(failed.error).toBeTruthy();
      const view = pod.volume();
      expect(view.lockHeld).toBe(true);
      expect(view.slots.find((s) => s.slot === 'b')?.alive).toBe(true);
    } finally {
      a.signal('SIGCONT');
    }
    await moreAnswers(load, 100);
    const report = await load.stop();

    expect(lossSummary(report)).toEqual(NO_LOSS);
    expect(report.versions).toEqual({ v1: report.ok });
    expect(servingNames(pod)).toEqual(['a']);
    expect(pod.fileOf(a)?.state).toBe('serving');
    expect(pod.volume().slots.find((s) => s.slot === 'b')?.file?.state).toBe('failed');
  });
});
