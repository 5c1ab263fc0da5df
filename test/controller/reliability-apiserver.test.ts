// Reliability: kube-apiserver crashes (SIGKILL) in the middle of a hot rollout and comes
// back a few seconds later, as in a control plane upgrade or a crash. The controller and
// the node simulator must reconnect on their own, and the rollout must complete with no
// pod upgraded twice and somebody serving at every pod version. Needs a control plane this
// suite starts itself (it restarts its API server): skipped on a user's cluster.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopApiServer } from '../cluster/controlplane.ts';
import { checkTier, externalKubeconfig } from '../cluster/harness.ts';
import { demoImage, IMAGES, startEnv, type Env } from './env.ts';
import {
  condition,
  createHd,
  fakeCatalog,
  listPods,
  readyz,
  rolledOut,
  rolloutHd,
  setImage,
  waitHd,
} from './fixtures.ts';
import { histogramOf, notUpgradedOnce, podSlots, watchPods } from './invariants.ts';

const external = externalKubeconfig();
if (external) {
  console.warn(
    `[reliability-apiserver] SKIPPED: the suite restarts kube-apiserver, which it cannot do on the cluster of ${external} (KUBECONFIG_E2E/KUBECONFIG); unset it to run this suite on a control plane of its own`,
  );
}
const skip = checkTier('control-plane') ?? (external ? 'external cluster' : undefined);
const NS = 'apiserver';
const NAME = 'web';
const REPLICAS = 60;
/** How long kube-apiserver stays dead before it is started again, in ms (it then needs ~3 s to be ready). */
const DOWN_MS = 3_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const rules = { placeholderImage: IMAGES.placeholder, hotContainer: 'app' };

interface Probe {
  atMs: number;
  status: number | 'no answer';
  podsConnected: unknown;
  hdsConnected: unknown;
}

describe.skipIf(skip)('a hot rollout while kube-apiserver crashes and restarts', () => {
  let env: Env;

  beforeAll(async () => {
    env = await startEnv('rel-apiserver', { mode: 'fake', images: fakeCatalog(), startDelayMs: 300 });
    await env.namespace(NS);
    await env.startController({ identity: 'controller-0' });
  }, 180_000);

  afterAll(async () => {
    await env?.stop();
  });

  it('the controller and the node reconnect, /readyz shows the watch down and back, and the rollout completes with no pod upgraded twice', async () => {
    const { client } = env;
    const cp = env.controlPlane;
    const ctl = env.controllers[0];
    const sim = env.sim;
    if (!cp || !ctl || !sim)
      throw new Error('the suite needs its own control plane, a controller and the simulator');
    await createHd(
      client,
      rolloutHd(NAME, NS, { replicas: REPLICAS, maxUnavailable: '10%', handoverDeadlineSeconds: 5 }),
    );
    await waitHd(client, NS, NAME, `${REPLICAS} ready pods at v1`, rolledOut(demoImage('v1'), REPLICAS));
    const before = podSlots(await listPods(client, NS, NAME), 'app');
    const simBefore = sim.stats();
    const watch = watchPods(client, NS, NAME, rules);
    await watch.synced;
    watch.resetPeak();

    // /readyz of the controller every 250 ms for the whole test.
    const probes: Probe[] = [];
    let probing = true;
    const prober = (async () => {
      for (let i = 0; probing && i < 2_000; i++) {
        const r = await readyz(ctl.port);
        const informers = r?.body.informers as
          Record<'pods' | 'hotdeployments', { connected?: boolean } | undefined> | undefined;
        probes.push({
          atMs: Date.now(),
          status: r?.status ?? 'no answer',
          podsConnected: informers?.pods?.connected,
          hdsConnected: informers?.hotdeployments?.connected,
        });
        await sleep(250);
      }
    })();

    const t0 = Date.now();
    await setImage(client, NS, NAME, demoImage('v2'));
    const mid = await waitHd(
      client,
      NS,
      NAME,
      'a fifth of the pods at v2',
      (hd) => (hd.status?.updatedReplicas ?? 0) >= REPLICAS / 5,
      60_000,
    );
    const down = await stopApiServer(cp, { crash: true });
    const downAt = Date.now();
    await sleep(DOWN_MS);
    await down.start();
    const upAt = Date.now();
    const hd = await waitHd(
      client,
      NS,
      NAME,
      'the rollout to v2',
      rolledOut(demoImage('v2'), REPLICAS),
      120_000,
    );
    const seconds = (Date.now() - t0) / 1000;
    await sleep(1000);
    probing = false;
    await prober;
    const report = await watch.stop();
    const after = podSlots(await listPods(client, NS, NAME), 'app');
    const simAfter = sim.stats();

    // While the process is dead (once it restarts it accepts watches before its /readyz is 200).
    const whileDown = probes.filter((p) => p.atMs > downAt + 500 && p.atMs < downAt + DOWN_MS);
    const afterUp = probes.filter((p) => p.atMs > upAt);
    const readyAgain = afterUp.find((p) => p.status === 200 && p.podsConnected === true);
    const hdsAgain = afterUp.find((p) => p.hdsConnected === true);
    const fmt = (ps: Probe[]): string =>
      [...new Set(ps.map((p) => `${p.status}${p.podsConnected === false ? ' (pods watch down)' : ''}`))].join(
        ', ',
      );
    console.log(
      `[reliability-apiserver] kube-apiserver SIGKILLed with ${mid.status?.updatedReplicas ?? 0}/${REPLICAS} pods at v2; ` +
        `unreachable for ${upAt - downAt} ms (dead ${DOWN_MS} ms + its start); rollout of ${REPLICAS} pods in ${seconds.toFixed(1)} s\n` +
        `  controller /readyz while the API server was dead: ${fmt(whileDown)}; after: ${fmt(afterUp)}; pods watched again ${readyAgain ? readyAgain.atMs - upAt : 'never'} ms after the API server was ready, HotDeployments ${hdsAgain ? hdsAgain.atMs - upAt : 'never'} ms after\n` +
        `  node simulator: relists +${simAfter.relists - simBefore.relists}, rewatches +${simAfter.rewatches - simBefore.rewatches}, status write failures +${simAfter.statusWriteFailures - simBefore.statusWriteFailures}\n` +
        `  invariant checker: ${report.objects} pod versions, ${report.violations.length} violations, ${report.gaps} watch gaps; slot starts per pod ${JSON.stringify(histogramOf(report.starts))}`,
    );

    expect(ctl.child.exitCode, 'the controller kept running').toBeNull();
    expect(whileDown.length).toBeGreaterThan(0);
    expect(
      whileDown.every((p) => p.podsConnected === false),
      '/readyz reports the pod watch down while the API server is',
    ).toBe(true);
    // /readyz stays 200 through a short outage (the informers turn unhealthy after 30 s
    // without a watch, and a leader exits at its 10 s renew deadline before that): its body
    // says the watch is down.
    expect(readyAgain, '/readyz is 200 with the pod watch open again after the restart').toBeDefined();
    expect(simAfter.rewatches + simAfter.relists).toBeGreaterThan(simBefore.rewatches + simBefore.relists);

    expect(report.violations).toEqual([]);
    expect(condition(hd, 'Progressing')).toBe('True/RolloutComplete');
    expect(condition(hd, 'Degraded')).toBe('False/Healthy');
    expect(notUpgradedOnce(before, after)).toEqual([]);
    for (const s of after) expect(s).toMatchObject({ serves: demoImage('v2'), inFlight: false });
  });
});
