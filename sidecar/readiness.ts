// GET /readyz: the pod is ready while some process holds the active lock and says it
// serves, including while it drains for a successor. Otherwise the answer says why, in
// words an operator can act on. Pure: the view and the summary are read by the caller.
import path from 'node:path';
import { PATHS } from '../sdk/constants.ts';
import type { HandoverPhase, Summary } from '../sdk/handover.ts';
import type { SlotView, VolumeView } from '../sdk/volume.ts';
import { optionalString } from './handoverRecord.ts';

export type Readiness =
  | { ready: true; activeSlot: string | null; activeVersion: string | null; phase: HandoverPhase }
  | { ready: false; reason: string; phase: HandoverPhase; slots: string[] };

/** How a slot running the placeholder program is described, in every answer and log line. */
export const PLACEHOLDER_WORDS = 'placeholder (idle, never serves)';

/** One slot in a sentence: "slot "b": waiting, version v2", "slot "a": process gone (last state serving, ...)". */
export function describeSlot(s: SlotView): string {
  const name = `slot "${s.slot}"`;
  if (!s.file) return `${name}: ${s.problem ?? 'no version file'}${s.alive ? '' : ' (no live process)'}`;
  const f = s.file;
  const error = optionalString(f.error);
  // A placeholder's version is not a version anybody runs (often the word "placeholder").
  const what =
    f.state === 'placeholder'
      ? PLACEHOLDER_WORDS
      : `${f.state}, version ${f.version}${error ? `: ${error}` : ''}`;
  return s.alive ? `${name}: ${what}` : `${name}: process gone (last state ${what})`;
}

function reasonWhy(view: VolumeView, summary: Summary, dir: string): string {
  if (view.slots.length === 0) {
    const slotsDir = path.join(dir, PATHS.slotsDir);
    return `no slot has started: nothing in ${slotsDir} (is the shared volume mounted at ${dir} in every container, and are the slot containers running?)`;
  }
  if (view.lockHeld) return 'the active lock is held, but no live slot says it serves';
  if (summary.phase === 'takeover') {
    return summary.successorSlot
      ? `handover in progress: the active lock is free and slot "${summary.successorSlot}" is taking it`
      : 'handover in progress: the active lock is free and a live slot is about to take it';
  }
  return 'nobody holds the active lock';
}

/**
 * Between the release and the new holder writing `serving` (a few ms), the successor
 * already accepts connections and holds their requests: nothing is refused, so the pod
 * stays ready rather than flapping on every handover.
 */
function successorAccepting(view: VolumeView, summary: Summary): SlotView | undefined {
  if (summary.phase !== 'takeover') return undefined;
  return view.slots.find((s) => s.alive && s.file?.state === 'waiting' && s.file.listeningAtMs !== undefined);
}

export function readiness(view: VolumeView, summary: Summary, dir: string): Readiness {
  const taking = successorAccepting(view, summary);
  if (taking?.file) {
    return { ready: true, activeSlot: taking.slot, activeVersion: taking.file.version, phase: summary.phase };
  }
  if (summary.serving) {
    return {
      ready: true,
      activeSlot: summary.activeSlot,
      activeVersion: summary.activeVersion,
      phase: summary.phase,
    };
  }
  const slots = view.slots.map(describeSlot);
  const why = reasonWhy(view, summary, dir);
  return {
    ready: false,
    reason: slots.length > 0 ? `${why}; ${slots.join('; ')}` : why,
    phase: summary.phase,
    slots,
  };
}
