// Executes a plan against a narrow writer. Pod writes run in parallel (bounded), each a
// strategic merge patch that carries the resourceVersion it was decided on; a 409 means
// the decision was made on stale data and the reconcile runs again. Nothing here decides.
import type { V1Pod } from '@kubernetes/client-node';
import type { HotDeployment, HotDeploymentStatus } from './api/types.ts';
import { ANNOTATIONS } from './constants.ts';
import type { PodPatch } from './handover.ts';
import { mergePatch } from './mergePatch.ts';
import type { Plan, PlanEvent } from './plan.ts';

export type WriteResult<T = unknown> =
  { ok: true; body: T } | { ok: false; status: number; reason: string; message: string };

/** The only writes the controller makes. */
export interface Writer {
  createPod(namespace: string, pod: V1Pod): Promise<WriteResult<V1Pod>>;
  deletePod(namespace: string, name: string, uid: string): Promise<WriteResult<V1Pod>>;
  /** Strategic merge patch of a pod. */
  patchPod(namespace: string, name: string, patch: object): Promise<WriteResult<V1Pod>>;
  /** JSON patch (RFC 6902) of a HotDeployment's spec or metadata. */
  jsonPatchHotDeployment(namespace: string, name: string, ops: object[]): Promise<WriteResult<HotDeployment>>;
  /** Merge patch of the status subresource (body: {status: ...}). */
  patchStatus(namespace: string, name: string, patch: object): Promise<WriteResult<HotDeployment>>;
  createEvent(namespace: string, event: object): Promise<WriteResult>;
}

export interface ExecuteResult {
  /** Writes refused because the object changed since it was read (409), or a precondition failed. */
  conflicts: number;
  /** Other failed writes, with what the API server said. */
  errors: { what: string; status: number; reason: string; message: string }[];
  /** Events that could not be written (logged; not worth another reconcile). */
  eventErrors: { what: string; status: number; reason: string; message: string }[];
  writes: number;
  /** The HotDeployment as the API server returned it after the last write to it. */
  hd?: HotDeployment;
}

/** The strategic merge patch of one pod step. */
export function podPatchBody(p: PodPatch): object {
  return {
    metadata: { resourceVersion: p.resourceVersion, annotations: p.annotations },
    spec: { containers: Object.entries(p.images).map(([name, image]) => ({ name, image })) },
  };
}

/** JSON patch that swaps the hot image back, guarded by a test of the image it replaces. */
export function rollbackOps(
  hd: HotDeployment,
  from: string,
  to: string,
  reason: string,
  at: string,
): object[] {
  const i = (hd.spec.template.spec?.containers ?? []).findIndex((c) => c.name === hd.spec.hotContainer);
  const path = `/spec/template/spec/containers/${i}/image`;
  const key = ANNOTATIONS.rollback.replace('~', '~0').replace('/', '~1');
  const ops: object[] = [
    { op: 'test', path, value: from },
    { op: 'replace', path, value: to },
  ];
  if (!hd.metadata.annotations) ops.push({ op: 'add', path: '/metadata/annotations', value: {} });
  // The image change bumps metadata.generation by one: the record names that generation.
  const generation = (hd.metadata.generation ?? 0) + 1;
  ops.push({
    op: 'add',
    path: `/metadata/annotations/${key}`,
    value: JSON.stringify({ from, to, reason, at, generation }),
  });
  return ops;
}

/** The merge patch from the status the plan was made on to the new one; undefined when equal. */
export function statusPatch(
  prev: HotDeploymentStatus | undefined,
  next: HotDeploymentStatus,
): object | undefined {
  const d = mergePatch(prev ?? {}, next);
  return d === undefined ? undefined : { status: d };
}

async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++];
      if (item !== undefined) await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** The object an event is about: a HotDeployment, or any other of the project's kinds (a HotRelease). */
export interface EventSubject {
  apiVersion: string;
  kind: string;
  metadata: HotDeployment['metadata'];
}

