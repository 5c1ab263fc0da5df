// The hub reconciler: informers on HotReleases and MemberClusters (hub cluster) feed one
// work queue. A release key reads each member's target HotDeployment, plans (plan.ts),
// asks Prometheus when a gate round is due, patches the members, then writes the status
// and Events. A member key probes the cluster and writes MemberCluster.status. Members
// are read live (no watches across clusters): a running release is looked at every
// --poll-seconds.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { rfc3339, setConditions } from '../controller/conditions.ts';
import { eventObject } from '../controller/execute.ts';
import type { KubeClient } from '../controller/kube/client.ts';
import { Informer } from '../controller/kube/informer.ts';
import { controllerMetrics, type ControllerMetrics } from '../controller/kube/metrics.ts';
import { runWorkers, type ReconcileOutcome } from '../controller/kube/runner.ts';
import type { KubeObject } from '../controller/kube/types.ts';
import { WorkQueue } from '../controller/kube/workqueue.ts';
import { hdPath } from '../controller/writer.ts';
import type { HotRelease, MemberCluster, MemberClusterStatus } from './api/types.ts';
import { CONDITIONS, GROUP, HOT_RELEASE, MEMBER_CLUSTER, REASONS, VERSION } from './constants.ts';
import { judge, query } from './gate.ts';
import { Members } from './members.ts';
import { createHubMetrics, type HubMetrics } from './metrics.ts';
import { releaseMarkOf } from './memberWrites.ts';
import { settled } from './phases.ts';
import { planRelease, type MemberView, type ReleasePlan } from './plan.ts';
import { selectMembers } from './select.ts';

export const HUB_COMPONENT = 'hotupgrade-hub';

export interface HubOptions {
  client: KubeClient;
  log: Logger;
  registry: Registry;
  workers: number;
  resyncMs: number;
  probeMs: number;
  pollMs: number;
  memberTimeoutMs: number;
  isLeader: () => boolean;
  userAgent: string;
  now?: () => number;
}

const releasesPath = `/apis/${GROUP}/${VERSION}/${HOT_RELEASE.plural}`;
const releasePath = (ns: string, name: string): string =>
  `/apis/${GROUP}/${VERSION}/namespaces/${ns}/${HOT_RELEASE.plural}/${name}`;
const membersPath = `/apis/${GROUP}/${VERSION}/${MEMBER_CLUSTER.plural}`;

const INFORMER_TIMING = { unhealthyAfterMs: 5_000, backoff: { initialMs: 200, maxMs: 5_000 } } as const;

const RELEASE = 'release:';
const MEMBER = 'member:';

function slim<T extends KubeObject>(obj: T): T {
  if (obj.metadata?.managedFields) {
    const { managedFields: _m, ...metadata } = obj.metadata;
    return { ...obj, metadata };
  }
  return obj;
}

/** Gate queries answer within this, or the round's result for that cluster fails. */
const GATE_TIMEOUT_MS = 10_000;

export class HubReconciler {
  readonly releases: Informer<HotRelease & KubeObject>;
  readonly clusters: Informer<MemberCluster & KubeObject>;
  readonly queue: WorkQueue<string>;
  readonly members: Members;
  readonly #o: HubOptions;
  readonly #now: () => number;
  readonly #metrics: ControllerMetrics;
  readonly #hub: HubMetrics;

