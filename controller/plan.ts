// plan(desired, observed, now) -> what to write. Pure: no client, no clock. The
// reconciler feeds it the HotDeployment and its pods from the informers' caches and
// hands the result to execute.ts. docs/controller.md explains each rule.
import type { V1Pod } from '@kubernetes/client-node';
import type { HotDeployment, HotDeploymentStatus } from './api/types.ts';
import { decideBatch, type BatchDecision } from './batches.ts';
import { EVENTS } from './constants.ts';
import { rfc3339 } from './conditions.ts';
import {
  DEADLINE_GRACE_MS,
  completePatch,
  failPatch,
  idleSlotDrift,
  judge,
  resetIdlePatch,
  startPatch,
  type HandoverFailure,
  type PodPatch,
} from './handover.ts';
import { sameImage } from './images.ts';
import { buildPod } from './podBuilder.ts';
import { otherSlot, viewPod, type PodView } from './podView.ts';
import type { SlotReport } from './slotWatch.ts';
import { desiredOf, type Desired } from './spec.ts';
import { buildStatus, invalidStatus } from './status.ts';

/** Pods created per reconcile at most; the reconcile runs again at once for the rest. */
export const MAX_CREATES = 500;

export interface ControllerImages {
  placeholderImage: string;
  sidecarImage: string;
  /** How slots prove a handover (podBuilder.ts PodImages); default sidecar. */
  completionSignal?: 'sidecar' | 'probe';
}

export interface PlanInput {
  hd: HotDeployment;
  pods: V1Pod[];
  nowMs: number;
  images: ControllerImages;
  /** What each upgrading pod's sidecar last said (slotWatch.ts), by pod UID: the completion signal of slots without a readiness probe. */
  reports?: ReadonlyMap<string, SlotReport>;
}

export type PodActionKind = 'start' | 'complete' | 'fail' | 'reset';

export interface PodAction {
  kind: PodActionKind;
  patch: PodPatch;
}

export interface PlanEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  /** The pod the event is about; the HotDeployment when absent. */
  pod?: string;
}

export interface HandoverOutcome {
  result: 'succeeded' | 'failed';
  reason?: HandoverFailure;
  /** Patch of the placeholder slot -> the pod proved the new version serves (or failed), in ms. */
  durationMs: number;
}

export interface Rollback {
  from: string;
  to: string;
  reason: string;
}

export interface Plan {
  creates: V1Pod[];
  deletes: { name: string; uid: string; why: 'scale-down' | 'recreate' }[];
  pods: PodAction[];
  /** Write the previous image back into the spec (autoRollback). */
  rollback?: Rollback;
  status: HotDeploymentStatus;
  events: PlanEvent[];
  handovers: HandoverOutcome[];
  /** Reconcile again at this time even if nothing changes (deadlines, timed pauses), ms since the epoch. */
  wakeAtMs?: number;
  /** Pods left alone because an annotation of ours is unreadable. */
  problems: { pod: string; problem: string }[];
}

/** Counts the plan and its status are built from (exported for status.ts). */
export interface Observed {
  d: Desired;
  views: PodView[];
  inRange: PodView[];
  /** After this plan's writes: pods in range at the new version. */
  updated: number;
  /** After this plan's writes: pods in flight toward any image. */
  inFlight: number;
  unavailable: number;
  missing: number;
  extra: number;
  recreatePending: number;
  batch: BatchDecision;
  failure: { pod: string; reason: string; message: string } | undefined;
  deadlineExceeded: boolean;
  lastProgressMs: number;
  currentImage: string;
  rollback?: Rollback;
}

/** Every slot's status shows the image its spec asks for (the kubelet has caught up). */
function slotsReported(v: PodView): boolean {
  return (
    sameImage(v.slots.a.status?.image, v.slots.a.image) && sameImage(v.slots.b.status?.image, v.slots.b.image)
  );
}

function isUpdated(v: PodView, d: Desired): boolean {
  return !v.inFlight && v.templateHash === d.templateHash && sameImage(v.image, d.image);
}

