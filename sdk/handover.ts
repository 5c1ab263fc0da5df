// Pure decisions of the handover, shared by the participants and the sidecar.
// Inputs are a view of the volume (see volume.ts); nothing here reads a clock or a file.
import type { SlotView, VolumeView } from './volume.ts';
import type { VersionFile } from './versionFile.ts';

const SERVING_STATES = new Set(['serving', 'draining']);

export const slotKey = (f: Pick<VersionFile, 'slot' | 'version'>): string => `${f.slot}@${f.version}`;

/** A live other slot that has announced itself as successor and that `me` has not rejected. */
export function findSuccessor(me: VersionFile, view: VolumeView): SlotView | undefined {
  const rejected = new Set(me.rejected ?? []);
  return view.slots.find(
    (s) =>
      s.slot !== me.slot &&
      s.alive &&
      s.file !== undefined &&
      s.file.state === 'waiting' &&
      s.file.role === 'successor' &&
      !rejected.has(slotKey(s.file)),
  );
}

/** The live slot whose process says it serves; with the lock held, that is the active slot. */
export function findServing(view: VolumeView, except?: string): SlotView | undefined {
  return view.slots.find(
    (s) => s.slot !== except && s.alive && s.file !== undefined && SERVING_STATES.has(s.file.state),
  );
}

/** True when the process in `slot` is draining toward `successor`. */
export function isDrainingToward(view: VolumeView, successor: string): boolean {
  return view.slots.some((s) => s.alive && s.file?.state === 'draining' && s.file.successor === successor);
}

export type HandoverPhase =
  | 'none' // one slot serves, nobody is waiting
  | 'announced' // a successor waits; the active slot has not started draining
  | 'draining' // the active slot finishes in-flight work for the successor
  | 'takeover' // the lock is free between release and the successor serving
  | 'unserved'; // nobody holds the lock and nobody is about to

export interface Summary {
  /** True while some process holds the active lock and says it serves (during a handover too). */
  serving: boolean;
  activeSlot: string | null;
  activeVersion: string | null;
  phase: HandoverPhase;
  /** Slot that is taking over, during a handover. */
  successorSlot: string | null;
}

/** What the sidecar reports: who serves, and where a handover stands. */
export function summarize(view: VolumeView): Summary {
  const active = findServing(view);
  const waiting = view.slots.find(
    (s) => s.alive && s.file?.state === 'waiting' && s.file.role === 'successor',
  );
  const serving = view.lockHeld && active !== undefined;
  const activeVersion = active?.file ? (active.file.runningVersion ?? active.file.version) : null;
  let phase: HandoverPhase;
  if (serving && active?.file?.state === 'draining') phase = 'draining';
  else if (serving && waiting) phase = 'announced';
  else if (serving) phase = 'none';
  else if (waiting || view.slots.some((s) => s.alive && s.file?.state === 'idle')) phase = 'takeover';
  else phase = 'unserved';
  return {
    serving,
    activeSlot: serving && active ? active.slot : null,
    activeVersion: serving ? activeVersion : null,
    phase,
    successorSlot: active?.file?.successor ?? waiting?.slot ?? null,
  };
}
