// A new version that crashes: before it announces, while it waits, while the old slot
// drains toward it, or right after it took the lock. In every case the old version keeps
// (or takes back) the lock and serves, and the sessions' state is kept. Requests can only
// fail where a process is killed while it holds them; the scenarios say which.
import fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { continueFrom } from '../../demo/loadgen.ts';
import { readVersionFile, slotFilePath } from '../../sdk/versionFile.ts';
import { isSlotAlive } from '../../sdk/volume.ts';
import {
  NO_LOSS,
  Pod,
  lossSummary,
  moreAnswers,
  servingNames,
  startServing,
  pollState,
  waitFor,
  type SlotProcess,
  upgrade,
} from './harness.ts';

let pod: Pod;
beforeEach(async () => {
  pod = await Pod.create();
});
afterEach(async () => {
  await pod.cleanup();
});

/** Time given to the old slot to take back or resume: far below the drain timeout the scenario sets. */
const RECOVER_WITHIN_MS = 10_000;

describe('new version crashes', () => {
  it.each([
    { name: 'exits with status 1 at once', spec: { cmd: [process.execPath, '-e', 'process.exit(1)'] } },
    {
      name: 'rejects its configuration (a bad handover deadline)',
      spec: { env: { HOTUPGRADE_HANDOVER_DEADLINE_MS: 'soon' } },
    },
  ])(
    'before announcing ($name): the old version serves on, and a good successor later takes over',
    async ({ spec }) => {
      const a = await startServing(pod, { slot: 'a', version: 'v1' });
      const load = pod.load();
      await moreAnswers(load, 30);

      const bad = pod.start({ slot: 'b', version: 'v2', ...spec });
      const exit = await bad.waitExit(15_000);
      expect(exit.code).not.toBe(0);
      await moreAnswers(load, 30);
      expect(servingNames(pod)).toEqual(['a']);
      expect(pod.volume().lockHeld).toBe(true);

      await upgrade(pod, a, { slot: 'b', version: 'v2' });
      await moreAnswers(load, 30);
      expect(lossSummary(await load.stop())).toEqual(NO_LOSS);
    },
  );

  it('while waiting as a standby (kill -9): nothing changes for clients; a successor later takes over', async () => {
    const a = await startServing(pod, { slot: 'a', version: 'v1' });
    const load = pod.load();
    // The pod's active-slot annotation still names a: b announces but must not be handed over to.
    const standby = pod.start({ slot: 'b', version: 'v2', env: { HOTUPGRADE_ACTIVE_SLOT: 'a' } });
    const f = await pod.waitForState(standby, 'waiting');
    expect(f.role).toBe('standby');
    await moreAnswers(load, 50);
    expect(servingNames(pod)).toEqual(['a']);
    expect(pod.fileOf(a)?.state).toBe('serving');

    await standby.kill();
    await moreAnswers(load, 30);
    expect(servingNames(pod)).toEqual(['a']);

    const b = pod.start({ slot: 'b', version: 'v2', env: { HOTUPGRADE_ACTIVE_SLOT: 'b' } });
    await pod.waitForState(b, 'serving');
    await moreAnswers(load, 30);
    expect(lossSummary(await load.stop())).toEqual(NO_LOSS);
  });

  it('while the old version drains toward it (kill -9): the old version serves again at once, state kept', async () => {
    const a = await startServing(pod, {
      slot: 'a',
      version: 'v1',
      env: { HOTUPGRADE_DRAIN_TIMEOUT_MS: '30000' },
    });
    const load = pod.load();
    await moreAnswers(load, 30);
    const b = pod.start({ slot: 'b', version: 'v2' });
    // A drain lasts milliseconds: kill b the moment a says it drains toward b.
    const seen = await pollState(pod.dir, 'a', (s) => s === 'draining' || s === 'idle', 20_000);
    await b.kill();
    const killedAt = Date.now();
    await pod.waitForState(a, 'serving', RECOVER_WITHIN_MS);
    expect(Date.now() - killedAt).toBeLessThan(RECOVER_WITHIN_MS);
    expect(seen).toBe('draining');
    // Requests b held when it died are lost with it; nothing after, and no session goes back.
    const during = await load.stop();
    expect(during.sessionsLost).toBe(0);
    const after = pod.load(continueFrom(during));
    await moreAnswers(after, 100);
    const report = await after.stop();
    expect(lossSummary(report)).toEqual(NO_LOSS);
    expect(report.versions).toEqual({ v1: report.ok });
    expect(pod.volume().lockHeld).toBe(true);
    expect(servingNames(pod)).toEqual(['a']);
  });

  it('right after taking the lock (kill -9): the old version takes the lock back, keeps the state and rejects that version', async () => {
    const a = await startServing(pod, {
      slot: 'a',
      version: 'v1',
      env: { HOTUPGRADE_PROBATION_MS: '60000' },
    });
    const load = pod.load();
    await moreAnswers(load, 30);
    const b = pod.start({ slot: 'b', version: 'v2' });
    await pod.waitForState(b, 'serving');
    await b.kill();
    const aFile = await pod.waitForState(a, 'serving', RECOVER_WITHIN_MS);
    expect(aFile.rejected).toContain('b@v2');
    const during = await load.stop();
    expect(during.sessionsLost).toBe(0);
    expect(during.versions.v2 ?? 0).toBeGreaterThanOrEqual(0);

    // From now on nothing fails: the same version again is refused (it stays a standby
    // after its deadline), and another version is taken.
    const after = pod.load(continueFrom(during));
    await moreAnswers(after, 30);
    const again = pod.start({ slot: 'b', version: 'v2', env: { HOTUPGRADE_HANDOVER_DEADLINE_MS: '2000' } });
    const failed = await pod.waitForState(again, 'failed');
    expect(failed.error).toBeTruthy();
    expect(servingNames(pod)).toEqual(['a']);
    await again.kill();

    const v3 = pod.start({ slot: 'b', version: 'v3' });
    await pod.waitForState(v3, 'serving');
    await moreAnswers(after, 30);
    const report = await after.stop();
    expect(lossSummary(report)).toEqual(NO_LOSS);
    expect(report.versions.v2).toBeUndefined();
    expect(report.versions.v3).toBeGreaterThan(0);
  });

  // A restarted process must replace its dead predecessor's version file before it takes
  // the slot's liveness lock: otherwise, for a moment, the dead process's "waiting,
  // successor" file looks alive and the serving slot may start a handover toward a
  // process that no longer exists (and wait for it until the handover deadline). The test
  // polls the liveness lock without sleeping and freezes b the moment it is alive, to look
  // at the file in that instant; then it checks the handover happens promptly.
  it('after it crashed while waiting and restarts (its old version file left behind): the handover happens promptly', async () => {
    const a = await startServing(pod, { slot: 'a', version: 'v1' });
    const load = pod.load({ timeoutMs: 30_000 });
    await moreAnswers(load, 30);
    // Freeze a so that b stays `waiting`, crash b there, thaw a: b's file now says
    // "waiting, successor" for a process that is gone, as after a crash in a real pod
    // (the emptyDir outlives the container).
    a.signal('SIGSTOP');
    try {
      const first = pod.start({ slot: 'b', version: 'v2' });
      await pod.waitForState(first, 'waiting');
      await first.kill();
    } finally {
      a.signal('SIGCONT');
    }
    await moreAnswers(load, 30);
    const stale = fs.readFileSync(slotFilePath(pod.dir, 'b'));
    expect(pod.volume().slots.find((s) => s.slot === 'b')).toMatchObject({
      alive: false,
      file: { state: 'waiting' },
    });
    expect(servingNames(pod)).toEqual(['a']);

    let b: SlotProcess | undefined;
    let caught = false;
    for (let attempt = 0; attempt < 3 && !caught; attempt++) {
      if (b) {
        await b.kill();
        fs.writeFileSync(slotFilePath(pod.dir, 'b'), stale);
      }
      b = pod.start({ slot: 'b', version: 'v2' });
      caught = await stopWhenAlive(pod.dir, 'b', b, 15_000);
    }
    if (!b) throw new Error('unreachable');
    // Give a the time to look (its backstop re-scan is 1 s); not falling for it is fine too.
    await waitFor('a to react', () => pod.fileOf(a)?.state === 'draining', 2_500).catch(() => undefined);
    b.signal('SIGCONT');
    expect(
      caught,
      "the restarted b was alive while its dead predecessor's version file was still in place",
    ).toBe(false);

    // The restarted b must be handed over to well before any deadline (60 s by default).
    await pod.waitForState(b, 'serving', 15_000);
    await moreAnswers(load, 30);
    expect(lossSummary(await load.stop())).toEqual(NO_LOSS);
  });
});

/**
 * Polls `slot`'s liveness lock as fast as the event loop allows and freezes `p` the moment
 * it is alive; true when its version file was still the old one then (caught in between).
 */
async function stopWhenAlive(dir: string, slot: string, p: SlotProcess, timeoutMs: number): Promise<boolean> {
  const before = readVersionFile(dir, slot);
  const oldInstance = before.kind === 'ok' ? before.file.instance : undefined;
  const end = Date.now() + timeoutMs;
  while (Date.now() < end && p.running) {
    if (isSlotAlive(dir, slot)) {
      p.signal('SIGSTOP');
      const now = readVersionFile(dir, slot);
      return now.kind === 'ok' && now.file.instance === oldInstance;
    }
    await new Promise((r) => setImmediate(r));
  }
  return false;
}