  constructor(o: HubOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
    this.releases = new Informer<HotRelease & KubeObject>({
      client: o.client,
      path: releasesPath,
      logger: o.log,
      name: 'hotreleases',
      transform: slim,
      resyncMs: o.resyncMs,
      ...INFORMER_TIMING,
    });
    this.clusters = new Informer<MemberCluster & KubeObject>({
      client: o.client,
      path: membersPath,
      logger: o.log,
      name: 'memberclusters',
      transform: slim,
      resyncMs: o.resyncMs,
      ...INFORMER_TIMING,
    });
    this.queue = new WorkQueue<string>({ name: 'hotrelease', registry: o.registry });
    this.#metrics = controllerMetrics(o.registry, 'hotrelease', o.workers);
    this.#hub = createHubMetrics(o.registry);
    this.members = new Members({
      hub: o.client,
      log: o.log,
      timeoutMs: o.memberTimeoutMs,
      secretTtlMs: o.probeMs,
      userAgent: o.userAgent,
      now: this.#now,
    });
    const enqueueRelease = (r: HotRelease): void =>
      this.queue.add(`${RELEASE}${r.metadata.namespace ?? ''}/${r.metadata.name ?? ''}`);
    this.releases.addHandlers({
      onAdd: enqueueRelease,
      onUpdate: (old, r) => {
        // Our own status writes come back as updates: only spec changes need a reconcile now.
        if (old.metadata.generation !== r.metadata.generation) enqueueRelease(r);
      },
      onDelete: (r) => this.#hub.forgetRelease(r.metadata.namespace ?? '', r.metadata.name ?? ''),
    });
    const enqueueMember = (mc: MemberCluster): void => {
      this.queue.add(`${MEMBER}${mc.metadata.name ?? ''}`);
      // Which releases use it depends on names and selectors: look at all of them.
      for (const r of this.releases.store.list()) if (!settled(r.status)) enqueueRelease(r);
    };
    this.clusters.addHandlers({
      onAdd: enqueueMember,
      onUpdate: (old, mc) => {
        if (old.metadata.generation !== mc.metadata.generation || labelsChanged(old, mc)) enqueueMember(mc);
      },
      onDelete: (mc) => {
        this.members.forget(mc.metadata.name ?? '');
        this.#hub.forgetMember(mc.metadata.name ?? '');
        enqueueMember(mc);
      },
    });
  }

  start(): void {
    this.releases.start();
    this.clusters.start();
  }

  async waitForSync(timeoutMs: number): Promise<boolean> {
    const [a, b] = await Promise.all([
      this.releases.waitForSync(timeoutMs),
      this.clusters.waitForSync(timeoutMs),
    ]);
    return a && b;
  }

  health(): { ok: boolean; informers: Record<string, unknown> } {
    const informers = { hotreleases: this.releases.health(), memberclusters: this.clusters.health() };
    return { ok: informers.hotreleases.healthy && informers.memberclusters.healthy, informers };
  }

  async run(signal: AbortSignal): Promise<void> {
    for (const mc of this.clusters.store.list()) this.queue.add(`${MEMBER}${mc.metadata.name ?? ''}`);
    for (const r of this.releases.store.list())
      this.queue.add(`${RELEASE}${r.metadata.namespace ?? ''}/${r.metadata.name ?? ''}`);
    await runWorkers(
      {
        queue: this.queue,
        workers: this.#o.workers,
        metrics: this.#metrics,
        log: this.#o.log,
        reconcile: (k) =>
          k.startsWith(MEMBER)
            ? this.probeMember(k.slice(MEMBER.length))
            : this.reconcileRelease(k.slice(RELEASE.length)),
      },
      signal,
    );
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all([this.releases.stop(), this.clusters.stop()]);
    await this.members.close();
  }

  // ---- MemberCluster ------------------------------------------------------------------

