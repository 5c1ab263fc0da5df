// Waiting for a state of the shared volume, never for a fixed time: re-read the version
// files until a predicate holds, the deadline passes, or the process we wait on dies.
import { readVersionFile, type VersionFile } from '../sdk/versionFile.ts';
import { isSlotAlive } from '../sdk/volume.ts';

/** How often the version files are re-read while waiting, in ms. */
export const POLL_MS = 5;

export type Waited<T> = { ok: true; value: T; atMs: number } | { ok: false; error: string };

/** Polls `probe` until it returns a value; fails at `timeoutMs` or when `exited` resolves first. */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined,
  timeoutMs: number,
  exited?: Promise<string>,
): Promise<Waited<T>> {
  const deadline = Date.now() + timeoutMs;
  let died: string | undefined;
  void exited?.then((how) => (died = how));
  for (;;) {
    const v = probe();
    if (v !== undefined) return { ok: true, value: v, atMs: Date.now() };
    if (died !== undefined) return { ok: false, error: `${what}: the process exited (${died}) first` };
    if (Date.now() >= deadline) return { ok: false, error: `${what}: not within ${timeoutMs} ms` };
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** The slot's version file when it parses and `pred` holds. */
export function slotFileWhere(
  dir: string,
  slot: string,
  pred: (f: VersionFile) => boolean,
): () => VersionFile | undefined {
  return () => {
    const r = readVersionFile(dir, slot);
    return r.kind === 'ok' && pred(r.file) ? r.file : undefined;
  };
}

/** True once the slot's process is gone: its liveness lock is free (the kernel's word, not the file's). */
export function slotGone(dir: string, slot: string): () => true | undefined {
  return () => (isSlotAlive(dir, slot) ? undefined : true);
}

/** Both slots' version files as one line of evidence for a report. */
export function describeSlots(dir: string, slots: readonly string[]): string {
  return slots
    .map((s) => {
      const r = readVersionFile(dir, s);
      if (r.kind !== 'ok') return `${s}: ${r.kind}`;
      const f = r.file;
      return `${s}: ${f.version} ${f.state} pid ${f.pid}${f.runningVersion ? ` running ${f.runningVersion}` : ''}${f.error ? ` error "${f.error}"` : ''}`;
    })
    .join('; ');
}
