// HotReleases as a user runs them (issue #6): a hub control plane and two member clusters
// (a, b), each with its own control plane, node simulator (fake mode) and member
// controller; the hub process from hub/main.ts; a real Prometheus scraping a test exporter
// for the gates. What is asserted is what a user sees: the HotRelease's status, conditions
// and Events, the MemberClusters' status, and the member HotDeployments and their pods.
// One environment for the whole file (three control planes take a while on 2 cores); each
// scenario has its own HotDeployment and HotRelease. The contract is /tmp/hub-design.md
// (docs/hub.md once merged).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HotDeployment } from '../../controller/api/types.ts';
import type { RollbackRecord } from '../../controller/spec.ts';
import { OPERATOR_VERSION } from '../../controller/version.ts';
import type { GateStep, HotRelease, HotReleaseSpec, ReleaseStep } from '../../hub/api/types.ts';
import { CONDITIONS, EVENTS, REASONS } from '../../hub/constants.ts';
import { checkTier, externalKubeconfig } from '../cluster/harness.ts';
import {
  demoImage,
  HUB_NAMESPACE,
  memberClusterPath,
  podImage,
  specImage,
  startHubEnv,
  until,
  type HubEnv,
  type Member,
} from './env.ts';
import { startExporter, type Exporter } from './exporter.ts';
import { startGatePrometheus, waitForValue, type Prometheus } from './prometheus.ts';
import { ALERTS } from '../../monitoring/alerts.ts';
import { alertQueries } from '../../monitoring/queries.ts';
import { conditionOf, recordTimeline, type Timeline } from './timeline.ts';

const external = externalKubeconfig();
const skip =
  checkTier('control-plane') ??
  (external ? `the hub suite starts three control planes of its own; unset ${external}` : undefined);

const NS = 'shop';
const REPLICAS = 4;
const V1 = demoImage('v1');
const V2 = demoImage('v2');
const METRIC = 'demo_error_ratio';
const QUERY = `${METRIC}{cluster="$cluster"}`;
// As the contract spells them (the hub's and the member controller's constants must agree).
const RELEASE_ANNOTATION = 'hotupgrade.io/release';
const ROLLBACK_ANNOTATION = 'hotupgrade.io/rollback';

let env: HubEnv;
let exporter: Exporter;
let prom: Prometheus;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const member = (name: string): Member => {
  const m = env.members[name];
  if (!m) throw new Error(`no member ${name}`);
  return m;
};

// ---- Release builders --------------------------------------------------------------------

const upgrade = (replicas: number | string, clusters?: string[]): ReleaseStep => ({
  upgrade: clusters ? { clusters, replicas } : { replicas },
});
const manualPause = (): ReleaseStep => ({ pause: { manual: true } });
const timedPause = (seconds: number): ReleaseStep => ({ pause: { seconds } });
const gate = (o: Partial<GateStep> = {}): ReleaseStep => ({
  gate: { query: QUERY, threshold: { op: '<', value: 0.01 }, intervalSeconds: 1, ...o },
});

function makeRelease(name: string, spec: Partial<HotReleaseSpec> & { steps: ReleaseStep[] }): HotRelease {
  return {
    apiVersion: 'hotupgrade.io/v1alpha1',
    kind: 'HotRelease',
    metadata: { name, namespace: NS },
    spec: { target: { name, namespace: NS }, image: V2, clusters: { names: ['a', 'b'] }, ...spec },
  };
}

// ---- What a user reads -------------------------------------------------------------------

const cond = (hr: HotRelease, type: string): string => conditionOf(hr, type);
const condMessage = (hr: HotRelease, type: string): string =>
  hr.status?.conditions?.find((c) => c.type === type)?.message ?? '';
const clusterStatus = (hr: HotRelease, name: string) => hr.status?.clusters?.find((c) => c.name === name);

/** status.currentStep over time while the release ran (what it says once final is left out). */
const stepsSeen = (t: Timeline): number[] =>
  t
    .changes((s) =>
      s.release?.status?.phase && FINAL.includes(s.release.status.phase)
        ? undefined
        : s.release?.status?.currentStep,
    )
    .map(Number);
const FINAL = ['Succeeded', 'Failed', 'RolledBack', 'Aborted'];

async function podImages(m: Member, name: string): Promise<string[]> {
  return (await m.pods(NS, name)).map(podImage).sort();
}