/** The most common image among pods not at `not`: what the fleet ran before this rollout. */
function previousImage(views: PodView[], not: string): string | undefined {
  const counts = new Map<string, number>();
  for (const v of views)
    if (v.image && !sameImage(v.image, not)) counts.set(v.image, (counts.get(v.image) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
}

export function plan(input: PlanInput): Plan {
  const { hd, nowMs, images } = input;
  const prev = hd.status;
  const res = desiredOf(hd);
  const out: Plan = {
    creates: [],
    deletes: [],
    pods: [],
    status: {},
    events: [],
    handovers: [],
    problems: [],
  };
  if (!res.ok) {
    out.status = invalidStatus(hd, res.message, nowMs);
    return out;
  }
  const d = res.desired;
  const now = rfc3339(nowMs);
  const wake = (ms: number): void => {
    out.wakeAtMs = out.wakeAtMs === undefined ? ms : Math.min(out.wakeAtMs, ms);
  };
  const views = input.pods
    .map((p) => viewPod(p, d.name, d.hotContainer, input.reports?.get(p.metadata?.uid ?? '')))
    .filter((v): v is PodView => v !== null)
    .sort((a, b) => a.ordinal - b.ordinal);
  const live = views.filter((v) => !v.deleting);
  const touched = new Set<string>();
  let moved = false;

  // Scale down: every pod beyond replicas goes at once, as a Deployment does.
  for (const v of live) {
    if (v.ordinal >= d.replicas) {
      out.deletes.push({ name: v.name, uid: v.uid, why: 'scale-down' });
      touched.add(v.name);
    }
  }
  const inRange = live.filter((v) => v.ordinal < d.replicas);
  for (const v of inRange) if (v.problem) out.problems.push({ pod: v.name, problem: v.problem });
  const usable = inRange.filter((v) => !v.problem);

  // Pods in flight: finish, undo, or wait.
  let failure: Observed['failure'];
  let inFlight = 0;
  for (const v of usable) {
    const f = v.inFlight;
    if (!f) continue;
    const j = judge(v, f, nowMs, d.handoverDeadlineMs, d.hotContainer);
    const durationMs = Math.max(0, nowMs - Date.parse(f.startedAt));
    if (j.kind === 'waiting') {
      inFlight++;
      wake(j.deadlineAtMs);
      continue;
    }
    touched.add(v.name);
    moved = true;
    if (j.kind === 'succeeded') {
      out.pods.push({
        kind: 'complete',
        patch: completePatch(v, f, d.hotContainer, d.mode, images.placeholderImage),
      });
      out.handovers.push({ result: 'succeeded', durationMs });
      // The pod now serves f.image; count it as such below.
      v.image = f.image;
      v.inFlight = null;
      v.ready = false;
      continue;
    }
    const failed = { image: f.image, reason: j.reason, message: j.message, at: now };
    out.pods.push({ kind: 'fail', patch: failPatch(v, f, d.hotContainer, images.placeholderImage, failed) });
    out.handovers.push({ result: 'failed', reason: j.reason, durationMs });
    out.events.push({
      type: 'Warning',
      reason: EVENTS.handoverFailed,
      pod: v.name,
      message: `${f.version} failed its handover on ${v.name}: ${j.reason}: ${j.message}; ${v.slots[f.from].version || 'the old version'} keeps serving`,
    });
    v.inFlight = null;
    v.failed = failed;
  }

  // An idle slot that is not the placeholder (a lost reset or a hand edit) goes back.
  for (const v of usable) {
    if (touched.has(v.name) || !idleSlotDrift(v)) continue;
    out.pods.push({ kind: 'reset', patch: resetIdlePatch(v, d.hotContainer, images.placeholderImage) });
    touched.add(v.name);
    v.ready = false;
  }

  const present = new Set(inRange.map((v) => v.ordinal));
  const missing = d.replicas - present.size;
  const deletingInRange = views.filter(
    (v) => v.deleting && v.ordinal < d.replicas && !present.has(v.ordinal),
  ).length;
  const upgradable = (v: PodView): boolean => v.ordinal >= d.partition;
  const updated = usable.filter((v) => upgradable(v) && isUpdated(v, d)).length;
  const failedHere = usable.find((v) => v.failed && sameImage(v.failed.image, d.image) && !isUpdated(v, d));
  if (failedHere?.failed) {
    failure = { pod: failedHere.name, reason: failedHere.failed.reason, message: failedHere.failed.message };
  }
  // A pod whose kubelet has not yet reported a slot at its spec image is about to restart
  // that slot: its Ready is stale, so it counts as unavailable already.
  let unavailable =
    missing +
    inRange.filter((v) => !v.ready || v.inFlight !== null || touched.has(v.name) || !slotsReported(v)).length;
  const idleSettled = (v: PodView): boolean => {
    const idle = v.slots[otherSlot(v.activeSlot)];
    return idle.version === '' && idle.status?.ready === true && sameImage(idle.status.image, idle.image);
  };
  const settled = inFlight === 0 && unavailable === 0 && deletingInRange === 0;
  const batch = decideBatch(d, { updated, inFlight: countInFlightTo(usable, d), settled }, prev, nowMs);
  if (batch.wakeAtMs !== undefined) wake(batch.wakeAtMs);

  // Progress deadline: time without progress while the rollout is not held on purpose.
  const recreate = usable.filter((v) => upgradable(v) && v.templateHash !== d.templateHash && !v.inFlight);
  const work = missing > 0 || recreate.length > 0 || inFlight > 0 || updated < d.replicas - d.partition;
  const held = d.paused || batch.batch.state === 'AwaitingApproval' || batch.batch.state === 'Paused';
  const prevCounts =
    prev?.updatedReplicas !== updated || prev.readyReplicas !== live.filter((v) => v.ready).length;
  const prevProgress = prev?.lastProgressTime ? Date.parse(prev.lastProgressTime) : NaN;
  let lastProgressMs =
    Number.isNaN(prevProgress) || held || !work || prevCounts || moved ? nowMs : prevProgress;
  const deadlineExceeded = work && !held && nowMs - lastProgressMs > d.progressDeadlineMs;
  if (work && !held && !deadlineExceeded) wake(lastProgressMs + d.progressDeadlineMs + 1000);

  const degraded = failure !== undefined || deadlineExceeded;
  const previous = previousImage(views, d.image);
  const currentImage = previous ?? d.image;
  if (degraded && d.autoRollback && !d.rollback) {
    const to =
      prev?.currentImage && !sameImage(prev.currentImage, d.image) ? prev.currentImage : currentImage;
    if (!sameImage(to, d.image)) {
      const reason = failure
        ? `${d.version} failed its handover on ${failure.pod}: ${failure.reason}: ${failure.message}`
        : `no progress for ${Math.round(d.progressDeadlineMs / 1000)} s (progressDeadlineSeconds)`;
      out.rollback = { from: d.image, to, reason };
      out.events.push({
        type: 'Warning',
        reason: EVENTS.rolledBack,
        message: `rolling back from ${d.image} to ${to}: ${reason}`,
      });
    }
  }

  let budget = d.maxUnavailable - unavailable;
  const stop = d.paused || degraded || out.rollback !== undefined;

  // Recreate: a template change other than the hot image; maxUnavailable at a time, highest ordinal first.
  if (!stop) {
    for (const v of [...recreate].reverse()) {
      if (budget <= 0 || touched.has(v.name)) continue;
      out.deletes.push({ name: v.name, uid: v.uid, why: 'recreate' });
      touched.add(v.name);
      budget--;
      unavailable++;
      moved = true;
    }
  }

  // Hot upgrades: the batch says how many, maxUnavailable caps it, highest ordinal first.
  let starts = stop ? 0 : Math.min(batch.allowed, budget);
  const candidates = usable
    .filter(
      (v) =>
        upgradable(v) &&
        !touched.has(v.name) &&
        !v.inFlight &&
        v.ready &&
        v.templateHash === d.templateHash &&
        !sameImage(v.image, d.image) &&
        idleSettled(v) &&
        !(v.failed && sameImage(v.failed.image, d.image)),
    )
    .reverse();
  for (const v of candidates) {
    if (starts <= 0) break;
    out.pods.push({ kind: 'start', patch: startPatch(v, d.hotContainer, d.mode, d.image, d.version, now) });
    touched.add(v.name);
    starts--;
    moved = true;
  }
  const started = out.pods.filter((a) => a.kind === 'start').length;
  if (started > 0) wake(nowMs + d.handoverDeadlineMs + DEADLINE_GRACE_MS + 1000);

  // Scale up: new pods serve the update image, unless the rollout still holds pods back.
  // At most MAX_CREATES per reconcile (the next reconcile creates more), as the
  // ReplicaSet controller bounds its bursts: a 10,000-pod scale-up must not hold
  // 10,000 pod objects and their answers in memory at once.
  const rolloutHolds = updated < d.replicas - d.partition;
  const taken = new Set(views.map((v) => v.ordinal));
  for (let o = 0; o < d.replicas && out.creates.length < MAX_CREATES; o++) {
    if (taken.has(o)) continue;
    const old = o < d.partition || rolloutHolds ? previous : undefined;
    out.creates.push(buildPod(hd, d, o, { image: old ?? d.image, ...images }));
    moved = true;
  }
  if (moved) lastProgressMs = nowMs;
  if (out.creates.length === MAX_CREATES) wake(nowMs);

  const obs: Observed = {
    d,
    views,
    inRange,
    updated,
    inFlight: inFlight + started,
    unavailable,
    missing,
    extra: out.deletes.filter((x) => x.why === 'scale-down').length,
    recreatePending: recreate.length,
    batch,
    failure,
    deadlineExceeded,
    lastProgressMs,
    currentImage:
      missing === 0 && usable.length === inRange.length && usable.every((v) => isUpdated(v, d))
        ? d.image
        : (previous ?? prev?.currentImage ?? d.image),
    ...(out.rollback ? { rollback: out.rollback } : {}),
  };
  out.status = buildStatus(hd, obs, nowMs);
  out.events.push(...transitionEvents(prev, out.status, d));
  return out;
}

function countInFlightTo(views: PodView[], d: Desired): number {
  return views.filter((v) => v.inFlight && sameImage(v.inFlight.image, d.image)).length;
}

/** Events for what changed since the last status: batch done, waiting for approval, rollout complete. */
function transitionEvents(
  prev: HotDeploymentStatus | undefined,
  next: HotDeploymentStatus,
  d: Desired,
): PlanEvent[] {
  const events: PlanEvent[] = [];
  const pb = prev?.updateRevision === next.updateRevision ? prev?.batch : undefined;
  const nb = next.batch;
  if (nb && (pb?.number !== nb.number || pb.state !== nb.state)) {
    if (nb.state === 'AwaitingApproval') {
      events.push({
        type: 'Normal',
        reason: EVENTS.awaitingApproval,
        message: `batch ${nb.number}/${nb.total} done (${nb.updated} pods at ${d.version}); approve batch ${nb.number + 1} to go on`,
      });
    } else if (nb.state === 'Upgrading' && pb && pb.number < nb.number) {
      events.push({
        type: 'Normal',
        reason: EVENTS.batchCompleted,
        message: `batch ${pb.number}/${nb.total} done; batch ${nb.number} upgrades up to ${nb.target} pods to ${d.version}`,
      });
    }
  }
  const wasComplete = prev?.rolloutKind === 'None' && prev.updateRevision === next.updateRevision;
  if (next.rolloutKind === 'None' && !wasComplete && prev?.updateRevision !== undefined) {
    events.push({
      type: 'Normal',
      reason: EVENTS.rolloutComplete,
      message: `${next.updatedReplicas ?? 0} pods run ${d.image}`,
    });
  }
  return events;
}
