// metav1.Conditions the way controller-runtime reconcilers keep them: one per type,
// lastTransitionTime moves only when the status does, observedGeneration always set.
import type { Condition } from './api/types.ts';

export type ConditionInput = Pick<Condition, 'type' | 'status' | 'reason' | 'message'>;

/** RFC 3339 at second precision, as metav1.Time serializes: comparable with what the API server returns. */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export function setConditions(
  prev: Condition[] | undefined,
  next: ConditionInput[],
  nowMs: number,
  generation: number,
): Condition[] {
  return next.map((c) => {
    const old = prev?.find((p) => p.type === c.type);
    const same = old?.status === c.status;
    return {
      type: c.type,
      status: c.status,
      reason: c.reason,
      // The API server caps messages at 32 KiB.
      message: c.message.length > 4096 ? `${c.message.slice(0, 4093)}...` : c.message,
      observedGeneration: generation,
      lastTransitionTime: same && old.lastTransitionTime ? old.lastTransitionTime : rfc3339(nowMs),
    };
  });
}

export function conditionOf(conds: Condition[] | undefined, type: string): Condition | undefined {
  return conds?.find((c) => c.type === type);
}
