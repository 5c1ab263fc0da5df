// Where a hot rollout stands among its batches, and how many more pods the current batch
// lets start. Pure. The pod counts say which batch runs; the previous status is read
// only for the start of a timed pause (a controller that restarts mid-pause waits at
// most the rest of it, never less).
import type { BatchPause, BatchStatus, HotDeploymentStatus } from './api/types.ts';
import type { Desired } from './spec.ts';

export interface BatchCounts {
  /** Pods in range (ordinal >= partition) at the new version. */
  updated: number;
  /** Pods in flight toward the new version. */
  inFlight: number;
  /** No pod in flight, every pod ready, every idle slot back to the placeholder. */
  settled: boolean;
}

export interface BatchDecision {
  batch: BatchStatus;
  /** How many more pods this batch lets start now (before the maxUnavailable budget). */
  allowed: number;
  /** When a timed pause ends, in ms since the epoch. */
  wakeAtMs?: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Batch targets this rollout follows: a rollback the controller made skips batches and pauses. */
export function effectiveTargets(d: Desired): { targets: number[]; pauses: boolean } {
  if (d.rollback) return { targets: [d.replicas - d.partition], pauses: false };
  return { targets: d.batchTargets, pauses: true };
}

/**
 * The pause that holds batch `next` (0-based): the one after batch next-1, or, when
 * batches before it resolved to the same count (a percent of few replicas), the first
 * manual or timed pause among them, so an empty batch never swallows a pause.
 */
function pauseBefore(d: Desired, targets: number[], next: number): BatchPause | undefined {
  const t = targets[next - 1];
  let found: BatchPause | undefined;
  for (let j = next - 1; j >= 0 && targets[j] === t; j--) {
    const p = d.batches[j]?.pause;
    if (p?.manual) return p;
    found = p ?? found;
  }
  return found;
}

export function decideBatch(
  d: Desired,
  c: BatchCounts,
  prev: HotDeploymentStatus | undefined,
  nowMs: number,
): BatchDecision {
  const { targets, pauses } = effectiveTargets(d);
  const total = targets.length;
  const next = targets.findIndex((t) => t > c.updated);
  if (next < 0) {
    const target = targets[total - 1] ?? 0;
    return { batch: { number: total, total, state: 'Completed', target, updated: c.updated }, allowed: 0 };
  }
  const prevSameRollout = prev?.updateRevision === d.revision ? prev.batch : undefined;
  // Batch `next` (0-based) has not begun while no pod of it moved.
  const notBegun = next > 0 && c.updated <= (targets[next - 1] ?? 0) && c.inFlight === 0;
  const passedPause = prevSameRollout?.number === next + 1 && prevSameRollout.state === 'Upgrading';
  if (notBegun && !passedPause) {
    const done = next; // 1-based number of the batch just done
    const doneTarget = targets[next - 1] ?? 0;
    const base = { number: done, total, target: doneTarget, updated: c.updated };
    if (!c.settled) return { batch: { ...base, state: 'Upgrading' }, allowed: 0 };
    const pause = pauses ? pauseBefore(d, targets, next) : undefined;
    if (pause?.manual) {
      const approved = d.approvedRevision === d.revision && d.approvedBatch >= next + 1;
      if (!approved) return { batch: { ...base, state: 'AwaitingApproval' }, allowed: 0 };
    } else if (pause?.seconds) {
      const started =
        prevSameRollout?.number === done &&
        prevSameRollout.state === 'Paused' &&
        prevSameRollout.pauseStartedAt
          ? Date.parse(prevSameRollout.pauseStartedAt)
          : nowMs;
      const startMs = Number.isNaN(started) ? nowMs : started;
      const endsMs = startMs + pause.seconds * 1000;
      if (nowMs < endsMs) {
        return {
          batch: { ...base, state: 'Paused', pauseStartedAt: iso(startMs), pauseEndsAt: iso(endsMs) },
          allowed: 0,
          wakeAtMs: endsMs,
        };
      }
    }
  }
  const target = targets[next] ?? 0;
  return {
    batch: { number: next + 1, total, state: 'Upgrading', target, updated: c.updated },
    allowed: Math.max(0, target - c.updated - c.inFlight),
  };
}
