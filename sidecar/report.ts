// GET /v1/state: the pod's hot-upgrade state for the controller. The types below are the
// wire schema (protocol 1); the controller imports them, so a change here is an API change.
// All timestamps are ms since the Unix epoch, as the slots wrote them.
import type { HandoverPhase, Summary } from '../sdk/handover.ts';
import { PROTOCOL_VERSION } from '../sdk/constants.ts';
import type { HandoverRecord, Mode, Role, SlotState } from '../sdk/versionFile.ts';
import type { SlotView, VolumeView } from '../sdk/volume.ts';
import { latestHandover, optionalString } from './handoverRecord.ts';

/** One slot as its version file and its liveness lock describe it. */
export interface SlotReport {
  slot: string;
  /** The slot's process holds its liveness lock. False: the fields below are the last words of a dead process. */
  alive: boolean;
  /** null when the version file is missing or malformed; `problem` says which. */
  state: SlotState | null;
  /** The slot's image version; null when the file is unusable. */
  version: string | null;
  /** Binary mode: the version the launcher runs from the shared volume, when not the image's. */
  runningVersion?: string;
  role: Role | null;
  mode: Mode | null;
  pid: number | null;
  /** Random per process start: a new value means a new process, even with the same pid. */
  instance: string | null;
  startedAtMs: number | null;
  updatedAtMs: number | null;
  announcedAtMs?: number;
  lockAcquiredAtMs?: number;
  servingAtMs?: number;
  drainStartedAtMs?: number;
  releasedAtMs?: number;
  /** While draining: the slot handed over to. */
  successor?: string;
  /** slot@version pairs this process will never hand over to again (their process died in probation). */
  rejected?: string[];
  /** Why the slot gave up (state failed), as it wrote it. */
  error?: string;
  /** Why the version file could not be used ("no version file yet", "malformed version file: ..."). */
  problem?: string;
}

export interface PodState {
  protocol: typeof PROTOCOL_VERSION;
  /** From POD_NAME / POD_NAMESPACE (downward API), when set. */
  pod?: { name: string; namespace: string };
  /** Some process holds the active lock and says it serves (also while it drains for a successor). */
  serving: boolean;
  activeSlot: string | null;
  /** The version the active slot runs (its runningVersion in binary mode). */
  activeVersion: string | null;
  phase: HandoverPhase;
  /** The slot taking over, during a handover. */
  successorSlot: string | null;
  /** Every slot with a version or liveness file in the shared volume, sorted by name. */
  slots: SlotReport[];
  /** The most recent handover record in any slot's file (also one from before the sidecar started). */
  lastHandover?: HandoverRecord;
  /** Handovers this sidecar saw since it started (see hotupgrade_handovers_total). */
  handovers: { completed: number; failed: number };
  /** When the sidecar read the shared volume for this answer. */
  observedAtMs: number;
}

export interface PodRef {
  name: string;
  namespace: string;
}

const OPTIONAL_TIMES = [
  'announcedAtMs',
  'lockAcquiredAtMs',
  'servingAtMs',
  'drainStartedAtMs',
  'releasedAtMs',
] as const;

export function slotReport(s: SlotView): SlotReport {
  const f = s.file;
  const r: SlotReport = {
    slot: s.slot,
    alive: s.alive,
    state: f?.state ?? null,
    version: f?.version ?? null,
    role: f?.role ?? null,
    mode: f?.mode ?? null,
    pid: f?.pid ?? null,
    instance: f?.instance ?? null,
    startedAtMs: f?.startedAtMs ?? null,
    updatedAtMs: f?.updatedAtMs ?? null,
  };
  if (f) {
    const running = optionalString(f.runningVersion);
    if (running !== undefined) r.runningVersion = running;
    for (const k of OPTIONAL_TIMES) if (f[k] !== undefined) r[k] = f[k];
    if (f.successor !== undefined) r.successor = f.successor;
    if (f.rejected !== undefined) r.rejected = [...f.rejected];
    const error = optionalString(f.error);
    if (error !== undefined) r.error = error;
  }
  if (s.problem !== undefined) r.problem = s.problem;
  return r;
}

export interface ReportInput {
  view: VolumeView;
  summary: Summary;
  handovers: { completed: number; failed: number };
  pod: PodRef | undefined;
  observedAtMs: number;
}

export function buildReport(i: ReportInput): PodState {
  const last = latestHandover(i.view);
  return {
    protocol: PROTOCOL_VERSION,
    ...(i.pod ? { pod: { name: i.pod.name, namespace: i.pod.namespace } } : {}),
    serving: i.summary.serving,
    activeSlot: i.summary.activeSlot,
    activeVersion: i.summary.activeVersion,
    phase: i.summary.phase,
    successorSlot: i.summary.successorSlot,
    slots: i.view.slots.map(slotReport),
    ...(last ? { lastHandover: last } : {}),
    handovers: { ...i.handovers },
    observedAtMs: i.observedAtMs,
  };
}