/** The member's target runs every pod at `image`, as its status and its pods say. */
async function expectAllAt(m: Member, name: string, image: string): Promise<HotDeployment> {
  const hd = await m.getHd(NS, name);
  expect(specImage(hd), `${m.name}: spec image`).toBe(image);
  expect(hd.spec.updateStrategy?.partition ?? 0, `${m.name}: partition`).toBe(0);
  expect(hd.status?.updateImage, `${m.name}: status.updateImage`).toBe(image);
  expect(hd.status?.updatedReplicas, `${m.name}: updatedReplicas`).toBe(REPLICAS);
  expect(hd.status?.readyReplicas, `${m.name}: readyReplicas`).toBe(REPLICAS);
  expect(hd.status?.upgradingReplicas ?? 0, `${m.name}: upgradingReplicas`).toBe(0);
  expect(await podImages(m, name), `${m.name}: pods`).toEqual(Array<string>(REPLICAS).fill(image));
  return hd;
}

/** Waits until the member's controller reports every pod at `image` (the hub may finish a step before its last pod is ready). */
async function waitAllAt(m: Member, name: string, image: string, timeoutMs = 30_000): Promise<void> {
  await until(`${m.name}: every pod of ${name} at ${image}`, timeoutMs, async () => {
    const hd = await m.getHd(NS, name);
    const st = hd.status;
    return st !== undefined &&
      st.observedGeneration === hd.metadata.generation &&
      st.updateImage === image &&
      st.updatedReplicas === REPLICAS &&
      st.readyReplicas === REPLICAS &&
      (st.upgradingReplicas ?? 0) === 0
      ? true
      : undefined;
  });
}

async function eventReasons(
  name: string,
): Promise<Map<string, { count: number; type: string; messages: string[] }>> {
  const out = new Map<string, { count: number; type: string; messages: string[] }>();
  for (const e of await env.releaseEvents(NS, name)) {
    const r = out.get(e.reason) ?? { count: 0, type: e.type, messages: [] };
    r.count += e.count;
    r.messages.push(e.message);
    out.set(e.reason, r);
  }
  return out;
}

/** Waits (bounded) until the release has an Event of each reason. */
async function waitEvents(
  name: string,
  reasons: string[],
  timeoutMs = 10_000,
): Promise<Awaited<ReturnType<typeof eventReasons>>> {
  return until(`Events ${reasons.join(', ')} on hotrelease ${name}`, timeoutMs, async () => {
    const ev = await eventReasons(name);
    return reasons.every((r) => ev.has(r)) ? ev : undefined;
  });
}

async function setRatio(values: Record<string, number>): Promise<void> {
  for (const [cluster, v] of Object.entries(values)) exporter.set(METRIC, { cluster }, v);
  for (const [cluster, v] of Object.entries(values))
    await waitForValue(prom, `${METRIC}{cluster="${cluster}"}`, v);
}

// ---- The environment ---------------------------------------------------------------------

beforeAll(async () => {
  if (skip) return;
  const t0 = Date.now();
  [env, exporter] = await Promise.all([startHubEnv({ members: ['a', 'b'] }), startExporter()]);
  prom = await startGatePrometheus({ kubeconfig: env.hub.kubeconfig, exporter, hubPort: env.hubPort });
  await env.namespace(NS);
  await env.startHub();
  console.error(
    `[hub suite] environment up in ${((Date.now() - t0) / 1000).toFixed(1)} s; logs in ${env.dir}`,
  );
}, 300_000);

afterAll(async () => {
  await Promise.allSettled([prom?.stop(), exporter?.close()]);
  await env?.stop();
});

afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail' && env) console.error(`[hub suite] hub log:\n${env.hubLogTail(80)}`);
});

// ---- MemberCluster -----------------------------------------------------------------------

