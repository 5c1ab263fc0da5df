// The HotDeployment controller on a real API server, with the node simulator running the
// real demo server, placeholder and sidecar processes: what the controller reads as
// "the new version serves" is the sidecar's real answer, through the pod's status.
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sample } from '../../bench/prom.ts';
import { startLoad, type LoadRun } from '../../demo/loadgen.ts';
import { demoImage, startEnv, until, IMAGES, type Env } from './env.ts';
import {
  condition,
  createHd,
  demoHd,
  events,
  listPods,
  rolledOut,
  scrape,
  setImage,
  waitHd,
} from './fixtures.ts';

const NS = 'hot';
let env: Env;

beforeAll(async () => {
  env = await startEnv('ctl-hot', {});
  await env.namespace(NS);
  await env.startController();
}, 120_000);

afterAll(async () => {
  await env?.stop();
});

const slot = (p: V1Pod, name: string) => ({
  image: p.spec?.containers.find((c) => c.name === name)?.image,
  restarts: p.status?.containerStatuses?.find((c) => c.name === name)?.restartCount,
});

describe('a HotDeployment of the demo server', () => {
  it('creates its pods, hot-upgrades them under load with nothing lost, and reports it', async () => {
    const { client } = env;
    await createHd(client, demoHd('demo', NS, { replicas: 3 }));
    await waitHd(client, NS, 'demo', 'three ready pods at v1', rolledOut(demoImage('v1'), 3));
    const before = await listPods(client, NS, 'demo');
    expect(before.map((p) => p.metadata?.name)).toEqual(['demo-0', 'demo-1', 'demo-2']);
    expect(before[0]?.spec?.containers.map((c) => c.name)).toEqual(['app-a', 'app-b', 'hotupgrade-sidecar']);

    const loads: LoadRun[] = before.map((p, i) =>
      startLoad({
        url: `http://${p.status?.podIP ?? ''}:8080`,
        rate: 150,
        sessions: 200,
        firstSession: i * 200,
        keepAliveShare: 0.5,
        durationMs: 120_000,
      }),
    );
    await new Promise((r) => setTimeout(r, 1500));
    const t0 = Date.now();
    await setImage(client, NS, 'demo', demoImage('v2'));
    const hd = await waitHd(client, NS, 'demo', 'the rollout to v2', rolledOut(demoImage('v2'), 3));
    const seconds = (Date.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 1000));
    const reports = await Promise.all(loads.map((l) => l.stop()));
    console.log(
      `rollout of 3 pods: ${seconds.toFixed(1)} s; per pod: ${reports.map((r) => `${r.ok} ok, ${r.failed} failed, ${r.sessionsLost} lost, max gap ${r.maxGapMs} ms, versions ${JSON.stringify(r.versions)}`).join(' | ')}`,
    );
    for (const r of reports) {
      expect(r.failed, JSON.stringify(r.failureReasons)).toBe(0);
      expect(r.sessionsLost).toBe(0);
      expect(r.versions.v2).toBeGreaterThan(0);
    }

    const after = await listPods(client, NS, 'demo');
    expect(after.map((p) => p.metadata?.uid)).toEqual(before.map((p) => p.metadata?.uid));
    expect(after.map((p) => p.status?.podIP)).toEqual(before.map((p) => p.status?.podIP));
    for (const p of after) {
      expect(slot(p, 'app-b')).toEqual({ image: demoImage('v2'), restarts: 1 });
      expect(slot(p, 'app-a')).toEqual({ image: IMAGES.placeholder, restarts: 1 });
      expect(p.metadata?.annotations?.['hotupgrade.io/active-slot']).toBe('b');
      expect(p.metadata?.annotations?.['hotupgrade.io/upgrade']).toBeUndefined();
    }
    expect(condition(hd, 'Available')).toBe('True/MinimumReplicasAvailable');
    expect(condition(hd, 'Degraded')).toBe('False/Healthy');
    expect(hd.status?.currentImage).toBe(demoImage('v2'));

    // Events are written just after the status that reports what they say.
    await until('the RolloutComplete event', 10_000, async () =>
      (await events(client, NS)).some((e) => e.reason === 'RolloutComplete') ? true : undefined,
    );
    const metrics = await scrape(env.controllers[0]?.port ?? 0);
    expect(sample(metrics, 'hotupgrade_handovers_total', { result: 'succeeded' })).toBe(3);
    expect(sample(metrics, 'hotupgrade_pods_by_version', { name: 'demo', version: 'v2' })).toBe(3);
    expect(sample(metrics, 'controller_runtime_reconcile_total', { result: 'success' })).toBeGreaterThan(0);
    expect(sample(metrics, 'leader_election_master_status')).toBe(1);
  });
});
