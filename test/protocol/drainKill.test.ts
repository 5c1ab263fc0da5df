// The old version is killed (kill -9) while it drains: the kernel releases its lock and
// the successor takes over at once — not at the end of the old version's drain timeout
// (set to a minute here) — with the state kept.
//
// A drain of the reference implementation lasts milliseconds (it waits for the successor
// to listen and for the requests in flight), so the test keeps one slow request in flight
// on a (`GET /slow/<ms>`, optional in the slot program's API: without it the drain is a
// race the poll below may lose) and kills a the moment its version file says `draining`.
// Requests a was answering at that moment die with it; the test allows those (bounded by
// the requests in flight) and requires nothing lost afterwards.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { continueFrom } from '../../demo/loadgen.ts';
import { NO_LOSS, Pod, lossSummary, moreAnswers, pollState, servingNames, startServing } from './harness.ts';

let pod: Pod;
beforeEach(async () => {
  pod = await Pod.create();
});
afterEach(async () => {
  await pod.cleanup();
});

describe('old version killed mid-drain', () => {
  it('the successor takes the lock at once and serves; every session continues', async () => {
    const a = await startServing(pod, {
      slot: 'a',
      version: 'v1',
      env: { HOTUPGRADE_DRAIN_TIMEOUT_MS: '60000' },
    });
    const load = pod.load();
    await moreAnswers(load, 30);
    // In flight on a (the only listener yet) when the drain starts, so the drain waits for it.
    const slow = pod.get('/slow/8000', 15_000);
    await moreAnswers(load, 10);

    const b = pod.start({ slot: 'b', version: 'v2' });
    const seen = await pollState(pod.dir, 'a', (s) => s === 'draining' || s === 'idle', 20_000);
    await a.kill();
    const killedAt = Date.now();
    await slow; // dies with a; its answer does not matter
    await pod.waitForState(b, 'serving', 20_000);
    expect(Date.now() - killedAt).toBeLessThan(20_000);
    const during = await load.stop();

    const after = pod.load(continueFrom(during));
    await moreAnswers(after, 100);
    const report = await after.stop();
    expect({ killedWhile: seen, sessionsLost: during.sessionsLost }).toEqual({
      killedWhile: 'draining',
      sessionsLost: 0,
    });
    expect(during.failed).toBeLessThanOrEqual(64);
    expect(lossSummary(report)).toEqual(NO_LOSS);
    expect(report.versions).toEqual({ v2: report.ok });
    expect(pod.volume().lockHeld).toBe(true);
    expect(servingNames(pod)).toEqual(['b']);
  });
});