describe.skipIf(skip)('MemberCluster status', () => {
  it('reports a reachable member with its Kubernetes and operator versions', async () => {
    for (const name of ['a', 'b']) {
      const mc = await until(`MemberCluster ${name} Reachable`, 30_000, async () => {
        const m = await env.getMemberCluster(name);
        return conditionOf(m, CONDITIONS.reachable) === `True/${REASONS.probeSucceeded}` ? m : undefined;
      });
      expect(mc.status?.kubernetesVersion).toMatch(/^v1\.\d+\.\d+/);
      expect(mc.status?.operatorVersion).toBe(OPERATOR_VERSION);
      expect(Date.parse(mc.status?.lastProbeTime ?? '')).not.toBeNaN();
    }
  });

  it('names the missing Secret (KubeconfigInvalid), and turns Reachable once the Secret exists', async () => {
    await env.createMemberCluster({
      apiVersion: 'hotupgrade.io/v1alpha1',
      kind: 'MemberCluster',
      metadata: { name: 'c' },
      spec: { kubeconfigSecretRef: { namespace: HUB_NAMESPACE, name: 'c-kubeconfig' } },
    });
    try {
      const mc = await until('MemberCluster c KubeconfigInvalid', 30_000, async () => {
        const m = await env.getMemberCluster('c');
        return conditionOf(m, CONDITIONS.reachable) === `False/${REASONS.kubeconfigInvalid}` ? m : undefined;
      });
      const message = mc.status?.conditions?.find((c) => c.type === CONDITIONS.reachable)?.message ?? '';
      expect(message).toContain('c-kubeconfig');

      // The fix the message asks for: create the Secret (here: a's kubeconfig).
      const a = await env.hub.client.get<{ data: Record<string, string> }>(
        `/api/v1/namespaces/${HUB_NAMESPACE}/secrets/a-kubeconfig`,
      );
      if (!a.ok) throw new Error(a.message);
      const created = await env.hub.client.create(`/api/v1/namespaces/${HUB_NAMESPACE}/secrets`, {
        metadata: { name: 'c-kubeconfig', namespace: HUB_NAMESPACE },
        data: a.body.data,
      });
      expect(created.ok).toBe(true);
      await until('MemberCluster c Reachable once its Secret exists', 30_000, async () => {
        const m = await env.getMemberCluster('c');
        return conditionOf(m, CONDITIONS.reachable) === `True/${REASONS.probeSucceeded}` ? m : undefined;
      });
    } finally {
      await env.hub.client.delete(memberClusterPath('c'));
      await env.hub.client.delete(`/api/v1/namespaces/${HUB_NAMESPACE}/secrets/c-kubeconfig`);
    }
  });
});

// ---- A: canary, approval, gate, rollout ---------------------------------------------------

