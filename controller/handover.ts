// One pod's hot upgrade, step by step (docs/controller.md): start it on the placeholder
// slot, judge it from what the kubelet reports, and complete or undo it. Pure: each step
// returns the patch to write; the executor writes it with the resourceVersion it was
// decided on, so a decision made on a stale cache is refused (409) and made again.
import type { V1ContainerStatus } from '@kubernetes/client-node';
import { ANNOTATIONS, NAMES, type SlotName } from './constants.ts';
import { sameImage } from './images.ts';
import type { FailedHandover, InFlight, PodView } from './podView.ts';
import { otherSlot } from './podView.ts';

/** Kubelet reasons that mean the image will not run (waiting state). */
const PULL_FAILURES = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);
const START_FAILURES = new Set(['CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

/** Time a new version gets beyond its own handover deadline before the controller gives up, in ms. */
export const DEADLINE_GRACE_MS = 10_000;

export type HandoverFailure = 'ImagePullFailed' | 'StartFailed' | 'Crashed' | 'HandoverDeadlineExceeded';

export type Judgement =
  | { kind: 'waiting'; /** When the deadline passes, in ms since the epoch. */ deadlineAtMs: number }
  | { kind: 'succeeded' }
  | { kind: 'failed'; reason: HandoverFailure; message: string };

/** A write to one pod: annotations (null removes) and slot images, with the resourceVersion it assumes. */
export interface PodPatch {
  pod: string;
  resourceVersion: string;
  annotations: Record<string, string | null>;
  images: Record<string, string>;
}

function waitingReason(cs: V1ContainerStatus): { reason: string; message: string } | null {
  const w = cs.state?.waiting;
  return w?.reason ? { reason: w.reason, message: w.message ?? '' } : null;
}

/**
 * The new version serves (or, in binary mode, runs the staged version): the kubelet's
 * `ready` for a probed slot, else the sidecar's report for this upgrade's slot and
 * version (docs/controller.md, "The completion signal").
 */
function proven(view: PodView, f: InFlight): boolean {
  const s = view.slots[f.slot];
  if (s.probed) return s.status?.ready === true;
  return s.report?.ready === true && s.report.version === f.version && s.status?.state?.running !== undefined;
}

/** What the sidecar last said about the slot, for a deadline's message. */
function lastWord(view: PodView, f: InFlight): string {
  const r = view.slots[f.slot].report;
  return r?.reason ? `; the sidecar said: ${r.reason}` : '';
}

/** Whether the in-flight upgrade of `view` has finished, failed, or is still on its way. */
export function judge(
  view: PodView,
  f: InFlight,
  nowMs: number,
  deadlineMs: number,
  hotContainer: string,
): Judgement {
  const cs = view.slots[f.slot].status;
  const container = NAMES.slotContainer(hotContainer, f.slot);
  const startedAtMs = Date.parse(f.startedAt);
  const deadlineAtMs = (Number.isNaN(startedAtMs) ? 0 : startedAtMs) + deadlineMs + DEADLINE_GRACE_MS;
  if (cs) {
    const restarted =
      cs.containerID !== undefined && cs.containerID !== '' && cs.containerID !== f.containerID;
    const w = waitingReason(cs);
    // A waiting reason is about the new image once the kubelet shows it (it shows the spec image).
    const aboutNew = sameImage(cs.image, f.image) || restarted;
    if (w && aboutNew && PULL_FAILURES.has(w.reason)) {
      return {
        kind: 'failed',
        reason: 'ImagePullFailed',
        message: `${container}: ${w.reason}: ${w.message}`.trim(),
      };
    }
    if (w && aboutNew && START_FAILURES.has(w.reason)) {
      return {
        kind: 'failed',
        reason: 'StartFailed',
        message: `${container}: ${w.reason}: ${w.message}`.trim(),
      };
    }
    if (restarted) {
      const crashes = (cs.restartCount ?? 0) - f.restartCount - 1;
      const terminated = cs.state?.terminated;
      if (w?.reason === 'CrashLoopBackOff' || crashes > 0 || terminated) {
        const exit = terminated?.exitCode ?? cs.lastState?.terminated?.exitCode;
        return {
          kind: 'failed',
          reason: 'Crashed',
          message: `${container}: the new version exited${exit === undefined ? '' : ` with code ${exit}`} before serving`,
        };
      }
      if (proven(view, f) && sameImage(cs.image, f.image)) return { kind: 'succeeded' };
    }
  }
  if (nowMs >= deadlineAtMs) {
    return {
      kind: 'failed',
      reason: 'HandoverDeadlineExceeded',
      message: `${container}: ${f.version} did not take over within ${Math.round((deadlineMs + DEADLINE_GRACE_MS) / 1000)} s of its start (handoverDeadlineSeconds + 10 s)${lastWord(view, f)}`,
    };
  }
  return { kind: 'waiting', deadlineAtMs };
}

/**
 * Step 1: the placeholder slot starts the new version. In slot mode the active-slot
 * annotation names it too: its HOTUPGRADE_ACTIVE_SLOT then equals its own slot, which
 * makes it the successor the serving slot hands over to (docs/protocol.md §5.1).
 */
export function startPatch(
  view: PodView,
  hotContainer: string,
  mode: 'slot' | 'binary',
  image: string,
  version: string,
  now: string,
): PodPatch {
  const slot = otherSlot(view.activeSlot);
  const cs = view.slots[slot].status;
  const f: InFlight = {
    slot,
    from: view.activeSlot,
    image,
    version,
    containerID: cs?.containerID ?? '',
    restartCount: cs?.restartCount ?? 0,
    startedAt: now,
  };
  return {
    pod: view.name,
    resourceVersion: view.resourceVersion,
    annotations: {
      [ANNOTATIONS.version(slot)]: version,
      [ANNOTATIONS.upgrade]: JSON.stringify(f),
      ...(mode === 'slot' ? { [ANNOTATIONS.activeSlot]: slot } : {}),
    },
    images: { [NAMES.slotContainer(hotContainer, slot)]: image },
  };
}

/**
 * Step 3: the new version serves. Slot mode: the old slot goes back to the placeholder and
 * the roles swap. Binary mode: the staging slot goes back; the active slot keeps serving,
 * now from the staged binaries.
 */
export function completePatch(
  view: PodView,
  f: InFlight,
  hotContainer: string,
  mode: 'slot' | 'binary',
  placeholderImage: string,
): PodPatch {
  const reset: SlotName = mode === 'slot' ? f.from : f.slot;
  return {
    pod: view.name,
    resourceVersion: view.resourceVersion,
    annotations: {
      [ANNOTATIONS.version(reset)]: '',
      [ANNOTATIONS.activeSlot]: mode === 'slot' ? f.slot : f.from,
      [ANNOTATIONS.image]: f.image,
      [ANNOTATIONS.upgrade]: null,
      [ANNOTATIONS.failed]: null,
    },
    images: { [NAMES.slotContainer(hotContainer, reset)]: placeholderImage },
  };
}

/** Step 4: the new version failed; its slot goes back to the placeholder, the old one never stopped serving. */
export function failPatch(
  view: PodView,
  f: InFlight,
  hotContainer: string,
  placeholderImage: string,
  failure: FailedHandover,
): PodPatch {
  return {
    pod: view.name,
    resourceVersion: view.resourceVersion,
    annotations: {
      [ANNOTATIONS.version(f.slot)]: '',
      [ANNOTATIONS.activeSlot]: f.from,
      [ANNOTATIONS.upgrade]: null,
      [ANNOTATIONS.failed]: JSON.stringify(failure),
    },
    images: { [NAMES.slotContainer(hotContainer, f.slot)]: placeholderImage },
  };
}

/** The idle slot of a pod at rest should run the placeholder (a completion whose reset was lost, or a hand edit). */
export function idleSlotDrift(view: PodView): boolean {
  if (view.inFlight) return false;
  const idle = view.slots[otherSlot(view.activeSlot)];
  return idle.version !== '';
}

export function resetIdlePatch(view: PodView, hotContainer: string, placeholderImage: string): PodPatch {
  const idle = otherSlot(view.activeSlot);
  return {
    pod: view.name,
    resourceVersion: view.resourceVersion,
    annotations: { [ANNOTATIONS.version(idle)]: '' },
    images: { [NAMES.slotContainer(hotContainer, idle)]: placeholderImage },
  };
}
