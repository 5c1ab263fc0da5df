// Turns the previous and the current look at the shared volume into transitions: what
// a person watching the pod would want to be told once (a slot changed state, a process
// died, a file went bad, a handover completed). Pure: no clock, no file, no logger.
//
// Counting rule, so that nothing is counted twice, not even across a sidecar restart:
// - a handover record counts once per (slot, instance, atMs), and only if atMs >= sinceMs
//   (the sidecar's start): after a restart the last record is seen again and skipped;
// - a slot entering `failed` counts once per process instance, and only if the file was
//   written at or after sinceMs;
// - a `rejected` entry counts only when it appears in a process already seen, so the
//   first look at a process is a baseline;
// - a malformed file counts on the transition into malformed, not on every read.
// The memory keeps the last well-formed file of each slot, so a file that is briefly
// malformed and then readable again does not look like a new process.
import { summarize, type Summary } from '../sdk/handover.ts';
import type { HandoverRecord, SlotState, VersionFile } from '../sdk/versionFile.ts';
import type { VolumeView } from '../sdk/volume.ts';
import { handoverKey, lockWaitMs, validHandover } from './handoverRecord.ts';

/** What the sidecar remembers of one slot between two looks. */
export interface SlotMemory {
  alive: boolean;
  /** Why the version file was unusable at the last look, or null. */
  problem: string | null;
  /** Whether that problem was a malformed file (not merely a missing one). */
  malformed: boolean;
  /** The last well-formed version file, kept while the file is unusable. */
  file: VersionFile | null;
  /** handoverKey() of the last handover record seen (counted or baselined). */
  handoverKey: string | null;
  /** Instance whose entry into `failed` was seen. */
  failedInstance: string | null;
  /** `rejected` entries of `file.instance` already seen. */
  rejected: readonly string[];
}

export interface Memory {
  slots: ReadonlyMap<string, SlotMemory>;
  summary: Summary | null;
}

export const EMPTY_MEMORY: Memory = { slots: new Map(), summary: null };

export type Transition =
  /** First look at a slot's process: at sidecar start, or a new process (restart, upgrade). */
  | {
      kind: 'process';
      slot: string;
      version: string;
      instance: string;
      state: SlotState;
      alive: boolean;
      /** True when another process of this slot was seen before. */
      restarted: boolean;
    }
  | { kind: 'state'; slot: string; version: string; from: SlotState; to: SlotState }
  | { kind: 'alive'; slot: string; alive: boolean; lastState: SlotState | null }
  /** The version file became unusable, or its problem changed. */
  | {
      kind: 'problem';
      slot: string;
      problem: string;
      alive: boolean;
      malformed: boolean;
      enteredMalformed: boolean;
    }
  | { kind: 'problem-cleared'; slot: string }
  | { kind: 'removed'; slot: string }
  | { kind: 'handover'; slot: string; record: HandoverRecord; lockWaitMs: number | null }
  | { kind: 'failed'; slot: string; version: string; error: string | null }
  | { kind: 'rejected'; slot: string; entry: string }
  | { kind: 'summary'; from: Summary | null; to: Summary };

export interface DiffResult {
  transitions: Transition[];
  memory: Memory;
  summary: Summary;
}

const sameSummary = (a: Summary, b: Summary): boolean =>
  a.serving === b.serving &&
  a.activeSlot === b.activeSlot &&
  a.activeVersion === b.activeVersion &&
  a.phase === b.phase &&
  a.successorSlot === b.successorSlot;

/** Transitions from `prev` to `view`, and the memory for the next call. */
export function diff(prev: Memory, view: VolumeView, sinceMs: number): DiffResult {
  const out: Transition[] = [];
  const slots = new Map<string, SlotMemory>();

  for (const s of view.slots) {
    const m = prev.slots.get(s.slot);
    const problem = s.problem ?? null;
    const malformed = s.problemKind === 'malformed';
    const f = s.file ?? null;
    const next: SlotMemory = {
      alive: s.alive,
      problem,
      malformed,
      file: f ?? m?.file ?? null,
      handoverKey: m?.handoverKey ?? null,
      failedInstance: m?.failedInstance ?? null,
      rejected: m?.rejected ?? [],
    };

    if (m && m.alive !== s.alive) {
      out.push({ kind: 'alive', slot: s.slot, alive: s.alive, lastState: (f ?? m.file)?.state ?? null });
    }

    if (problem !== (m?.problem ?? null)) {
      if (problem !== null) {
        const enteredMalformed = malformed && !(m?.malformed ?? false);
        out.push({ kind: 'problem', slot: s.slot, problem, alive: s.alive, malformed, enteredMalformed });
      } else {
        out.push({ kind: 'problem-cleared', slot: s.slot });
      }
    }

    if (f) {
      const known = m?.file ?? null;
      const sameProcess = known !== null && known.instance === f.instance;
      if (!sameProcess) {
        out.push({
          kind: 'process',
          slot: s.slot,
          version: f.version,
          instance: f.instance,
          state: f.state,
          alive: s.alive,
          restarted: known !== null,
        });
        next.rejected = f.rejected ?? []; // baseline: first look at this process
      } else {
        if (known.state !== f.state) {
          out.push({ kind: 'state', slot: s.slot, version: f.version, from: known.state, to: f.state });
        }
        const seen = new Set(next.rejected);
        for (const entry of f.rejected ?? []) {
          if (!seen.has(entry)) out.push({ kind: 'rejected', slot: s.slot, entry });
        }
        next.rejected = f.rejected ?? next.rejected;
      }

      const record = validHandover(f);
      if (record) {
        const key = handoverKey(f, record);
        if (key !== next.handoverKey) {
          if (record.atMs >= sinceMs) {
            out.push({ kind: 'handover', slot: s.slot, record, lockWaitMs: lockWaitMs(f) ?? null });
          }
          next.handoverKey = key;
        }
      }

      if (f.state === 'failed' && next.failedInstance !== f.instance) {
        if (f.updatedAtMs >= sinceMs) {
          out.push({ kind: 'failed', slot: s.slot, version: f.version, error: errorText(f) });
        }
        next.failedInstance = f.instance;
      }
    }
    slots.set(s.slot, next);
  }

  for (const slot of prev.slots.keys()) {
    if (!slots.has(slot)) out.push({ kind: 'removed', slot });
  }

  const summary = summarize(view);
  if (!prev.summary || !sameSummary(prev.summary, summary)) {
    out.push({ kind: 'summary', from: prev.summary, to: summary });
  }
  return { transitions: out, memory: { slots, summary }, summary };
}

const errorText = (f: VersionFile): string | null => (typeof f.error === 'string' ? f.error : null);
