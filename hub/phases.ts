// Where a HotRelease stands, read from its status alone: shared by the hub's planner and
// reconciler and by the kubectl plugin, so that all three agree on "done".
import type { HotReleaseStatus } from './api/types.ts';
import { CONDITIONS, REASONS, type ReleasePhase } from './constants.ts';

export const FINAL_PHASES: readonly ReleasePhase[] = ['Succeeded', 'Failed', 'RolledBack', 'Aborted'];

export const isFinal = (phase: ReleasePhase | undefined): boolean =>
  phase !== undefined && FINAL_PHASES.includes(phase);

/** The hub is rolling the release back (Progressing True/RollingBack), whatever the phase. */
export function rollbackRunning(status: HotReleaseStatus | undefined): boolean {
  return (
    status?.conditions?.some(
      (c) => c.type === CONDITIONS.progressing && c.status === 'True' && c.reason === REASONS.rollingBack,
    ) ?? false
  );
}

/** Nothing more will happen to the members unless the spec changes (a final phase, no rollback running). */
export const settled = (status: HotReleaseStatus | undefined): boolean =>
  isFinal(status?.phase) && !rollbackRunning(status);
