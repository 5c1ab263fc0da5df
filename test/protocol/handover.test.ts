// Normal handovers under load: what a user sees is every request answered and every
// session's counter continuing, across one upgrade and across a chain of them (a
// rollback is just another upgrade).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NO_LOSS, Pod, lossSummary, moreAnswers, servingNames, startServing, upgrade } from './harness.ts';

let pod: Pod;
beforeEach(async () => {
  pod = await Pod.create();
});
afterEach(async () => {
  await pod.cleanup();
});

describe('handover', () => {
  it('v1 -> v2 under load: no request fails, every session continues, v2 holds the lock', async () => {
    const a = await startServing(pod, { slot: 'a', version: 'v1' });
    const load = pod.load();
    await moreAnswers(load, 50);

    const b = pod.start({ slot: 'b', version: 'v2' });
    const bFile = await pod.waitForState(b, 'serving');
    const aFile = await pod.waitForState(a, 'idle');
    await moreAnswers(load, 50);
    const report = await load.stop();

    expect(lossSummary(report)).toEqual(NO_LOSS);
    expect(report.versions.v1).toBeGreaterThan(0);
    expect(report.versions.v2).toBeGreaterThan(0);
    expect(pod.volume().lockHeld).toBe(true);
    expect(servingNames(pod)).toEqual(['b']);
    expect(aFile.releasedAtMs).toBeDefined();
    expect(bFile.handover).toMatchObject({
      from: { slot: 'a', version: 'v1' },
      to: { slot: 'b', version: 'v2' },
    });

    // The controller then resets the old slot to the placeholder: the kubelet stops it.
    await a.reset();
    expect(servingNames(pod)).toEqual(['b']);
    const v = await pod.get('/version');
    expect(v.status).toBe(200);
    expect(JSON.parse(v.body)).toMatchObject({ version: 'v2', slot: 'b' });
  });

  it('v2 -> v3 -> v1 (a rollback is another upgrade): no request fails, every session continues', async () => {
    let a = await startServing(pod, { slot: 'a', version: 'v2' });
    const load = pod.load();
    await moreAnswers(load, 50);

    const b = await upgrade(pod, a, { slot: 'b', version: 'v3' });
    await moreAnswers(load, 50);
    await a.reset(); // back to the placeholder

    a = await upgrade(pod, b, { slot: 'a', version: 'v1' });
    await moreAnswers(load, 50);
    await b.reset();
    await moreAnswers(load, 50);
    const report = await load.stop();

    expect(lossSummary(report)).toEqual(NO_LOSS);
    expect(Object.keys(report.versions).sort()).toEqual(['v1', 'v2', 'v3']);
    expect(report.slots.a).toBeGreaterThan(0);
    expect(report.slots.b).toBeGreaterThan(0);
    expect(pod.volume().lockHeld).toBe(true);
    expect(servingNames(pod)).toEqual(['a']);
  });
});
