// The HotDeployment reconciler: informers on HotDeployments and their pods feed a work
// queue of HotDeployment keys; a worker plans from the caches and executes the plan.
// Level-triggered: every reconcile starts from the objects alone, so a restarted or
// newly elected controller continues where the last one stopped.
import { randomUUID } from 'node:crypto';
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { HotDeployment } from './api/types.ts';
import {
  ANNOTATIONS,
  FIELD_MANAGER,
  GROUP,
  LABELS,
  NAMES,
  PLURAL,
  POD_DEFAULTS,
  VERSION,
} from './constants.ts';
import { rfc3339 } from './conditions.ts';
import { compactPod } from './compactPod.ts';
import { execute } from './execute.ts';
import { versionOf } from './images.ts';
import type { KubeClient } from './kube/client.ts';
import { Informer } from './kube/informer.ts';
import { controllerMetrics, type ControllerMetrics } from './kube/metrics.ts';
import { runWorkers, type ReconcileOutcome } from './kube/runner.ts';
import type { KubeObject } from './kube/types.ts';
import { WorkQueue } from './kube/workqueue.ts';
import { createDomainMetrics, type DomainMetrics } from './metrics.ts';
import { plan, type ControllerImages } from './plan.ts';
import { parseInFlight } from './podView.ts';
import { SlotWatch, type SlotReport, type SlotTarget } from './slotWatch.ts';
import { kubeWriter } from './writer.ts';

export const CONTROLLER_NAME = 'hotdeployment';

export interface ReconcilerOptions {
  client: KubeClient;
  log: Logger;
  registry: Registry;
  images: ControllerImages;
  /** Watch one namespace; all when undefined. */
  namespace?: string;
  workers: number;
  writeConcurrency: number;
  resyncMs: number;
  isLeader: () => boolean;
  now?: () => number;
}

/**
 * The slots whose handover only the sidecar can prove (no readiness probe on the slot):
 * pods with an upgrade in flight, an IP, and an unprobed slot container.
 */
export function slotTargets(pods: V1Pod[], hotContainer: string): SlotTarget[] {
  const out: SlotTarget[] = [];
  for (const p of pods) {
    const ip = p.status?.podIP;
    if (!ip || p.metadata?.deletionTimestamp) continue;
    const f = parseInFlight(p.metadata?.annotations?.[ANNOTATIONS.upgrade]);
    if (!f || typeof f === 'string') continue;
    const c = p.spec?.containers.find((x) => x.name === NAMES.slotContainer(hotContainer, f.slot));
    if (!c || c.readinessProbe) continue;
    out.push({
      uid: p.metadata?.uid ?? '',
      pod: `${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`,
      ip,
      slot: f.slot,
      version: f.version,
    });
  }
  return out;
}

/** Drop what the controller never reads: managedFields are most of a pod's bytes. */
function slim<T extends KubeObject>(obj: T): T {
  if (obj.metadata?.managedFields) {
    const { managedFields: _m, ...metadata } = obj.metadata;
    return { ...obj, metadata };
  }
  return obj;
}

/**
 * /readyz turns 503 after 5 s without a watch (the leader gives up its lease at 10 s),
 * and a dead API server is retried at least every 5 s, so changes made during an outage
 * are seen within seconds of its return.
 */
const INFORMER_TIMING = { unhealthyAfterMs: 5_000, backoff: { initialMs: 200, maxMs: 5_000 } } as const;

const key = (ns: string | undefined, name: string | undefined): string => `${ns ?? ''}/${name ?? ''}`;

/** resourceVersions are opaque, but etcd's are increasing integers: keep the newer object. */
function newer(a: KubeObject | undefined, b: KubeObject): boolean {
  const ra = Number(a?.metadata?.resourceVersion);
  const rb = Number(b.metadata?.resourceVersion);
  return a === undefined || Number.isNaN(ra) || Number.isNaN(rb) || rb > ra;
}

