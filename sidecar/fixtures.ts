// Fixture builders for the sidecar's tests: version files, views and handover records
// with sensible defaults, so a test states only what it is about.
import type { HandoverRecord, VersionFile } from '../sdk/versionFile.ts';
import type { SlotView, VolumeView } from '../sdk/volume.ts';

export function makeFile(p: Partial<VersionFile> = {}): VersionFile {
  const slot = p.slot ?? 'a';
  return {
    protocol: 1,
    slot,
    version: 'v1',
    mode: 'slot',
    state: 'serving',
    role: 'standby',
    pid: 100,
    instance: `${slot}-1`,
    startedAtMs: 1_000,
    updatedAtMs: 1_000,
    ...p,
  };
}

export function makeHandover(p: Partial<HandoverRecord> = {}): HandoverRecord {
  return {
    from: { slot: 'a', version: 'v1' },
    to: { slot: 'b', version: 'v2' },
    noticeMs: 2,
    drainMs: 30,
    takeoverMs: 3,
    totalMs: 35,
    atMs: 10_000,
    ...p,
  };
}

/** A slot whose file is readable; alive unless said otherwise. */
export function live(file: VersionFile, alive = true): SlotView {
  return { slot: file.slot, alive, file };
}

/** A slot whose file is unusable. */
export function broken(slot: string, problem: string, alive = true): SlotView {
  // As readVolume() words them: a missing file says "no version file yet".
  const problemKind = problem.startsWith('no version file') ? 'missing' : 'malformed';
  return { slot, alive, problem, problemKind };
}

export function makeView(lockHeld: boolean, ...slots: SlotView[]): VolumeView {
  return { lockHeld, slots };
}