describe.skipIf(skip)('a release through a canary, a manual approval and a gate', () => {
  const name = 'canary';

  it('upgrades one pod in a, waits for approval, passes the gate, then rolls out everywhere', async () => {
    await env.createHdEverywhere(NS, name, { replicas: REPLICAS, image: V1 });
    await setRatio({ a: 0.001, b: 0.002 });
    const bBefore = await member('b').getHd(NS, name);

    const timeline = recordTimeline(env, NS, name, 100);
    const created = await env.createRelease(
      makeRelease(name, {
        steps: [upgrade(1, ['a']), manualPause(), gate({ samples: 2 }), upgrade('50%'), upgrade('100%')],
        prometheus: { url: prom.url },
      }),
    );

    // Step 1 done, step 2 waits for the user.
    const paused = await env.waitRelease(
      NS,
      name,
      'Paused at step 2 (AwaitingApproval)',
      (hr) => hr.status?.phase === 'Paused' && hr.status.currentStep === 2,
    );
    expect(cond(paused, CONDITIONS.paused)).toBe(`True/${REASONS.awaitingApproval}`);
    const a = await member('a').getHd(NS, name);
    expect(specImage(a)).toBe(V2);
    expect(a.spec.updateStrategy?.partition).toBe(REPLICAS - 1);
    expect(JSON.parse(a.metadata.annotations?.[RELEASE_ANNOTATION] ?? '{}')).toEqual({
      release: `${NS}/${name}`,
      uid: created.metadata.uid,
      image: V2,
      previousImage: V1,
    });
    await until('a: one pod at v2', 20_000, async () => {
      const imgs = await podImages(member('a'), name);
      return imgs.filter((i) => i === V2).length === 1 && imgs.filter((i) => i === V1).length === REPLICAS - 1
        ? true
        : undefined;
    });
    // b untouched: same generation, no release annotation, every pod at v1.
    const b = await member('b').getHd(NS, name);
    expect(b.metadata.generation).toBe(bBefore.metadata.generation);
    expect(b.metadata.annotations?.[RELEASE_ANNOTATION]).toBeUndefined();
    expect(specImage(b)).toBe(V1);
    expect(await podImages(member('b'), name)).toEqual(Array<string>(REPLICAS).fill(V1));
    expect(clusterStatus(paused, 'a')).toMatchObject({
      target: 1,
      updated: 1,
      previousImage: V1,
      reachable: true,
    });
    expect(clusterStatus(paused, 'b')?.updated ?? 0).toBe(0);
    await waitEvents(name, [EVENTS.stepStarted, EVENTS.awaitingApproval]);

    // The pause holds without approval.
    await sleep(2_000);
    const still = await env.getRelease(NS, name);
    expect(still.status?.currentStep).toBe(2);
    expect(still.status?.phase).toBe('Paused');

    // Approve, as `kubectl patch hotrelease canary --type merge -p '{"spec":{"approved":{"step":3}}}'`.
    await env.patchRelease(NS, name, { spec: { approved: { step: 3 } } });
    const gated = await env.waitRelease(NS, name, 'the gate of step 3 Passed', (hr) =>
      Boolean(hr.status?.gates?.some((g) => g.step === 3 && g.state === 'Passed')),
    );
    const g = gated.status?.gates?.find((x) => x.step === 3);
    expect(g?.successes).toBeGreaterThanOrEqual(2);
    expect(g?.failures ?? 0).toBe(0);
    expect(g?.results?.map((r) => [r.cluster, r.value, r.passed]).sort()).toEqual([
      ['a', 0.001, true],
      ['b', 0.002, true],
    ]);
    expect(g?.results?.every((r) => !Number.isNaN(Date.parse(r.at)))).toBe(true);

    const done = await env.waitRelease(
      NS,
      name,
      'Succeeded',
      (hr) => hr.status?.phase === 'Succeeded',
      90_000,
    );
    await timeline.stop();
    expect(cond(done, CONDITIONS.progressing)).toBe(`True/${REASONS.releaseComplete}`);
    expect(cond(done, CONDITIONS.paused)).not.toMatch(/^True\//);
    expect(cond(done, CONDITIONS.reachable)).toMatch(/^True\//);
    expect(cond(done, CONDITIONS.degraded)).not.toMatch(/^True\//);
    expect(done.status?.observedGeneration).toBe(done.metadata.generation);
    expect(Date.parse(done.status?.completedAt ?? '')).not.toBeNaN();
    for (const m of ['a', 'b']) {
      await waitAllAt(member(m), name, V2);
      await expectAllAt(member(m), name, V2);
      expect(clusterStatus(done, m)).toMatchObject({ updated: REPLICAS, previousImage: V1, image: V2 });
    }
    // The steps in order, as partitions: a 3 (1 pod), 2 (50%), 0; b 2 (50%), 0.
    const partitions = (m: string): number[] =>
      timeline
        .changes((s) => {
          const hd = s.hds[m];
          return hd && specImage(hd) === V2 ? (hd.spec.updateStrategy?.partition ?? 0) : undefined;
        })
        .map(Number);
    expect(partitions('a')).toEqual([3, 2, 0]);
    expect(partitions('b')).toEqual([2, 0]);
    // Never past approval: step 3 only started after the patch.
    expect(stepsSeen(timeline)).toEqual([1, 2, 3, 4, 5]);

    const ev = await waitEvents(name, [EVENTS.stepStarted, EVENTS.gatePassed, EVENTS.releaseSucceeded]);
    expect(ev.get(EVENTS.stepStarted)?.count).toBe(5);
    expect([...ev.values()].filter((e) => e.type === 'Warning')).toEqual([]);
  });
});

// ---- B: a failing gate rolls back ---------------------------------------------------------

describe.skipIf(skip)('a gate that fails, with autoRollback', () => {
  const name = 'badgate';

  it('fails the release, then rolls b back before a, every pod to the previous image', async () => {
    await env.createHdEverywhere(NS, name, { replicas: REPLICAS, image: V1 });
    await setRatio({ a: 0.001, b: 0.5 });

    const timeline = recordTimeline(env, NS, name, 100);
    await env.createRelease(
      makeRelease(name, {
        steps: [
          upgrade(2, ['a']),
          upgrade(2, ['b']),
          gate({ prometheus: { url: prom.url } }),
          upgrade('100%'),
        ],
        autoRollback: true,
      }),
    );
    const done = await env.waitRelease(
      NS,
      name,
      'RolledBack',
      (hr) => hr.status?.phase === 'RolledBack',
      90_000,
    );
    // Let the timeline see the members settle.
    for (const m of ['a', 'b']) await waitAllAt(member(m), name, V1);
    await sleep(300);
    await timeline.stop();

    const phases = timeline.changes((s) => s.release?.status?.phase);
    expect(phases.indexOf('Failed')).toBeGreaterThanOrEqual(0);
    expect(phases.indexOf('Failed')).toBeLessThan(phases.indexOf('RolledBack'));
    expect(phases.at(-1)).toBe('RolledBack');
    const degraded = timeline.changes((s) => (s.release ? cond(s.release, CONDITIONS.degraded) : undefined));
    expect(degraded).toContain(`True/${REASONS.gateFailed}`);
    expect(degraded.indexOf(`True/${REASONS.gateFailed}`)).toBeLessThan(
      degraded.indexOf(`True/${REASONS.rolledBack}`),
    );
    expect(cond(done, CONDITIONS.degraded)).toBe(`True/${REASONS.rolledBack}`);
    expect(
      timeline.changes((s) => (s.release ? cond(s.release, CONDITIONS.progressing) : undefined)),
    ).toContain(`True/${REASONS.rollingBack}`);
    // Step 4 never started.
    expect(Math.max(...stepsSeen(timeline))).toBe(3);

    const g = done.status?.gates?.find((x) => x.step === 3);
    expect(g?.state).toBe('Failed');
    expect(g?.failures).toBeGreaterThanOrEqual(1);
    expect(g?.results?.map((r) => [r.cluster, r.value, r.passed]).sort()).toEqual([
      ['a', 0.001, true],
      ['b', 0.5, false],
    ]);

    for (const m of ['a', 'b']) {
      const hd = await expectAllAt(member(m), name, V1);
      const record = JSON.parse(
        hd.metadata.annotations?.[ROLLBACK_ANNOTATION] ?? '{}',
      ) as Partial<RollbackRecord>;
      expect(record, `${m}: rollback record`).toMatchObject({ from: V2, to: V1 });
      expect(record.generation).toBe(hd.metadata.generation);
    }

    // Reverse order of first touch (a, then b): b goes back first, a only once b is done.
    const backAt = (m: string): number | undefined =>
      timeline.firstAt((s) => {
        const hd = s.hds[m];
        return Boolean(hd && specImage(hd) === V1 && hd.metadata.annotations?.[ROLLBACK_ANNOTATION]);
      });
    const doneAt = (m: string): number | undefined =>
      timeline.firstAt((s) => {
        const hd = s.hds[m];
        return Boolean(
          hd?.metadata.annotations?.[ROLLBACK_ANNOTATION] &&
          hd.status?.updateImage === V1 &&
          hd.status.updatedReplicas === REPLICAS &&
          (hd.status.upgradingReplicas ?? 0) === 0,
        );
      });
    const [bBack, bDone, aBack] = [backAt('b'), doneAt('b'), backAt('a')];
    console.error(
      `[hub suite] rollback: b image back at +0 ms, b done at +${(bDone ?? NaN) - (bBack ?? NaN)} ms, a image back at +${(aBack ?? NaN) - (bBack ?? NaN)} ms`,
    );
    expect(bBack).toBeDefined();
    expect(bDone).toBeDefined();
    expect(aBack).toBeDefined();
    expect(bBack as number).toBeLessThan(aBack as number);
    expect(bDone as number).toBeLessThanOrEqual(aBack as number);

    const ev = await waitEvents(name, [EVENTS.gateFailed, EVENTS.releaseFailed, EVENTS.rolledBack]);
    for (const r of [EVENTS.gateFailed, EVENTS.releaseFailed, EVENTS.rolledBack])
      expect(ev.get(r)?.type).toBe('Warning');
  });
});

// ---- C: a member cut off ------------------------------------------------------------------

describe.skipIf(skip)('a member cut off in the middle of a release', () => {
  const name = 'cutoff';

  it('pauses with b unreachable, then resumes by itself when b answers again', async () => {
    await env.createHdEverywhere(NS, name, { replicas: REPLICAS, image: V1 });
    await env.createRelease(
      makeRelease(name, { steps: [upgrade('100%', ['a']), manualPause(), upgrade('100%')] }),
    );
    await env.waitRelease(
      NS,
      name,
      'Paused at step 2',
      (hr) => hr.status?.phase === 'Paused' && hr.status.currentStep === 2,
    );

    // Approve the last step and cut b off as soon as the hub starts it.
    await env.patchRelease(NS, name, { spec: { approved: { step: 3 } } });
    const started = await env.waitRelease(
      NS,
      name,
      'step 3 started',
      (hr) => hr.status?.currentStep === 3,
      30_000,
    );
    expect(started.status?.phase).not.toBe('Succeeded');
    const b = member('b');
    await b.cutOff();
    let restored = false;
    try {
      const paused = await env.waitRelease(
        NS,
        name,
        'Paused with b unreachable',
        (hr) =>
          hr.status?.phase === 'Paused' &&
          cond(hr, CONDITIONS.reachable) === `False/${REASONS.clustersUnreachable}`,
        30_000,
      );
      expect(paused.status?.currentStep).toBe(3);
      expect(cond(paused, CONDITIONS.paused)).toBe(`True/${REASONS.clustersUnreachable}`);
      for (const type of [CONDITIONS.reachable, CONDITIONS.paused]) {
        const message = condMessage(paused, type);
        expect(message).toMatch(/cluster b: /);
        expect(message).not.toMatch(/cluster a: /);
        // The error, as the member's client saw it.
        expect(message).toMatch(/ECONNREFUSED|ECONNRESET|timed out|timeout|socket|other side closed/i);
      }
      expect(clusterStatus(paused, 'b')?.reachable).toBe(false);
      expect(clusterStatus(paused, 'b')?.message).toBeTruthy();
      expect(clusterStatus(paused, 'a')?.reachable).toBe(true);
      const ev = await waitEvents(name, [EVENTS.clusterUnreachable]);
      expect(ev.get(EVENTS.clusterUnreachable)?.type).toBe('Warning');
      expect(ev.get(EVENTS.clusterUnreachable)?.messages.join('\n')).toMatch(/\bb\b/);
      // The MemberCluster says so too.
      await until('MemberCluster b ProbeFailed', 15_000, async () =>
        conditionOf(await env.getMemberCluster('b'), CONDITIONS.reachable) === `False/${REASONS.probeFailed}`
          ? true
          : undefined,
      );

      await b.restore();
      restored = true;
    } finally {
      if (!restored) await b.restore();
    }
    const done = await env.waitRelease(
      NS,
      name,
      'Succeeded after b is back',
      (hr) => hr.status?.phase === 'Succeeded',
      120_000,
    );
    expect(cond(done, CONDITIONS.reachable)).toMatch(/^True\//);
    expect(cond(done, CONDITIONS.paused)).not.toMatch(/^True\//);
    expect(clusterStatus(done, 'b')?.reachable).toBe(true);
    for (const m of ['a', 'b']) {
      await waitAllAt(member(m), name, V2);
      await expectAllAt(member(m), name, V2);
    }
    await waitEvents(name, [EVENTS.releaseSucceeded]);
  });

  it('counts a member that hangs (frozen API server) as unreachable after --member-timeout-seconds', async () => {
    const frozen = 'frozen';
    await env.createHdEverywhere(NS, frozen, { replicas: REPLICAS, image: V1 });
    await env.createRelease(
      makeRelease(frozen, { steps: [upgrade(1, ['a']), manualPause(), upgrade('100%')] }),
    );
    await env.waitRelease(
      NS,
      frozen,
      'Paused at step 2',
      (hr) => hr.status?.phase === 'Paused' && hr.status.currentStep === 2,
    );
    await env.patchRelease(NS, frozen, { spec: { approved: { step: 3 } } });
    await env.waitRelease(NS, frozen, 'step 3 started', (hr) => hr.status?.currentStep === 3, 30_000);
    const thaw = member('b').freeze();
    const frozenAt = Date.now();
    try {
      const paused = await env.waitRelease(
        NS,
        frozen,
        'Paused with b unreachable (timed out)',
        (hr) =>
          hr.status?.phase === 'Paused' &&
          cond(hr, CONDITIONS.reachable) === `False/${REASONS.clustersUnreachable}`,
        30_000,
      );
      console.error(`[hub suite] frozen member b unreachable after ${Date.now() - frozenAt} ms`);
      expect(condMessage(paused, CONDITIONS.reachable)).toMatch(/cluster b: /);
      expect(condMessage(paused, CONDITIONS.reachable)).not.toMatch(/cluster a: /);
      expect(clusterStatus(paused, 'a')?.reachable).toBe(true);
    } finally {
      thaw();
    }
    await env.waitRelease(
      NS,
      frozen,
      'Succeeded after b thaws',
      (hr) => hr.status?.phase === 'Succeeded',
      120_000,
    );
    for (const m of ['a', 'b']) {
      await waitAllAt(member(m), frozen, V2);
      await expectAllAt(member(m), frozen, V2);
    }
  });
});

// ---- D: the hub killed --------------------------------------------------------------------

describe.skipIf(skip)('the hub killed in the middle of a release', () => {
  const name = 'hubcrash';
  const PAUSE_S = 8;

  it('resumes a timed pause and an upgrade step where they were, and finishes', async () => {
    await env.createHdEverywhere(NS, name, { replicas: REPLICAS, image: V1 });
    const timeline = recordTimeline(env, NS, name);
    // Clusters by label this time.
    await env.createRelease(
      makeRelease(name, {
        clusters: { selector: { matchLabels: { 'hotupgrade.test/member': 'true' } } },
        steps: [upgrade(2, ['a']), timedPause(PAUSE_S), upgrade('100%')],
      }),
    );
    const inPause = await env.waitRelease(
      NS,
      name,
      'the timed pause of step 2',
      (hr) => hr.status?.currentStep === 2,
    );
    const annotation = (await member('a').getHd(NS, name)).metadata.annotations?.[RELEASE_ANNOTATION];
    expect(annotation).toBeTruthy();

    // SIGKILL in the pause; the release stays as it was while no hub runs.
    await env.killHub('SIGKILL');
    await sleep(2_000);
    const whileDown = await env.getRelease(NS, name);
    expect(whileDown.status?.currentStep).toBe(2);
    expect(whileDown.status?.stepStartedAt).toBe(inPause.status?.stepStartedAt);
    await env.startHub();

    // The pause is not restarted: step 3 starts PAUSE_S after the pause started, not after the restart.
    const step3 = await env.waitRelease(
      NS,
      name,
      'step 3 after the restart',
      (hr) => (hr.status?.currentStep ?? 0) >= 3,
      30_000,
    );
    const pauseStart = Date.parse(inPause.status?.stepStartedAt ?? '');
    const step3Start = Date.parse(step3.status?.stepStartedAt ?? '');
    expect(step3Start - pauseStart).toBeGreaterThanOrEqual(PAUSE_S * 1000 - 1000);
    expect(step3Start - pauseStart).toBeLessThan(PAUSE_S * 1000 + 8_000);

    // SIGKILL again in the upgrade step, restarted at once.
    await env.killHub('SIGKILL');
    await env.startHub();
    const done = await env.waitRelease(
      NS,
      name,
      'Succeeded after two restarts',
      (hr) => hr.status?.phase === 'Succeeded',
      90_000,
    );
    await timeline.stop();

    // Never back to an earlier step; each step started once; the first touch not redone.
    expect(stepsSeen(timeline)).toEqual([1, 2, 3]);
    const pauseStarts = timeline.changes((s) =>
      s.release?.status?.currentStep === 2 ? s.release.status.stepStartedAt : undefined,
    );
    expect(pauseStarts).toEqual([inPause.status?.stepStartedAt]);
    expect(done.status?.startedAt).toBe(inPause.status?.startedAt);
    expect((await member('a').getHd(NS, name)).metadata.annotations?.[RELEASE_ANNOTATION]).toBe(annotation);
    for (const m of ['a', 'b']) {
      await waitAllAt(member(m), name, V2);
      await expectAllAt(member(m), name, V2);
    }
    const ev = await waitEvents(name, [EVENTS.releaseSucceeded]);
    // No step started twice. A SIGKILL between the status write that starts a step and its
    // Event may lose that Event (Events are best effort), hence at least 2.
    const started = ev.get(EVENTS.stepStarted);
    console.error(`[hub suite] StepStarted after two hub restarts: ${JSON.stringify(started?.messages)}`);
    expect(started?.count).toBeLessThanOrEqual(3);
    expect(started?.count).toBeGreaterThanOrEqual(2);
    expect(new Set(started?.messages).size).toBe(started?.messages.length);
    expect(ev.get(EVENTS.releaseSucceeded)?.count).toBe(1);
  });
});

// ---- What a user does to a running release ------------------------------------------------

describe.skipIf(skip)('pause, abort and a rollback asked for with kubectl patch', () => {
  const name = 'handson';

  it('holds while paused, stops where it is on abort, then rolls every touched cluster back', async () => {
    await env.createHdEverywhere(NS, name, { replicas: REPLICAS, image: V1 });
    // Created paused: nothing is asked of any member.
    await env.createRelease(
      makeRelease(name, { paused: true, steps: [upgrade(2), manualPause(), upgrade('100%')] }),
    );
    const held = await env.waitRelease(
      NS,
      name,
      'Paused (PausedBySpec)',
      (hr) => hr.status?.phase === 'Paused',
    );
    expect(cond(held, CONDITIONS.paused)).toBe(`True/${REASONS.pausedBySpec}`);
    await sleep(1_500);
    for (const m of ['a', 'b']) {
      const hd = await member(m).getHd(NS, name);
      expect(specImage(hd), `${m} untouched while paused`).toBe(V1);
      expect(hd.metadata.annotations?.[RELEASE_ANNOTATION]).toBeUndefined();
    }

    // Resume: step 1 takes 2 pods per cluster, then the manual pause waits.
    await env.patchRelease(NS, name, { spec: { paused: false } });
    await env.waitRelease(
      NS,
      name,
      'AwaitingApproval at step 2',
      (hr) =>
        hr.status?.currentStep === 2 && cond(hr, CONDITIONS.paused) === `True/${REASONS.awaitingApproval}`,
    );
    for (const m of ['a', 'b']) {
      await until(`${m}: 2 pods at v2`, 20_000, async () =>
        (await podImages(member(m), name)).filter((i) => i === V2).length === 2 ? true : undefined,
      );
    }

    // Abort: final at once; every pod keeps the version it runs.
    await env.patchRelease(NS, name, { spec: { abort: true } });
    const aborted = await env.waitRelease(NS, name, 'Aborted', (hr) => hr.status?.phase === 'Aborted');
    expect(cond(aborted, CONDITIONS.degraded)).toBe(`True/${REASONS.aborted}`);
    await waitEvents(name, [EVENTS.aborted]);
    await sleep(1_500);
    for (const m of ['a', 'b']) {
      const hd = await member(m).getHd(NS, name);
      expect(hd.spec.updateStrategy?.partition, `${m}: partition after abort`).toBe(REPLICAS - 2);
      expect((await podImages(member(m), name)).filter((i) => i === V2)).toHaveLength(2);
    }
    expect((await env.getRelease(NS, name)).status?.phase).toBe('Aborted');

    // Roll back the aborted release: every touched cluster back at v1.
    await env.patchRelease(NS, name, { spec: { rollback: true } });
    const back = await env.waitRelease(NS, name, 'RolledBack', (hr) => hr.status?.phase === 'RolledBack');
    expect(cond(back, CONDITIONS.degraded)).toBe(`True/${REASONS.rolledBack}`);
    expect(condMessage(back, CONDITIONS.degraded)).toContain('spec.rollback is true');
    for (const m of ['a', 'b']) {
      await waitAllAt(member(m), name, V1);
      await expectAllAt(member(m), name, V1);
      const record = JSON.parse(
        (await member(m).getHd(NS, name)).metadata.annotations?.[ROLLBACK_ANNOTATION] ?? '{}',
      ) as RollbackRecord;
      expect(record).toMatchObject({ from: V2, to: V1 });
    }
  });
});

// ---- The hub's metrics and alerts, in a real Prometheus ------------------------------------

describe.skipIf(skip)("the hub's metrics and alerts", () => {
  it('every hub alert query returns data, and HotReleaseFailed fires for the release whose gate failed', async () => {
    const queries = alertQueries(ALERTS.filter((a) => a.component === 'hub'));
    expect(queries.length).toBeGreaterThan(0);
    const none = await until('every hub alert query to return data', 30_000, async () => {
      const empty: string[] = [];
      for (const q of queries) if ((await prom.query(q.expr)).length === 0) empty.push(`${q.id}: ${q.expr}`);
      return empty.length === 0 ? empty : undefined;
    });
    expect(none).toEqual([]);
    // The release of the failing gate above stays RolledBack: the alert fires for it.
    const firing = await until('HotReleaseFailed to fire for shop/badgate', 30_000, async () => {
      const r = await prom.query('ALERTS{alertname="HotReleaseFailed", alertstate="firing"}');
      const mine = r.filter((x) => x.metric.hotrelease === 'badgate' && x.metric.namespace === NS);
      return mine.length > 0 ? mine : undefined;
    });
    expect(firing[0]?.metric.severity).toBe('warning');
    // And not for the release that succeeded.
    const ok = await prom.query('ALERTS{alertname="HotReleaseFailed", hotrelease="canary"}');
    expect(ok).toEqual([]);
    // Both members answer: the unreachable alert's base is 1 for each.
    const reachable = await prom.query('hotupgrade_member_cluster_reachable');
    expect(Object.fromEntries(reachable.map((x) => [x.metric.cluster, Number(x.value[1])]))).toMatchObject({
      a: 1,
      b: 1,
    });
  });
});