export function eventObject(hd: EventSubject, e: PlanEvent, nowIso: string, component: string): object {
  const ns = hd.metadata.namespace ?? 'default';
  const involved = e.pod
    ? { apiVersion: 'v1', kind: 'Pod', name: e.pod, namespace: ns }
    : {
        apiVersion: hd.apiVersion,
        kind: hd.kind,
        name: hd.metadata.name,
        namespace: ns,
        uid: hd.metadata.uid,
      };
  return {
    metadata: { generateName: `${e.pod ?? hd.metadata.name ?? hd.kind.toLowerCase()}.`, namespace: ns },
    involvedObject: involved,
    reason: e.reason,
    message: e.message,
    type: e.type,
    source: { component },
    reportingComponent: component,
    reportingInstance: component,
    firstTimestamp: nowIso,
    lastTimestamp: nowIso,
    count: 1,
  };
}

export interface ExecuteOptions {
  concurrency: number;
  nowIso: string;
  component: string;
  /** Each pod the API server returned, at once (read-your-writes for the cache; nothing is kept here). */
  onPod?: (pod: V1Pod) => void;
}

export async function execute(
  w: Writer,
  hd: HotDeployment,
  p: Plan,
  opts: ExecuteOptions,
): Promise<ExecuteResult> {
  const ns = hd.metadata.namespace ?? 'default';
  const name = hd.metadata.name ?? '';
  const res: ExecuteResult = { conflicts: 0, errors: [], eventErrors: [], writes: 0 };
  const written = (pod: V1Pod): void => opts.onPod?.(pod);
  const record = <T>(what: string, r: WriteResult<T>, expected: string[] = []): T | undefined => {
    res.writes++;
    if (r.ok) return r.body;
    if (r.status === 409 || r.reason === 'Conflict' || expected.includes(r.reason)) res.conflicts++;
    else res.errors.push({ what, status: r.status, reason: r.reason, message: r.message });
    return undefined;
  };
  await pool(p.creates, opts.concurrency, async (pod) => {
    const body = record(`create pod ${pod.metadata?.name ?? ''}`, await w.createPod(ns, pod), [
      'AlreadyExists',
    ]);
    if (body) written(body);
  });
  await pool(p.deletes, opts.concurrency, async (d) => {
    const r = await w.deletePod(ns, d.name, d.uid);
    // NotFound: already gone, which is what we wanted.
    if (!r.ok && r.status === 404) return;
    const body = record(`delete pod ${d.name}`, r);
    if (body?.kind === 'Pod') written(body);
  });
  await pool(p.pods, opts.concurrency, async (a) => {
    const r = await w.patchPod(ns, a.patch.pod, podPatchBody(a.patch));
    if (!r.ok && r.status === 404) return;
    const body = record(`${a.kind} on pod ${a.patch.pod}`, r);
    if (body) written(body);
  });
  if (p.rollback) {
    const ops = rollbackOps(hd, p.rollback.from, p.rollback.to, p.rollback.reason, opts.nowIso);
    const r = await w.jsonPatchHotDeployment(ns, name, ops);
    // 422 from the `test` op: someone changed the image meanwhile, so there is nothing to roll back.
    const body = record('roll back', r, ['Invalid', 'UnprocessableEntity']);
    if (body) res.hd = body;
  }
  const sp = statusPatch(hd.status, p.status);
  if (sp) {
    const body = record('status', await w.patchStatus(ns, name, sp));
    if (body) res.hd = body;
  }
  for (const e of p.events) {
    // An event that cannot be written is not worth a retry of the whole reconcile.
    const r = await w.createEvent(ns, eventObject(hd, e, opts.nowIso, opts.component));
    res.writes++;
    if (!r.ok)
      res.eventErrors.push({
        what: `event ${e.reason}`,
        status: r.status,
        reason: r.reason,
        message: r.message,
      });
  }
  return res;
}
