// Reliability: a 100-pod hot rollout while the controller is SIGKILLed at random points
// and restarted at once (as a kubelet restarts a crashed container). All progress lives in
// the pods' annotations and every pod write carries the resourceVersion it was decided
// on, so the rollout must complete with no pod upgraded twice and, at every version of
// every pod, somebody serving. Fake node simulator: no processes, 300 ms per start.
// RELIABILITY_SEED=<n> replays a run (the seed is printed).
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTier } from '../cluster/harness.ts';
import { demoImage, IMAGES, startEnv, until, type ControllerProc, type Env } from './env.ts';
import {
  condition,
  createHd,
  fakeCatalog,
  listPods,
  logLines,
  patchStrategy,
  rolledOut,
  rolloutHd,
  setImage,
  waitHd,
} from './fixtures.ts';
import {
  checkPod,
  checkTransition,
  histogramOf,
  notUpgradedOnce,
  podSlots,
  watchPods,
} from './invariants.ts';

const skip = checkTier('control-plane');
const NS = 'crash';
const NAME = 'web';
const REPLICAS = 100;
const MAX_UNAVAILABLE = 20; // 20 %
/** maxUnavailable of the rollout with kills: slower, so that the kills land mid-rollout. */
const KILL_MAX_UNAVAILABLE = '5%';
const IDENTITY = 'controller-0';
const SEED = Number(process.env.RELIABILITY_SEED ?? Date.now() % 1_000_000_007);

/** mulberry32: a small seeded PRNG, so a failing run can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const rules = { placeholderImage: IMAGES.placeholder, hotContainer: 'app' };

/** A pod as the checker reads it: slot images, their readiness, annotations. */
function pod(
  a: string,
  b: string,
  o: { readyA?: boolean; readyB?: boolean; annotations?: Record<string, string>; rv?: string } = {},
): V1Pod {
  return {
    metadata: { name: 'p-0', uid: 'u', resourceVersion: o.rv ?? '1', annotations: o.annotations ?? {} },
    spec: {
      containers: [
        { name: 'app-a', image: a },
        { name: 'app-b', image: b },
      ],
    },
    status: {
      containerStatuses: [
        { name: 'app-a', image: a, imageID: '', ready: o.readyA ?? true, restartCount: 0 },
        { name: 'app-b', image: b, imageID: '', ready: o.readyB ?? true, restartCount: 0 },
      ],
    },
  };
}

describe('the invariant checker', () => {
  const P = IMAGES.placeholder;
  const v1 = demoImage('v1');
  const v2 = demoImage('v2');
  it.each([
    ['a completed upgrade (v2 ready in b, a reset)', pod(v1, v2), pod(P, v2), []],
    [
      'a reset while the successor is not ready',
      pod(v1, v2, { readyB: false }),
      pod(P, v2, { readyB: false }),
      ['reset-before-successor-ready'],
    ],
    [
      'both slots on the placeholder',
      pod(v1, P),
      pod(P, P),
      ['nobody-serving', 'reset-before-successor-ready'],
    ],
    [
      'a failed upgrade undone (the new slot reset, the old one serving)',
      pod(v1, demoImage('bad'), {
        readyB: false,
        annotations: {
          'hotupgrade.io/upgrade': JSON.stringify({
            slot: 'b',
            from: 'a',
            image: demoImage('bad'),
            version: 'bad',
            containerID: '',
            restartCount: 0,
            startedAt: '',
          }),
        },
      }),
      pod(v1, P, {
        readyB: false,
        annotations: { 'hotupgrade.io/failed': JSON.stringify({ image: demoImage('bad') }) },
      }),
      [],
    ],
    [
      'a failed upgrade undone with no old version left',
      pod(P, demoImage('bad'), {
        annotations: {
          'hotupgrade.io/upgrade': JSON.stringify({
            slot: 'b',
            from: 'a',
            image: demoImage('bad'),
            version: 'bad',
            containerID: '',
            restartCount: 0,
            startedAt: '',
          }),
        },
      }),
      pod(P, P, { annotations: { 'hotupgrade.io/failed': JSON.stringify({ image: demoImage('bad') }) } }),
      ['nobody-serving', 'undo-without-old-version'],
    ],
  ])('%s', (_what, prev, next, want) => {
    const got = [...checkPod(next, rules), ...checkTransition(prev, next, rules)].map((v) => v.rule);
    expect(got.sort()).toEqual([...want].sort());
  });
});