  async probeMember(name: string): Promise<ReconcileOutcome> {
    const mc = this.clusters.store.get(name);
    if (!mc || mc.metadata.deletionTimestamp) return { result: 'success' };
    const nowMs = this.#now();
    const p = await this.members.probe(mc);
    const generation = mc.metadata.generation ?? 0;
    const prev = mc.status ?? {};
    const status: MemberClusterStatus = {
      observedGeneration: generation,
      ...((p.kubernetesVersion ?? prev.kubernetesVersion)
        ? { kubernetesVersion: p.kubernetesVersion ?? prev.kubernetesVersion }
        : {}),
      ...((p.operatorVersion ?? prev.operatorVersion)
        ? { operatorVersion: p.operatorVersion ?? prev.operatorVersion }
        : {}),
      lastProbeTime: rfc3339(nowMs),
      conditions: setConditions(
        prev.conditions,
        [
          {
            type: CONDITIONS.reachable,
            status: p.reachable ? 'True' : 'False',
            reason: p.reachable
              ? REASONS.probeSucceeded
              : p.invalid
                ? REASONS.kubeconfigInvalid
                : REASONS.probeFailed,
            message: p.message,
          },
        ],
        nowMs,
        generation,
      ),
    };
    const wasReachable = prev.conditions?.find((c) => c.type === CONDITIONS.reachable)?.status;
    if (wasReachable !== (p.reachable ? 'True' : 'False'))
      this.#o.log.info(
        { cluster: name, reachable: p.reachable, message: p.message },
        'member cluster probed',
      );
    const r = await this.#writeStatus(this.clusters, `${membersPath}/${name}/status`, mc, status);
    if (r === 'conflict') return { result: 'requeue' };
    this.#hub.member(name, status);
    return { result: 'requeue_after', afterMs: this.#o.probeMs };
  }

  // ---- HotRelease ---------------------------------------------------------------------

