// GET /v1/slots/<slot>/ready: whether the live process of one slot is settled in its role.
// It is the readiness probe of each slot container, so the kubelet's `ready` for slot "b",
// with a new container ID, proves to the controller that the new version took over
// (docs/controller.md, "The completion signal"). Pure: the caller reads the view.
//
// Vocabulary: a slot is *settled* when its live process serves (`serving`, `draining`,
// with the active lock held), guards its successor (`idle`), is the placeholder
// (`placeholder`), or, in binary mode, has staged the version the active slot now runs
// (`staged`). Every other state is on its way somewhere, or stuck: not ready.
import { SLOT_NAME } from '../sdk/constants.ts';
import { summarize } from '../sdk/handover.ts';
import type { SlotState, VersionFile } from '../sdk/versionFile.ts';
import type { SlotView, VolumeView } from '../sdk/volume.ts';

/** The answer's body; the HTTP status is 200 when `ready`, 503 when not, 400 for a bad slot name. */
export interface SlotReadiness {
  ready: boolean;
  slot: string;
  /** The state the slot's live process reports; null without a live process or a usable version file. */
  state: SlotState | null;
  /** The version that process runs (`runningVersion ?? version`); null like `state`. */
  version: string | null;
  /** Why the slot is not ready, in words an operator can act on; absent when ready. */
  reason?: string;
}

export const isSlotName = (s: string): boolean => SLOT_NAME.test(s);

/** The 400 answer's body for a path that does not name a slot. */
export function invalidSlot(raw: string): SlotReadiness {
  return {
    ready: false,
    slot: raw,
    state: null,
    version: null,
    reason:
      `${JSON.stringify(raw)} is not a slot name: use GET /v1/slots/<slot>/ready with the slot's name, ` +
      '1 to 32 characters of a-z, 0-9 and "-", starting and ending with a letter or digit (like "a" or "b")',
  };
}

const runs = (f: VersionFile): string => f.runningVersion ?? f.version;

/** Why a live process in `state` is not (yet) settled, or null when it is. */
function unsettled(f: VersionFile, view: VolumeView): string | null {
  const who = `version ${f.version}`;
  const state = f.state;
  switch (state) {
    case 'serving':
    case 'draining':
      return view.lockHeld
        ? null
        : `${who} says ${state} but nobody holds the active lock (its process is stopping or releasing it)`;
    case 'idle':
    case 'placeholder':
      return null;
    case 'staged': {
      const active = summarize(view);
      if (!active.serving) return `${who} is staged, but no slot serves to switch to it`;
      return active.activeVersion === f.version
        ? null
        : `${who} is staged; waiting for the active slot "${active.activeSlot}" to switch to it (it runs ${active.activeVersion})`;
    }
    case 'starting':
      return `${who} is starting (it has not announced itself yet)`;
    case 'waiting':
      return f.role === 'successor'
        ? `${who} is waiting for the active lock (handover in progress)`
        : `${who} is waiting for the active lock as a standby (HOTUPGRADE_ACTIVE_SLOT names another slot; it serves only if the active slot's process stops or dies)`;
    case 'staging':
      return `${who} is copying its files into the shared volume (staging)`;
    case 'failed':
      return `${who} failed: ${typeof f.error === 'string' && f.error !== '' ? f.error : 'no error given'}`;
    case 'stopped':
      return `${who} has stopped (its process is exiting)`;
    default: {
      const never: never = state;
      return `unknown state ${JSON.stringify(never)}`;
    }
  }
}

function noProcess(s: SlotView | undefined): string {
  const last = s?.file ? `; last state ${s.file.state}, version ${s.file.version}` : '';
  return `no live process (the container is starting, or its process died${last})`;
}

/** Whether `slot` is settled in its role, from one look at the volume. `slot` must be a valid name. */
export function slotReadiness(view: VolumeView, slot: string): SlotReadiness {
  const s = view.slots.find((x) => x.slot === slot);
  const notReady = (why: string, file?: VersionFile): SlotReadiness => ({
    ready: false,
    slot,
    state: file?.state ?? null,
    version: file ? runs(file) : null,
    reason: `slot "${slot}": ${why}`,
  });
  if (!s?.alive) return notReady(noProcess(s));
  if (!s.file) {
    return notReady(
      s.problemKind === 'malformed'
        ? `${s.problem ?? 'malformed version file'}; it is ignored until its process writes a valid one`
        : 'a live process has not written its version file yet (starting; a placeholder must announce itself with state "placeholder")',
    );
  }
  const why = unsettled(s.file, view);
  if (why !== null) return notReady(why, s.file);
  return { ready: true, slot, state: s.file.state, version: runs(s.file) };
}
