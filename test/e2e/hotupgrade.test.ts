// End to end, the way a user meets the product: `helm install` of the chart with the
// images built from the Dockerfile, a HotDeployment of the demo server behind a
// Service on a real kubelet, steady load through the Service, and every operation a
// release needs. A real Prometheus scrapes the controller and the sidecars meanwhile.
//
// Driven only by a kubeconfig: the single node of test/cluster by default,
// KUBECONFIG_E2E for your own cluster (npm run e2e:kind). Scenarios run in order and
// build on each other (the versions move v1 -> v2 -> ...), as a release would.
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HotDeployment } from '../../controller/api/types.ts';
import { ANNOTATIONS, EVENTS } from '../../controller/constants.ts';
import { sessionsLostWith, type LoadReport } from '../../demo/loadgen.ts';
import { allQueries } from '../../monitoring/queries.ts';
import { checkTier, until } from '../cluster/harness.ts';
import {
  condition,
  events,
  listPods,
  patchStrategy,
  rolledOut as allAt,
  setImage,
  waitHd,
} from '../controller/fixtures.ts';
import { OPERATOR_NS, RELEASE, demoImage, projectImage, startE2E, type E2E } from './env.ts';
import { describeLoad, underLoad } from './load.ts';
import { startPrometheus, type Prometheus } from './prometheus.ts';
import { RULES_FILE } from '../../monitoring/paths.ts';
import { demoHotDeployment, exposeDemo, waitEndpoints, watchEndpoints } from './workload.ts';

const skip = checkTier('node');
const NS = 'shop';
const NAME = 'demo';
const REPLICAS = 3;

let env: E2E;
let prom: Prometheus;
let url = '';

const log = (line: string): void => console.log(`[e2e] ${line}`);

beforeAll(async () => {
  env = await startE2E({ name: 'e2e', log });
  log('helm install');
  await env.install();
  await env.namespace(NS);
  prom = await startPrometheus({ kubeconfig: env.kubeconfig, rulesFile: RULES_FILE, dir: env.dir });
}, 1_800_000);

afterAll(async () => {
  await prom?.stop();
  await env?.stop();
});

/** Every pod at `image` and ready, and no more pods than asked (scale-downs finished). */
const rolledOut =
  (image: string, replicas = REPLICAS) =>
  (hd: HotDeployment): boolean =>
    allAt(image, replicas)(hd) && hd.status?.replicas === replicas;

const slotOf = (p: V1Pod, name: string) => ({
  image: p.spec?.containers.find((c) => c.name === name)?.image,
  restarts: p.status?.containerStatuses?.find((c) => c.name === name)?.restartCount ?? -1,
});
const podsNow = () => listPods(env.client, NS, NAME);
const podNames = async (): Promise<string[]> => (await podsNow()).map((p) => p.metadata?.name ?? '');
const waitFor = (what: string, ok: (hd: HotDeployment) => boolean, timeoutMs = 180_000) =>
  waitHd(env.client, NS, NAME, what, ok, timeoutMs);

/**
 * Zero failed requests and no session state lost: no counter went backwards, and no
 * state was left on a pod that is gone (unless the test scaled pods away on purpose).
 */
async function expectNothingLost(report: LoadReport, o: { scaledDown?: boolean } = {}): Promise<void> {
  log(describeLoad(report));
  expect(report.failed, JSON.stringify(report.failures.slice(0, 5))).toBe(0);
  expect(report.sessionsLost, JSON.stringify(report.lostEvents.slice(0, 5))).toBe(0);
  if (!o.scaledDown) expect(sessionsLostWith(report, await podNames())).toBe(0);
}

/** Warning events the controller wrote (the kubelet here also warns that the node has no cluster DNS). */
const ourWarnings = (ev: Awaited<ReturnType<typeof events>>) =>
  ev.filter((e) => e.type === 'Warning' && (Object.values(EVENTS) as string[]).includes(e.reason));

