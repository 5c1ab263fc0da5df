// The status a plan writes: counts, the batch, and the four conditions, in words a user
// can act on. Pure.
import type { HotDeployment, HotDeploymentStatus } from './api/types.ts';
import { CONDITIONS, REASONS } from './constants.ts';
import { rfc3339, setConditions, type ConditionInput } from './conditions.ts';
import type { Observed } from './plan.ts';

export function selectorString(hd: HotDeployment): string {
  const sel = hd.spec.selector;
  const parts = Object.entries(sel.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    const vals = (e.values ?? []).join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${vals})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${vals})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

export function approveCommand(hd: HotDeployment, revision: string, batch: number): string {
  const body = JSON.stringify({ spec: { updateStrategy: { approved: { revision, batch } } } });
  return `kubectl patch hotdeployment ${hd.metadata.name ?? ''} -n ${hd.metadata.namespace ?? 'default'} --type merge -p '${body}'`;
}

export function buildStatus(hd: HotDeployment, o: Observed, nowMs: number): HotDeploymentStatus {
  const { d } = o;
  const live = o.views.filter((v) => !v.deleting);
  const ready = live.filter((v) => v.ready).length;
  const kind =
    o.recreatePending > 0
      ? 'Recreate'
      : o.updated < d.replicas - d.partition || o.inFlight > 0
        ? 'Hot'
        : 'None';
  const b = o.batch.batch;
  const conds: ConditionInput[] = [];

  const minAvailable = Math.max(0, d.replicas - d.maxUnavailable);
  conds.push(
    ready >= minAvailable
      ? {
          type: CONDITIONS.available,
          status: 'True',
          reason: REASONS.minimumReplicasAvailable,
          message: `${ready}/${d.replicas} pods ready (at least ${minAvailable} required)`,
        }
      : {
          type: CONDITIONS.available,
          status: 'False',
          reason: REASONS.minimumReplicasUnavailable,
          message: `${ready}/${d.replicas} pods ready, fewer than the ${minAvailable} required`,
        },
  );

  const above =
    d.partition > 0 ? ` (ordinals ${d.partition} and above; ${d.partition} kept by partition)` : '';
  if (o.deadlineExceeded) {
    conds.push({
      type: CONDITIONS.progressing,
      status: 'False',
      reason: REASONS.progressDeadlineExceeded,
      message: `no progress for ${Math.round(d.progressDeadlineMs / 1000)} s (spec.updateStrategy.progressDeadlineSeconds): ${o.unavailable} pods unavailable, ${o.inFlight} in flight`,
    });
  } else if (kind === 'Recreate') {
    conds.push({
      type: CONDITIONS.progressing,
      status: 'True',
      reason: REASONS.recreating,
      message: `the pod template changed beyond the hot container's image: recreating ${o.recreatePending} pods, ${d.maxUnavailable} at a time`,
    });
  } else if (kind === 'Hot') {
    conds.push({
      type: CONDITIONS.progressing,
      status: 'True',
      reason: REASONS.hotUpgrading,
      message: `batch ${b.number}/${b.total}: ${o.updated}/${d.replicas - d.partition} pods at ${d.version}${above}, ${o.inFlight} in flight`,
    });
  } else if (o.missing > 0 || o.extra > 0) {
    conds.push({
      type: CONDITIONS.progressing,
      status: 'True',
      reason: REASONS.scaling,
      message: `scaling to ${d.replicas}: ${o.missing} to create, ${o.extra} to delete`,
    });
  } else {
    conds.push({
      type: CONDITIONS.progressing,
      status: 'True',
      reason: REASONS.rolloutComplete,
      message: `${o.updated} pods run ${d.image}${above}`,
    });
  }

  if (d.paused) {
    conds.push({
      type: CONDITIONS.paused,
      status: 'True',
      reason: REASONS.pausedBySpec,
      message: 'spec.updateStrategy.paused is true: no pod starts an upgrade; set it to false to go on',
    });
  } else if (kind !== 'None' && b.state === 'AwaitingApproval') {
    conds.push({
      type: CONDITIONS.paused,
      status: 'True',
      reason: REASONS.awaitingApproval,
      message: `batch ${b.number}/${b.total} done; approve batch ${b.number + 1} with: ${approveCommand(hd, d.revision, b.number + 1)}`,
    });
  } else if (kind !== 'None' && b.state === 'Paused') {
    conds.push({
      type: CONDITIONS.paused,
      status: 'True',
      reason: REASONS.batchPaused,
      message: `batch ${b.number}/${b.total} done; batch ${b.number + 1} starts at ${b.pauseEndsAt ?? 'the end of the pause'}`,
    });
  } else {
    conds.push({
      type: CONDITIONS.paused,
      status: 'False',
      reason: REASONS.notPaused,
      message: 'not paused',
    });
  }

  if (o.rollback || d.rollback) {
    const r = o.rollback ?? d.rollback;
    conds.push({
      type: CONDITIONS.degraded,
      status: 'True',
      reason: REASONS.rolledBack,
      message: `rolled back from ${r?.from ?? ''} to ${r?.to ?? ''}: ${r?.reason ?? ''}`,
    });
  } else if (o.failure) {
    conds.push({
      type: CONDITIONS.degraded,
      status: 'True',
      reason: REASONS.handoverFailed,
      message: `${d.version} failed its handover on ${o.failure.pod}: ${o.failure.reason}: ${o.failure.message}. The old version keeps serving and the rollout stopped; set another image (or the previous one to roll back)`,
    });
  } else if (o.deadlineExceeded) {
    conds.push({
      type: CONDITIONS.degraded,
      status: 'True',
      reason: REASONS.progressDeadlineExceeded,
      message: `the rollout made no progress for ${Math.round(d.progressDeadlineMs / 1000)} s`,
    });
  } else {
    conds.push({
      type: CONDITIONS.degraded,
      status: 'False',
      reason: REASONS.healthy,
      message: 'no failure',
    });
  }

  const prev = hd.status;
  return {
    observedGeneration: d.generation,
    replicas: live.length,
    readyReplicas: ready,
    availableReplicas: ready,
    updatedReplicas: o.updated,
    upgradingReplicas: o.inFlight,
    currentImage: o.currentImage,
    updateImage: d.image,
    currentRevision: kind === 'None' ? d.revision : (prev?.currentRevision ?? d.revision),
    updateRevision: d.revision,
    rolloutKind: kind,
    batch: b,
    lastProgressTime: rfc3339(o.lastProgressMs),
    selector: selectorString(hd),
    conditions: setConditions(prev?.conditions, conds, nowMs, d.generation),
  };
}

/** A spec the controller cannot act on (the CRD rejects most such objects before they get here). */
export function invalidStatus(hd: HotDeployment, message: string, nowMs: number): HotDeploymentStatus {
  const prev = hd.status;
  const generation = hd.metadata.generation ?? 0;
  return {
    ...prev,
    observedGeneration: generation,
    selector: selectorString(hd),
    conditions: setConditions(
      prev?.conditions,
      [
        ...(prev?.conditions ?? [])
          .filter((c) => c.type !== CONDITIONS.degraded)
          .map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message })),
        { type: CONDITIONS.degraded, status: 'True', reason: REASONS.invalidSpec, message },
      ],
      nowMs,
      generation,
    ),
  };
}