  async reconcileRelease(key: string): Promise<ReconcileOutcome> {
    const rel = this.releases.store.get(key);
    if (!rel || rel.metadata.deletionTimestamp) return { result: 'success' };
    const [ns = '', name = ''] = key.split('/');
    const log = this.#o.log.child({ namespace: ns, hotrelease: name, reconcileID: randomUUID() });
    const nowMs = this.#now();
    // A final release changes nothing until the user asks for a rollback.
    if (settled(rel.status) && rel.status?.observedGeneration === rel.metadata.generation) {
      this.#hub.release(ns, name, rel.status ?? {});
      return { result: 'success' };
    }
    const { views, problem, clients } = await this.#readMembers(rel);
    const input = { release: rel, members: views, nowMs, ...(problem ? { clustersProblem: problem } : {}) };
    let p: ReleasePlan = planRelease(input);
    if (p.gateQueries) {
      const step = rel.spec.steps[(p.status.currentStep ?? 1) - 1]?.gate;
      const at = rfc3339(this.#now());
      const round = await Promise.all(
        p.gateQueries.map(async (q) =>
          step
            ? judge(step, q.cluster, await query(q, GATE_TIMEOUT_MS), at)
            : { cluster: q.cluster, passed: false, at },
        ),
      );
      log.info(
        {
          step: p.status.currentStep,
          round: round.map((r) => ({
            cluster: r.cluster,
            value: r.value,
            passed: r.passed,
            message: r.message,
          })),
        },
        'gate round',
      );
      p = planRelease({ ...input, gateRound: round });
    }
    let conflicts = 0;
    for (const w of p.writes) {
      const client = clients.get(w.cluster);
      if (!client || !this.#o.isLeader()) continue;
      const r = await client.patch(hdPath(w.namespace, w.name), w.ops, 'json');
      if (r.ok) {
        this.#hub.memberWrite(w.cluster, 'ok');
        log.info({ cluster: w.cluster, why: w.why }, 'member patched');
      } else if (r.status === 409 || r.status === 422) {
        // A `test` op failed: the member changed since it was read. Read again.
        conflicts++;
        this.#hub.memberWrite(w.cluster, 'conflict');
        log.debug({ cluster: w.cluster, message: r.message }, 'member changed since read');
      } else {
        this.#hub.memberWrite(w.cluster, 'error');
        log.warn({ cluster: w.cluster, status: r.status, message: r.message }, 'member patch failed');
      }
    }
    const written = await this.#writeStatus(this.releases, `${releasePath(ns, name)}/status`, rel, p.status);
    if (written === 'conflict') return { result: 'requeue' };
    if (written === 'error') return { result: 'error' };
    if (p.status.phase !== rel.status?.phase) {
      const held = p.status.conditions?.find((c) => c.type === CONDITIONS.paused && c.status === 'True');
      const bad = p.status.phase === 'Failed' || held?.reason === REASONS.clustersUnreachable;
      log[bad ? 'warn' : 'info'](
        { from: rel.status?.phase, to: p.status.phase, step: p.status.currentStep, why: held?.message },
        'phase',
      );
    }
    // Events only once their transition is recorded: a failed status write repeats it.
    for (const e of p.events) {
      const r = await this.#o.client.create(
        `/api/v1/namespaces/${ns}/events`,
        eventObject(rel, e, rfc3339(nowMs), HUB_COMPONENT),
      );
      if (!r.ok) log.warn({ reason: e.reason, message: r.message }, 'event not written');
    }
    this.#hub.release(ns, name, p.status);
    if (conflicts > 0) return { result: 'requeue_after', afterMs: 200 };
    if (settled(p.status)) return { result: 'success' };
    // Members are not watched: look again at the next poll, or sooner when a step asks.
    const poll = p.writes.length > 0 ? Math.min(500, this.#o.pollMs) : this.#o.pollMs;
    const wake = p.wakeAtMs !== undefined ? Math.max(100, p.wakeAtMs - this.#now()) : poll;
    return { result: 'requeue_after', afterMs: Math.min(wake, poll) };
  }

  /** Each cluster of the release, read now, in parallel; the clients to write with. */
  async #readMembers(
    rel: HotRelease,
  ): Promise<{ views: MemberView[]; problem: string | undefined; clients: Map<string, KubeClient> }> {
    const all = this.clusters.store.list();
    const { names, problem } = selectMembers(rel.spec.clusters, all);
    const ns = rel.spec.target.namespace ?? rel.metadata.namespace ?? 'default';
    const clients = new Map<string, KubeClient>();
    const views = await Promise.all(
      names.map(async (name): Promise<MemberView> => {
        const mc = this.clusters.store.get(name);
        if (!mc)
          return {
            name,
            invalid: `no MemberCluster ${name}: create it (docs/hub.md), or remove it from spec.clusters.names`,
          };
        const prometheusUrl = mc.spec.prometheus?.url;
        const base: MemberView = { name, ...(prometheusUrl ? { prometheusUrl } : {}) };
        const a = await this.members.access(mc);
        if (!a.ok) return { ...base, invalid: a.invalid };
        clients.set(name, a.client);
        const t = await this.members.readTarget(a.client, ns, rel.spec.target.name);
        if (!('hd' in t)) return { ...base, ...t };
        const mark = t.hd ? releaseMarkOf(t.hd) : undefined;
        if (mark && mark.uid !== rel.metadata.uid) {
          const other = this.releases.store.list().find((r) => r.metadata.uid === mark.uid);
          if (other && !settled(other.status)) return { ...base, hd: t.hd, busyWith: mark.release };
        }
        return { ...base, hd: t.hd };
      }),
    );
    return { views, problem, clients };
  }

  /** PUT the status when it changed, guarded by resourceVersion; keeps the cache current. */
  async #writeStatus<T extends (HotRelease | MemberCluster) & KubeObject>(
    informer: Informer<T>,
    path: string,
    obj: T,
    status: NonNullable<T['status']>,
  ): Promise<'ok' | 'unchanged' | 'conflict' | 'error'> {
    if (JSON.stringify(obj.status ?? {}) === JSON.stringify(status)) return 'unchanged';
    if (!this.#o.isLeader()) return 'error';
    const r = await this.#o.client.replace<T>(path, { ...obj, status });
    if (r.ok) {
      informer.store.set(slim(r.body));
      return 'ok';
    }
    if (r.status === 409) return 'conflict';
    this.#o.log.warn({ path, status: r.status, message: r.message }, 'status write failed');
    return 'error';
  }
}

function labelsChanged(a: MemberCluster, b: MemberCluster): boolean {
  return JSON.stringify(a.metadata.labels ?? {}) !== JSON.stringify(b.metadata.labels ?? {});
}