describe.skipIf(skip)('a hot rollout while the controller is SIGKILLed at random points', () => {
  let env: Env;
  let baselineSeconds = 0;
  let baselinePeak: { notReady: number; committed: number; pods: string[] } | undefined;

  beforeAll(async () => {
    env = await startEnv('rel-crash', { mode: 'fake', images: fakeCatalog(), startDelayMs: 300 });
    await env.namespace(NS);
    await env.startController({ identity: IDENTITY });
    await createHd(
      env.client,
      rolloutHd(NAME, NS, {
        replicas: REPLICAS,
        maxUnavailable: '20%',
        batches: [{ replicas: '10%' }, { replicas: '50%' }, { replicas: '100%' }],
        handoverDeadlineSeconds: 5,
      }),
    );
    await waitHd(env.client, NS, NAME, `${REPLICAS} ready pods at v1`, rolledOut(demoImage('v1'), REPLICAS));
  }, 180_000);

  afterAll(async () => {
    await env?.stop();
  });

  /** Rolls the HotDeployment to `version`, running `during` meanwhile; checks every pod version throughout. */
  async function rollout(version: string, during: (t0: number) => Promise<void>) {
    const { client } = env;
    const before = podSlots(await listPods(client, NS, NAME), 'app');
    const watch = watchPods(client, NS, NAME, rules);
    await watch.synced;
    watch.resetPeak();
    const t0 = Date.now();
    await setImage(client, NS, NAME, demoImage(version));
    await during(t0);
    const hd = await waitHd(
      client,
      NS,
      NAME,
      `the rollout to ${version}`,
      rolledOut(demoImage(version), REPLICAS),
      180_000,
    );
    const seconds = (Date.now() - t0) / 1000;
    await sleep(1000); // the last resets reach the watch
    const report = await watch.stop();
    const after = podSlots(await listPods(client, NS, NAME), 'app');
    return { hd, seconds, report, before, after };
  }

  it('upgrades all pods once, with somebody serving at every pod version (baseline, no kills)', async () => {
    const { hd, seconds, report, before, after } = await rollout('v2', async () => undefined);
    baselineSeconds = seconds;
    baselinePeak = {
      notReady: report.peakNotReady,
      committed: report.peakUnavailable,
      pods: report.peakUnavailablePods,
    };
    console.log(
      `[reliability-crash] baseline: rollout of ${REPLICAS} pods v1 -> v2 in ${seconds.toFixed(1)} s, no kills; ` +
        `${report.objects} pod versions checked, ${report.violations.length} violations; ` +
        `most pods not Ready at once: ${report.peakNotReady}, not Ready or about to be (in flight, or a container the kubelet has not restarted for its new image yet): ${report.peakUnavailable} (maxUnavailable ${MAX_UNAVAILABLE})`,
    );
    expect(report.violations).toEqual([]);
    expect(condition(hd, 'Progressing')).toBe('True/RolloutComplete');
    expect(notUpgradedOnce(before, after)).toEqual([]);
    // A first upgrade: the new slot's container restarted once (its image), the old one once (its reset).
    expect(after.every((s) => s.active.restarts === 1 && s.idle.restarts === 1)).toBe(true);
  });

  // Fails as of this writing: a pod the controller completed a moment ago still shows Ready
  // (its status predates the reset of its old slot) until the kubelet reports the restart;
  // plan.ts counts it as available meanwhile, so more pods start than maxUnavailable allows.
  // Counting a pod whose containers' status images differ from its spec images as
  // unavailable would close the gap.
  it('keeps at most maxUnavailable pods out of service at once (baseline rollout)', () => {
    expect(baselinePeak, 'the baseline rollout ran').toBeDefined();
    const peak = baselinePeak ?? { notReady: 0, committed: 0, pods: [] };
    expect(
      { notReadyAbove: peak.notReady > MAX_UNAVAILABLE, committedAbove: peak.committed > MAX_UNAVAILABLE },
      `maxUnavailable ${MAX_UNAVAILABLE}; at the peaks ${peak.notReady} pods were not Ready and ${peak.committed} out of service or about to be: ${peak.pods.join(', ')}`,
    ).toEqual({ notReadyAbove: false, committedAbove: false });
  });

  it('completes, upgrades no pod twice, and never leaves a pod with nobody serving', async () => {
    const rand = prng(SEED);
    const planned = 5 + Math.floor(rand() * 4);
    const kills: string[] = [];
    // A quarter of the baseline's pace, so that every planned kill lands with work in flight.
    await patchStrategy(env.client, NS, NAME, { maxUnavailable: KILL_MAX_UNAVAILABLE });
    const { hd, seconds, report, before, after } = await rollout('v3', async (t0) => {
      for (let k = 0; k < planned; k++) {
        const proc = env.controllers[env.controllers.length - 1] as ControllerProc;
        // A random point: mostly of its work (once it leads, ~2.5 s after its start here,
        // 0.1 to 1.5 s in), one kill in four anywhere in its start (lease, cache sync).
        let when: string;
        if (rand() < 0.25) {
          await sleep(300 + rand() * 2200);
          const led = logLines(proc.log).some((l) => l.msg === 'leading: reconciling');
          when = `${Date.now() - proc.startedAt} ms after its start (${led ? 'leading' : 'not leading yet'})`;
        } else {
          const ledAt = await until('the controller to lead', 20_000, async () =>
            logLines(proc.log).some((l) => l.msg === 'leading: reconciling') ? Date.now() : undefined,
          );
          await sleep(100 + rand() * 1400);
          when = `${Date.now() - ledAt} ms after it was seen leading`;
        }
        const pods = podSlots(await listPods(env.client, NS, NAME), 'app');
        const updated = pods.filter((p) => p.serves === demoImage('v3') && !p.inFlight).length;
        if (updated === REPLICAS) break;
        await proc.kill('SIGKILL');
        const plans = logLines(proc.log).filter((l) => l.msg === 'plan').length;
        kills.push(
          `kill ${k + 1} at +${Date.now() - t0} ms, ${when}, ${plans} plans made: ` +
            `${updated} pods at v3, ${pods.filter((p) => p.inFlight).length} in flight`,
        );
        await env.startController({ identity: IDENTITY });
      }
    });
    console.log(
      `[reliability-crash] seed ${SEED}: ${kills.length} SIGKILLs (planned ${planned}); rollout of ${REPLICAS} pods v2 -> v3 (maxUnavailable ${KILL_MAX_UNAVAILABLE}) in ${seconds.toFixed(1)} s (the baseline at 20% without kills: ${baselineSeconds.toFixed(1)} s)\n  ${kills.join('\n  ')}\n` +
        `  invariant checker: ${report.objects} pod versions checked, ${report.violations.length} violations, ${report.gaps} watch gaps; ` +
        `slot starts per pod ${JSON.stringify(histogramOf(report.starts))}; most pods not Ready at once: ${report.peakNotReady}, out of service or about to be: ${report.peakUnavailable} (maxUnavailable ${KILL_MAX_UNAVAILABLE})`,
    );
    expect(kills.length, 'kills that landed before the rollout ended').toBeGreaterThanOrEqual(5);
    expect(report.violations).toEqual([]);
    expect(hd.status?.updatedReplicas).toBe(REPLICAS);
    expect(condition(hd, 'Progressing')).toBe('True/RolloutComplete');
    expect(condition(hd, 'Degraded')).toBe('False/Healthy');
    expect(notUpgradedOnce(before, after)).toEqual([]);
    for (const s of after) {
      expect(s).toMatchObject({
        active: { image: demoImage('v3') },
        idle: { image: IMAGES.placeholder },
        serves: demoImage('v3'),
        inFlight: false,
      });
    }
    if (report.gaps === 0) {
      expect(report.starts.size).toBe(REPLICAS);
      expect([...report.starts.values()].every((n) => n === 1)).toBe(true);
    }
  });
});