export class HotDeploymentReconciler {
  readonly hds: Informer<HotDeployment & KubeObject>;
  readonly pods: Informer<V1Pod & KubeObject>;
  readonly queue: WorkQueue<string>;
  readonly #o: ReconcilerOptions;
  readonly #metrics: ControllerMetrics;
  readonly #domain: DomainMetrics;
  readonly #now: () => number;
  /** The sidecars of pods in flight, asked by the leader only (reconciles run on the leader). */
  readonly slots: SlotWatch;

  constructor(o: ReconcilerOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
    const nsPath = o.namespace ? `/namespaces/${o.namespace}` : '';
    this.hds = new Informer<HotDeployment & KubeObject>({
      client: o.client,
      path: `/apis/${GROUP}/${VERSION}${nsPath}/${PLURAL}`,
      logger: o.log,
      name: 'hotdeployments',
      transform: slim,
      resyncMs: o.resyncMs,
      ...INFORMER_TIMING,
    });
    this.pods = new Informer<V1Pod & KubeObject>({
      client: o.client,
      path: `/api/v1${nsPath}/pods`,
      logger: o.log,
      name: 'pods',
      labelSelector: LABELS.hotDeployment,
      transform: (p) => compactPod(p) as V1Pod & KubeObject,
      index: (p) => key(p.metadata?.namespace, p.metadata?.labels?.[LABELS.hotDeployment]),
      resyncMs: 0,
      ...INFORMER_TIMING,
    });
    this.queue = new WorkQueue<string>({ name: CONTROLLER_NAME, registry: o.registry });
    this.#metrics = controllerMetrics(o.registry, CONTROLLER_NAME, o.workers);
    this.#domain = createDomainMetrics(o.registry);
    this.slots = new SlotWatch({
      port: POD_DEFAULTS.sidecarPort,
      onChange: (owner) => this.queue.add(owner),
      log: o.log,
    });
    const enqueueHd = (hd: HotDeployment): void =>
      this.queue.add(key(hd.metadata.namespace, hd.metadata.name));
    this.hds.addHandlers({
      onAdd: enqueueHd,
      onUpdate: (_old, hd) => enqueueHd(hd),
      onDelete: (hd) => {
        this.#domain.forget(hd.metadata.namespace ?? '', hd.metadata.name ?? '');
        enqueueHd(hd);
      },
    });
    const enqueuePod = (p: V1Pod): void => {
      const owner = p.metadata?.labels?.[LABELS.hotDeployment];
      if (owner) this.queue.add(key(p.metadata?.namespace, owner));
    };
    this.pods.addHandlers({ onAdd: enqueuePod, onUpdate: (_o, p) => enqueuePod(p), onDelete: enqueuePod });
  }

  start(): void {
    this.hds.start();
    this.pods.start();
  }

  async waitForSync(timeoutMs: number): Promise<boolean> {
    const [a, b] = await Promise.all([this.hds.waitForSync(timeoutMs), this.pods.waitForSync(timeoutMs)]);
    return a && b;
  }

  health(): { ok: boolean; informers: Record<string, ReturnType<Informer<KubeObject>['health']>> } {
    const informers = { hotdeployments: this.hds.health(), pods: this.pods.health() };
    return { ok: informers.hotdeployments.healthy && informers.pods.healthy, informers };
  }

  /** Runs workers until `signal` aborts (leadership lost or shutdown); items in progress finish. */
  async run(signal: AbortSignal): Promise<void> {
    for (const hd of this.hds.store.list()) this.queue.add(key(hd.metadata.namespace, hd.metadata.name));
    await runWorkers(
      {
        queue: this.queue,
        workers: this.#o.workers,
        metrics: this.#metrics,
        log: this.#o.log,
        reconcile: (k) => this.reconcile(k),
      },
      signal,
    );
    // Not leading any more: the next leader asks the sidecars.
    this.slots.pause();
  }

