// Reliability: what a user sees when a rollout goes wrong. A new image that cannot be
// pulled stops the rollout with the old version serving everywhere; a new image that
// crashes, with autoRollback, puts the previous image back into the spec and hot-upgrades
// every pod back to it, also the pods that already ran the canary; and a rollout under a
// storm of unrelated writes to its pods and its HotDeployment (each bumps the
// resourceVersion the controller's writes are conditional on) still completes with no pod
// upgraded twice. Fake node simulator: demo:bad cannot be pulled, demo:crash exits 1
// half a second after it starts.
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sumSamples } from '../../bench/prom.ts';
import type { HotDeployment } from '../../controller/api/types.ts';
import { checkTier } from '../cluster/harness.ts';
import { demoImage, hdPath, IMAGES, podPath, startEnv, type Env } from './env.ts';
import {
  condition,
  createHd,
  events,
  fakeCatalog,
  listPods,
  rolledOut,
  rolloutHd,
  scrape,
  setImage,
  waitHd,
} from './fixtures.ts';
import { histogramOf, notUpgradedOnce, podSlots, watchPods } from './invariants.ts';

const skip = checkTier('control-plane');
const rules = { placeholderImage: IMAGES.placeholder, hotContainer: 'app' };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(skip)('a rollout that goes wrong', () => {
  let env: Env;

  beforeAll(async () => {
    env = await startEnv('rel-failures', { mode: 'fake', images: fakeCatalog(), startDelayMs: 300 });
    await env.startController({ identity: 'controller-0' });
  }, 180_000);

  afterAll(async () => {
    await env?.stop();
  });

  async function deployed(ns: string, hd: HotDeployment): Promise<V1Pod[]> {
    await env.namespace(ns);
    await createHd(env.client, hd);
    const replicas = hd.spec.replicas ?? 1;
    const name = hd.metadata.name ?? '';
    await waitHd(env.client, ns, name, `${replicas} ready pods at v1`, rolledOut(demoImage('v1'), replicas));
    return listPods(env.client, ns, name);
  }

  it('an image that cannot be pulled: Degraded/HandoverFailed, the rollout stops, v1 serves on every pod', async () => {
    const { client } = env;
    const [ns, name, replicas, maxUnavailable] = ['fail-pull', 'web', 10, 2];
    await deployed(
      ns,
      rolloutHd(name, ns, { replicas, maxUnavailable, autoRollback: false, handoverDeadlineSeconds: 5 }),
    );
    const watch = watchPods(client, ns, name, rules);
    await watch.synced;
    const t0 = Date.now();
    await setImage(client, ns, name, demoImage('bad'));
    const hd = await waitHd(
      client,
      ns,
      name,
      'Degraded True/HandoverFailed',
      (h) => condition(h, 'Degraded') === 'True/HandoverFailed',
      60_000,
    );
    const degradedMs = Date.now() - t0;
    await sleep(4_000); // would another pod start?
    const report = await watch.stop();
    const slots = podSlots(await listPods(client, ns, name), 'app');
    const failed = slots.filter((s) => s.failed);
    const message = hd.status?.conditions?.find((c) => c.type === 'Degraded')?.message ?? '';
    const warnings = (await events(client, ns)).filter((e) => e.reason === 'HandoverFailed');
    console.log(
      `[reliability-failures] demo:bad (cannot be pulled): Degraded ${degradedMs} ms after the spec change; ` +
        `${failed.length} pods tried it (${failed.map((s) => s.name).join(', ')}), slot starts ${JSON.stringify(Object.fromEntries(report.starts))}; ` +
        `${report.violations.length} violations\n  Degraded: ${message}`,
    );

    expect(message).toMatch(/ImagePullFailed/);
    expect(failed.length).toBeGreaterThanOrEqual(1);
    expect(failed.length).toBeLessThanOrEqual(maxUnavailable);
    expect(failed.map((s) => s.name)).toContain(/failed its handover on (\S+):/.exec(message)?.[1]);
    // The old version keeps serving everywhere; the pods that tried have their new slot back on the placeholder.
    for (const s of slots) {
      expect(s).toMatchObject({
        serves: demoImage('v1'),
        active: { image: demoImage('v1') },
        idle: { image: IMAGES.placeholder },
        inFlight: false,
      });
    }
    for (const s of failed) expect(JSON.parse(s.failed ?? '{}')).toMatchObject({ image: demoImage('bad') });
    // The rollout stopped: no pod started but those that failed, each once.
    expect([...report.starts.keys()].sort()).toEqual(failed.map((s) => s.name).sort());
    expect([...report.starts.values()].every((n) => n === 1)).toBe(true);
    expect(hd.status?.updatedReplicas).toBe(0);
    expect(warnings.map((e) => e.involvedObject.name).sort()).toEqual(failed.map((s) => s.name).sort());
    expect(warnings.every((e) => e.type === 'Warning' && /ImagePullFailed/.test(e.message))).toBe(true);
    expect(report.violations).toEqual([]);
  });

  it('a crashing image with autoRollback: the spec goes back to v1 and every pod serves v1, the canary pods too', async () => {
    const { client } = env;
    const [ns, name, replicas] = ['fail-rollback', 'web', 10];
    const before = await deployed(
      ns,
      rolloutHd(name, ns, {
        replicas,
        maxUnavailable: 2,
        autoRollback: true,
        handoverDeadlineSeconds: 5,
        batches: [{ replicas: 3, pause: { manual: true } }],
      }),
    );
    const watch = watchPods(client, ns, name, rules);
    await watch.synced;
    // A canary: v2 on 3 pods, then the rollout waits for an approval that never comes ...
    await setImage(client, ns, name, demoImage('v2'));
    await waitHd(
      client,
      ns,
      name,
      'v2 on the first batch, awaiting approval',
      (h) => h.status?.batch?.state === 'AwaitingApproval' && h.status.updatedReplicas === 3,
      60_000,
    );
    const canary = podSlots(await listPods(client, ns, name), 'app')
      .filter((s) => s.serves === demoImage('v2'))
      .map((s) => s.name);
    // ... because the next version is pushed instead, and it crashes.
    const t0 = Date.now();
    await setImage(client, ns, name, demoImage('crash'));
    const hd = await waitHd(
      client,
      ns,
      name,
      'the rollback to v1 to complete',
      (h) => condition(h, 'Degraded') === 'True/RolledBack' && rolledOut(demoImage('v1'), replicas)(h),
      90_000,
    );
    const seconds = (Date.now() - t0) / 1000;
    await sleep(1000);
    const report = await watch.stop();
    const after = await listPods(client, ns, name);
    const slots = podSlots(after, 'app');
    const rollback = JSON.parse(hd.metadata.annotations?.['hotupgrade.io/rollback'] ?? '{}') as Record<
      string,
      string
    >;
    const evs = await events(client, ns);
    console.log(
      `[reliability-failures] demo:crash after a v2 canary on ${canary.join(', ')}: rolled back to v1 and every pod serving v1 ${seconds.toFixed(1)} s after the spec change; ` +
        `slot starts ${JSON.stringify(Object.fromEntries(report.starts))}; ${report.violations.length} violations\n  rollback: ${JSON.stringify(rollback)}`,
    );

    expect(canary.length).toBe(3);
    expect(hd.spec.template.spec?.containers[0]?.image).toBe(demoImage('v1'));
    expect(rollback).toMatchObject({ from: demoImage('crash'), to: demoImage('v1') });
    expect(rollback.reason).toMatch(/Crashed/);
    expect(condition(hd, 'Degraded')).toBe('True/RolledBack');
    expect(evs.some((e) => e.reason === 'RolledBack' && e.type === 'Warning')).toBe(true);
    expect(evs.some((e) => e.reason === 'HandoverFailed' && /Crashed/.test(e.message))).toBe(true);
    for (const s of slots) {
      expect(s).toMatchObject({
        serves: demoImage('v1'),
        active: { image: demoImage('v1') },
        idle: { image: IMAGES.placeholder },
        inFlight: false,
      });
    }
    expect(after.map((p) => p.metadata?.uid)).toEqual(before.map((p) => p.metadata?.uid));
    // Who tried what: the canary pods v2 then back to v1 (and the first two of them the
    // crashing image in between, maxUnavailable 2); the others never moved.
    const crashed = slots.filter((s) => report.starts.get(s.name) === 3).map((s) => s.name);
    expect(crashed.length).toBeGreaterThanOrEqual(1);
    expect(crashed.length).toBeLessThanOrEqual(2);
    for (const s of slots) {
      const want = canary.includes(s.name) ? (crashed.includes(s.name) ? 3 : 2) : 0;
      expect(report.starts.get(s.name) ?? 0, s.name).toBe(want);
    }
    expect(report.violations).toEqual([]);
  });

  it('a storm of unrelated writes to the pods and the HotDeployment: the rollout completes, no pod upgraded twice', async () => {
    const { client } = env;
    const [ns, name, replicas] = ['fail-conflicts', 'web', 30];
    const ctl = env.controllers[0];
    if (!ctl) throw new Error('the controller runs');
    await deployed(ns, rolloutHd(name, ns, { replicas, maxUnavailable: '20%' }));
    // The pace without the storm, to compare.
    const quietAt = Date.now();
    await setImage(client, ns, name, demoImage('v2'));
    await waitHd(client, ns, name, 'the rollout to v2', rolledOut(demoImage('v2'), replicas), 60_000);
    const quietSeconds = (Date.now() - quietAt) / 1000;
    const before = podSlots(await listPods(client, ns, name), 'app');
    const watch = watchPods(client, ns, name, rules);
    await watch.synced;
    const conflictsBefore = sumSamples(
      await scrape(ctl.port),
      'rest_client_requests_total',
      (l) => l.code === '409',
    );

    // Another controller writing labels and annotations of its own to every pod and to the
    // HotDeployment, WRITERS writes in flight at a time, without a pause: each pod changes
    // about once a second or more (more would only measure how the API server copes).
    const WRITERS = 4;
    let storming = true;
    const writes = { pods: 0, hd: 0, failed: 0 };
    const targets = [...before.map((s) => podPath(ns, s.name)), hdPath(ns, name)];
    const writer = async (first: number): Promise<void> => {
      for (let i = first; storming && i < 1_000_000; i += WRITERS) {
        const path = targets[i % targets.length] ?? '';
        const stamp = String(i);
        const r = await client.patch(
          path,
          {
            metadata: {
              labels: { 'churn.example.com/write': stamp },
              ...(path.includes('/pods/') ? { annotations: { 'churn.example.com/at': stamp } } : {}),
            },
          },
          'merge',
        );
        if (!r.ok) writes.failed++;
        else if (path.includes('/pods/')) writes.pods++;
        else writes.hd++;
      }
    };
    const storm = Promise.all(Array.from({ length: WRITERS }, (_, i) => writer(i)));
    await sleep(500);
    const t0 = Date.now();
    await setImage(client, ns, name, demoImage('v3'));
    const hd = await waitHd(
      client,
      ns,
      name,
      'the rollout to v3 under the storm',
      rolledOut(demoImage('v3'), replicas),
      120_000,
    );
    const seconds = (Date.now() - t0) / 1000;
    storming = false;
    await storm;
    await sleep(1000);
    const report = await watch.stop();
    const after = podSlots(await listPods(client, ns, name), 'app');
    const conflicts =
      sumSamples(await scrape(ctl.port), 'rest_client_requests_total', (l) => l.code === '409') -
      conflictsBefore;
    console.log(
      `[reliability-failures] write storm: rollout of ${replicas} pods in ${seconds.toFixed(1)} s (${quietSeconds.toFixed(1)} s without the storm) while ${writes.pods} pod and ${writes.hd} HotDeployment patches (${writes.failed} failed) landed; ` +
        `the controller got ${conflicts} conflicts (409) and retried; slot starts per pod ${JSON.stringify(histogramOf(report.starts))}; ${report.violations.length} violations`,
    );
    expect(writes.pods).toBeGreaterThan(replicas * 3);
    expect(conflicts, 'the controller met conflicts (else the storm tested nothing)').toBeGreaterThan(0);
    expect(condition(hd, 'Degraded')).toBe('False/Healthy');
    expect(notUpgradedOnce(before, after)).toEqual([]);
    for (const s of after) expect(s).toMatchObject({ serves: demoImage('v3'), inFlight: false });
    expect(report.violations).toEqual([]);
    expect([...report.starts.values()].every((n) => n === 1)).toBe(true);
  });
});