/** Waits until exactly `names` exist (pods scaled away have finished terminating). */
async function waitPodNames(names: string[]): Promise<void> {
  await until(
    `pods ${names.join(', ')}`,
    async () => ((await podNames()).join() === names.join() ? true : undefined),
    60_000,
    250,
  );
}

/**
 * Waits until the kubelet shows every pod's slots as their spec says (the old slot's
 * restart as the placeholder follows the rollout, which is complete once the new
 * version serves everywhere).
 */
async function waitSlotsSettled(): Promise<V1Pod[]> {
  return until(
    'every slot running the image its spec names',
    async () => {
      const pods = await podsNow();
      const settled = pods.every((p) =>
        ['app-a', 'app-b'].every((name) => {
          const c = p.status?.containerStatuses?.find((x) => x.name === name);
          return c?.state?.running !== undefined && c.image === slotOf(p, name).image;
        }),
      );
      return settled ? pods : undefined;
    },
    60_000,
    250,
  );
}

async function scaleTo(n: number): Promise<void> {
  await env.kubectl(['-n', NS, 'scale', `hotdeployment/${NAME}`, `--replicas=${n}`]);
}

describe.skipIf(skip)('hot upgrades on a real kubelet, installed with helm', () => {
  it('helm install: two controller replicas, non-root and read-only, one of them leads', async () => {
    const out = await env.kubectl([
      '-n',
      OPERATOR_NS,
      'get',
      'pods',
      '-l',
      'app.kubernetes.io/name=hotupgrade,app.kubernetes.io/component=controller',
      '-o',
      'json',
    ]);
    const pods = (JSON.parse(out) as { items: V1Pod[] }).items;
    expect(pods).toHaveLength(2);
    for (const p of pods) {
      expect(p.status?.containerStatuses?.every((c) => c.ready)).toBe(true);
      expect(p.spec?.securityContext?.runAsNonRoot).toBe(true);
      const c = p.spec?.containers[0];
      expect(c?.image).toBe(projectImage('controller'));
      expect(c?.securityContext?.readOnlyRootFilesystem).toBe(true);
      expect(c?.securityContext?.capabilities?.drop).toEqual(['ALL']);
    }
    const holder = await until(
      'a controller replica to hold the Lease',
      async () => {
        const lease = JSON.parse(
          await env.kubectl(['-n', OPERATOR_NS, 'get', 'lease', 'hotupgrade-controller', '-o', 'json']),
        ) as { spec?: { holderIdentity?: string } };
        return lease.spec?.holderIdentity || undefined;
      },
      60_000,
      500,
    );
    expect(pods.map((p) => p.metadata?.name)).toContain(holder);
  });

  it('creates the demo pods at v1 with slots, sidecar and the restricted security context', async () => {
    const r = await env.client.create(
      `/apis/hotupgrade.io/v1alpha1/namespaces/${NS}/hotdeployments`,
      demoHotDeployment(NAME, NS, { replicas: REPLICAS }),
    );
    expect(r.ok, r.ok ? '' : r.message).toBe(true);
    url = await exposeDemo(env.client, NAME, NS);
    await waitFor('three ready pods at v1', rolledOut(demoImage('v1')));
    await waitEndpoints(env.client, NAME, NS, REPLICAS);
    const pods = await podsNow();
    expect(pods.map((p) => p.metadata?.name)).toEqual(['demo-0', 'demo-1', 'demo-2']);
    for (const p of pods) {
      expect(p.spec?.containers.map((c) => c.name)).toEqual(['app-a', 'app-b', 'hotupgrade-sidecar']);
      expect(slotOf(p, 'app-a')).toEqual({ image: demoImage('v1'), restarts: 0 });
      expect(slotOf(p, 'app-b')).toEqual({ image: projectImage('placeholder'), restarts: 0 });
      expect(slotOf(p, 'hotupgrade-sidecar').image).toBe(projectImage('sidecar'));
    }
  });

  it('hot-upgrades v1 -> v2 under load through the Service: no failed request, every session kept, same pods', async () => {
    const before = await podsNow();
    const t0 = Date.now();
    const endpoints = watchEndpoints(env.client, NAME, NS);
    const { report } = await underLoad(url, async () => {
      await setImage(env.client, NS, NAME, demoImage('v2'));
      await waitFor('the rollout to v2', rolledOut(demoImage('v2')));
    });
    const ep = await endpoints.stop();
    log(
      `v1 -> v2 of ${REPLICAS} pods in ${((Date.now() - t0) / 1000).toFixed(1)} s; ready endpoints never below ${ep.min} (${ep.samples} samples)`,
    );
    await expectNothingLost(report);
    // Pods stay Ready through a hot upgrade: the Service never loses an endpoint.
    expect(ep.min).toBe(REPLICAS);
    expect(report.versions.v2).toBeGreaterThan(0);
    expect(Object.keys(report.pods).sort()).toEqual(['demo-0', 'demo-1', 'demo-2']);

    const after = await waitSlotsSettled();
    expect(after.map((p) => p.metadata?.uid)).toEqual(before.map((p) => p.metadata?.uid));
    expect(after.map((p) => p.status?.podIP)).toEqual(before.map((p) => p.status?.podIP));
    for (const p of after) {
      // Slot b: placeholder -> v2 (one restart); slot a: v1 -> placeholder (one restart).
      expect(slotOf(p, 'app-b')).toEqual({ image: demoImage('v2'), restarts: 1 });
      expect(slotOf(p, 'app-a')).toEqual({ image: projectImage('placeholder'), restarts: 1 });
      expect(slotOf(p, 'hotupgrade-sidecar').restarts).toBe(0);
      expect(p.metadata?.annotations?.[ANNOTATIONS.activeSlot]).toBe('b');
    }
    const hd = await env.getHd(NS, NAME);
    expect(condition(hd, 'Available')).toBe('True/MinimumReplicasAvailable');
    expect(condition(hd, 'Degraded')).toBe('False/Healthy');
    expect(condition(hd, 'Paused')).toBe('False/NotPaused');
    const ev = await until(
      'the RolloutComplete event',
      async () => {
        const e = await events(env.client, NS);
        return e.some((x) => x.reason === 'RolloutComplete') ? e : undefined;
      },
      30_000,
      250,
    );
    expect(ourWarnings(ev)).toEqual([]);
    // The controller's metrics moved, as Prometheus scraped them from the leader.
    const handovers = await until(
      'hotupgrade_handovers_total{result="succeeded"} >= 3 in Prometheus',
      async () => {
        const v = await prom.query('sum(hotupgrade_handovers_total{result="succeeded"})');
        const n = Number(v[0]?.value[1] ?? 0);
        return n >= REPLICAS ? n : undefined;
      },
      60_000,
      1_000,
    );
    expect(handovers).toBe(REPLICAS);
  });

  it('an image that crashes on start: v2 keeps serving with no failure, the rollout is Degraded with a Warning', async () => {
    const { report } = await underLoad(url, async () => {
      await setImage(env.client, NS, NAME, demoImage('crash'));
      await waitFor('Degraded/HandoverFailed', (hd) => condition(hd, 'Degraded') === 'True/HandoverFailed');
    });
    await expectNothingLost(report);
    expect(Object.keys(report.versions)).toEqual(['v2']);
    const warnings = (await events(env.client, NS)).filter(
      (e) => e.type === 'Warning' && e.reason === 'HandoverFailed',
    );
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings[0]?.message).toMatch(/crash|exit|Crashed|StartFailed/i);
    for (const p of await podsNow()) {
      expect(slotOf(p, 'app-b').image).toBe(demoImage('v2'));
      expect(slotOf(p, 'app-a').image).toBe(projectImage('placeholder'));
    }
    // Back to the running version: nothing to do but to clear the failure.
    await setImage(env.client, NS, NAME, demoImage('v2'));
    await waitFor(
      'healthy at v2 again',
      (hd) => rolledOut(demoImage('v2'))(hd) && condition(hd, 'Degraded') === 'False/Healthy',
    );
  });

  it('an image that cannot be pulled, with autoRollback: the controller rolls back on its own, v2 serves throughout', async () => {
    await patchStrategy(env.client, NS, NAME, { autoRollback: true });
    // A registry on a closed loopback port: the pull fails at once, nothing leaves the machine.
    const missing = '127.0.0.1:9/hotupgrade/missing:v9';
    const { report } = await underLoad(url, async () => {
      await setImage(env.client, NS, NAME, missing);
      await waitFor('Degraded/RolledBack', (hd) => condition(hd, 'Degraded') === 'True/RolledBack', 120_000);
      await waitFor('back at v2', (hd) => rolledOut(demoImage('v2'))(hd));
    });
    await patchStrategy(env.client, NS, NAME, { autoRollback: false });
    await expectNothingLost(report);
    const hd = await env.getHd(NS, NAME);
    expect(hd.spec.template.spec?.containers[0]?.image).toBe(demoImage('v2'));
    expect(hd.metadata.annotations?.[ANNOTATIONS.rollback]).toContain(missing);
    const ev = await events(env.client, NS);
    expect(ev.some((e) => e.reason === 'RolledBack' && e.type === 'Warning')).toBe(true);
  });

  it('a manual pause approved with kubectl patch, while scaling up and down mid-rollout', async () => {
    await patchStrategy(env.client, NS, NAME, {
      batches: [{ replicas: 1, pause: { manual: true } }, { replicas: '100%' }],
    });
    const { report } = await underLoad(url, async () => {
      await setImage(env.client, NS, NAME, demoImage('v3'));
      const paused = await waitFor(
        'the manual pause after batch 1',
        (hd) => condition(hd, 'Paused') === 'True/AwaitingApproval' && hd.status?.updatedReplicas === 1,
      );
      const msg = paused.status?.conditions?.find((c) => c.type === 'Paused')?.message ?? '';
      expect(msg).toContain('kubectl patch');
      // Scale up while paused: new pods join; then down again, still paused.
      await scaleTo(5);
      await waitFor('5 ready pods', (hd) => hd.status?.readyReplicas === 5 && hd.status.replicas === 5);
      await scaleTo(4);
      await waitFor('4 pods', (hd) => hd.status?.replicas === 4 && hd.status.readyReplicas === 4);
      expect(condition(await env.getHd(NS, NAME), 'Paused')).toBe('True/AwaitingApproval');
      const rev = paused.status?.updateRevision ?? '';
      await env.kubectl([
        '-n',
        NS,
        'patch',
        'hotdeployment',
        NAME,
        '--type=merge',
        '-p',
        JSON.stringify({ spec: { updateStrategy: { approved: { revision: rev, batch: 2 } } } }),
      ]);
      await waitFor('the rollout to v3 on 4 pods', rolledOut(demoImage('v3'), 4));
      await scaleTo(REPLICAS);
      await waitFor('back to 3 pods at v3', rolledOut(demoImage('v3')));
      await waitPodNames(['demo-0', 'demo-1', 'demo-2']);
      await waitEndpoints(env.client, NAME, NS, REPLICAS);
    });
    // demo-3 and demo-4 were scaled away with the sessions they held: that is the scale-down.
    await expectNothingLost(report, { scaledDown: true });
    expect(report.versions.v3).toBeGreaterThan(0);
    expect(await podNames()).toEqual(['demo-0', 'demo-1', 'demo-2']);
    const ev = await events(env.client, NS);
    expect(ev.some((e) => e.reason === 'AwaitingApproval')).toBe(true);
    expect(ev.some((e) => e.reason === 'BatchCompleted')).toBe(true);
  });

  it('rolls back to the previous version (another hot upgrade) with nothing lost', async () => {
    await patchStrategy(env.client, NS, NAME, { batches: null as unknown as [] });
    const before = await podsNow();
    const { report } = await underLoad(url, async () => {
      await setImage(env.client, NS, NAME, demoImage('v2'));
      await waitFor('the rollback to v2', rolledOut(demoImage('v2')));
    });
    await expectNothingLost(report);
    const after = await waitSlotsSettled();
    expect(after.map((p) => p.metadata?.uid)).toEqual(before.map((p) => p.metadata?.uid));
    for (const p of after) {
      const active = p.metadata?.annotations?.[ANNOTATIONS.activeSlot] ?? '';
      expect(slotOf(p, `app-${active}`).image).toBe(demoImage('v2'));
    }
  });

  it('every dashboard panel and every alert query returns data from the real Prometheus', async () => {
    const queries = allQueries();
    expect(queries.length).toBeGreaterThan(10);
    const empty = await until(
      'every query to return data',
      async () => {
        const none: string[] = [];
        for (const q of queries) if ((await prom.query(q.expr)).length === 0) none.push(`${q.id}: ${q.expr}`);
        return none.length === 0 ? none : undefined;
      },
      90_000,
      3_000,
    ).catch(async (err: unknown) => {
      const none: string[] = [];
      for (const q of queries) if ((await prom.query(q.expr)).length === 0) none.push(`${q.id}: ${q.expr}`);
      throw new Error(`${String(err)}\nno data for:\n  ${none.join('\n  ')}`);
    });
    expect(empty).toEqual([]);
    // Both kinds of target are up: the controller replicas and every demo pod's sidecar.
    const up = await prom.query('sum by (job) (up)');
    const byJob = Object.fromEntries(up.map((s) => [s.metric.job, Number(s.value[1])]));
    expect(byJob).toMatchObject({ 'hotupgrade-controller': 2, 'hotupgrade-sidecars': REPLICAS });
  });

  it('helm upgrade of the operator mid-rollout: the rollout continues, no pod is upgraded twice', async () => {
    await patchStrategy(env.client, NS, NAME, {
      batches: [
        { replicas: 1, pause: { seconds: 5 } },
        { replicas: 2, pause: { seconds: 5 } },
        { replicas: '100%' },
      ],
    });
    const restartsBefore = new Map((await waitSlotsSettled()).map((p) => [p.metadata?.name, p]));
    const { report } = await underLoad(url, async () => {
      await setImage(env.client, NS, NAME, demoImage('v3'));
      await waitFor('batch 1 done', (hd) => (hd.status?.updatedReplicas ?? 0) >= 1, 120_000);
      log('helm upgrade of the operator (a new controller pod template)');
      await env.install({ logLevel: 'debug' });
      await waitFor('the rollout to v3', rolledOut(demoImage('v3')), 240_000);
    });
    await expectNothingLost(report);
    for (const p of await waitSlotsSettled()) {
      const old = restartsBefore.get(p.metadata?.name);
      const restarts = (q: V1Pod | undefined) =>
        slotOf(q as V1Pod, 'app-a').restarts + slotOf(q as V1Pod, 'app-b').restarts;
      // One upgrade = two slot restarts (the new version starts, the old slot becomes the placeholder).
      expect(restarts(p) - restarts(old), p.metadata?.name).toBe(2);
    }
  });

  it('helm uninstall removes the operator and leaves the CRD, the HotDeployment and its serving pods', async () => {
    const { report } = await underLoad(url, async () => {
      await env.helm(['uninstall', RELEASE, '--namespace', OPERATOR_NS, '--wait', '--timeout', '2m']);
    });
    await expectNothingLost(report);
    const left = JSON.parse(
      await env.kubectl([
        'get',
        'deployments,services,serviceaccounts,configmaps,roles,rolebindings,poddisruptionbudgets,clusterroles,clusterrolebindings',
        '-A',
        '-l',
        `app.kubernetes.io/instance=${RELEASE}`,
        '-o',
        'json',
      ]),
    ) as { items: unknown[] };
    expect(left.items).toEqual([]);
    await env.kubectl(['get', 'crd', 'hotdeployments.hotupgrade.io']);
    expect((await env.getHd(NS, NAME)).spec.replicas).toBe(REPLICAS);
    expect(await podNames()).toEqual(['demo-0', 'demo-1', 'demo-2']);
  });
});