  async stop(): Promise<void> {
    this.slots.stop();
    this.queue.shutDown();
    await Promise.all([this.hds.stop(), this.pods.stop()]);
  }

  /** One reconcile of one HotDeployment key. */
  async reconcile(k: string): Promise<ReconcileOutcome> {
    const hd = this.hds.store.get(k);
    // Gone: its pods go with it (owner references, garbage collector).
    if (!hd || hd.metadata.deletionTimestamp) {
      this.slots.watch(k, []);
      return { result: 'success' };
    }
    const [ns = '', name = ''] = k.split('/');
    const log = this.#o.log.child({ namespace: ns, name, reconcileID: randomUUID() });
    const pods = this.pods.store
      .byIndex(k)
      .filter((p) => p.metadata?.ownerReferences?.some((o) => o.controller && o.uid === hd.metadata.uid));
    const nowMs = this.#now();
    const t0 = performance.now();
    const targets = slotTargets(pods, hd.spec.hotContainer);
    this.slots.watch(k, targets);
    const reports = new Map<string, SlotReport>();
    for (const t of targets) {
      const r = this.slots.report(t.uid);
      if (r) reports.set(t.uid, r);
    }
    const p = plan({ hd, pods, nowMs, images: this.#o.images, reports });
    const planMs = performance.now() - t0;
    const writes = p.creates.length + p.deletes.length + p.pods.length + (p.rollback ? 1 : 0);
    if (writes > 0 || p.events.length > 0 || p.problems.length > 0) {
      log.info(
        {
          creates: p.creates.map((c) => c.metadata?.name),
          deletes: p.deletes.map((d) => `${d.name} (${d.why})`),
          pods: summarize(p.pods.map((a) => a.kind)),
          rollback: p.rollback,
          problems: p.problems,
          batch: p.status.batch,
          pods_cached: pods.length,
          planMs: Math.round(planMs),
        },
        'plan',
      );
    }
    // Read your writes: the next plan must not act on the objects as they were.
    const res = await execute(kubeWriter(this.#o.client, this.#o.isLeader), hd, p, {
      concurrency: this.#o.writeConcurrency,
      nowIso: rfc3339(nowMs),
      component: FIELD_MANAGER,
      onPod: (pod) => {
        const s = compactPod(pod) as V1Pod & KubeObject;
        if (newer(this.pods.store.get(key(s.metadata?.namespace, s.metadata?.name)), s))
          this.pods.store.set(s);
      },
    });
    if (res.hd) {
      const s = slim(res.hd as HotDeployment & KubeObject);
      if (newer(this.hds.store.get(k), s)) this.hds.store.set(s);
    }
    if (writes > 0)
      log.debug({ writes: res.writes, executeMs: Math.round(performance.now() - t0 - planMs) }, 'executed');
    for (const h of p.handovers) this.#domain.handover(ns, name, h);
    if (p.rollback && res.hd) this.#domain.rollback(ns, name);
    this.#domain.observe(ns, name, p.status, versionsOf(pods));
    for (const e of [...res.errors, ...res.eventErrors]) log.warn(e, 'write failed');
    if (res.conflicts > 0) log.debug({ conflicts: res.conflicts }, 'stale reads: reconciling again');
    if (res.errors.some((e) => e.reason !== 'NotLeader')) return { result: 'error' };
    if (res.conflicts > 0) return { result: 'requeue' };
    if (p.wakeAtMs !== undefined)
      return { result: 'requeue_after', afterMs: Math.max(100, p.wakeAtMs - nowMs) };
    return { result: 'success' };
  }
}

function summarize(kinds: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of kinds) out[k] = (out[k] ?? 0) + 1;
  return out;
}

function versionsOf(pods: V1Pod[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const p of pods) {
    if (p.metadata?.deletionTimestamp) continue;
    const image = p.metadata?.annotations?.[ANNOTATIONS.image];
    const version = image ? versionOf(image) : 'unknown';
    m.set(version, (m.get(version) ?? 0) + 1);
  }
  return m;
}
