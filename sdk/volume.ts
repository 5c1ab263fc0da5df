// The shared volume as the protocol sees it: the active lock, per-slot liveness locks
// and a view of every slot. Reading it never changes it.
import fs from 'node:fs';
import path from 'node:path';
import { PATHS } from './constants.ts';
import { F_WRLCK, probeLock, tryLock, unlock, waitLock } from './libc.ts';
import { aliveFilePath, listSlots, readVersionFile, type VersionFile } from './versionFile.ts';

export function ensureVolume(dir: string): void {
  fs.mkdirSync(path.join(dir, PATHS.slotsDir), { recursive: true });
  fs.mkdirSync(path.join(dir, PATHS.binariesDir), { recursive: true });
}

function openForLock(file: string): number {
  // O_RDWR|O_CREAT: the file's content is never used, only its lock.
  return fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
}

/** The active lock as held (or wanted) by one process. Closing the descriptor, or dying, releases it. */
export class ActiveLock {
  readonly fd: number;
  held = false;
  constructor(dir: string) {
    this.fd = openForLock(path.join(dir, PATHS.activeLock));
  }
  tryAcquire(): boolean {
    this.held = tryLock(this.fd, F_WRLCK);
    return this.held;
  }
  async acquire(): Promise<void> {
    await waitLock(this.fd, F_WRLCK);
    this.held = true;
  }
  release(): void {
    unlock(this.fd);
    this.held = false;
  }
}

/** Holds a write lock on slots/<slot>.alive for the life of the process: the kernel's word that it is alive, and that the slot is taken. */
export function holdAlive(dir: string, slot: string): number {
  const fd = openForLock(aliveFilePath(dir, slot));
  if (!tryLock(fd, F_WRLCK)) {
    fs.closeSync(fd);
    throw new Error(`slot "${slot}" is already in use by a live process (its liveness file is write-locked)`);
  }
  return fd;
}

/** True when some process holds a lock on `file` (a missing file is unlocked). Takes nothing. */
function isLocked(file: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY);
  } catch {
    return false;
  }
  try {
    return probeLock(fd, F_WRLCK) !== null;
  } finally {
    fs.closeSync(fd);
  }
}

/** True when some live process holds the liveness lock of `slot`. */
export function isSlotAlive(dir: string, slot: string): boolean {
  return isLocked(aliveFilePath(dir, slot));
}

/** True when some process holds the active lock. */
export function isActiveLockHeld(dir: string): boolean {
  return isLocked(path.join(dir, PATHS.activeLock));
}

export interface SlotView {
  slot: string;
  /** Whether the process that writes this slot's version file is alive (kernel lock, not the file). */
  alive: boolean;
  file?: VersionFile;
  /** Why the version file could not be used, when it could not. */
  problem?: string;
  /** Set with `problem`: whether the file is absent or unusable. */
  problemKind?: 'missing' | 'malformed';
}

export interface VolumeView {
  lockHeld: boolean;
  slots: SlotView[];
}

/** One consistent-enough look at the volume: the lock first, then each slot. */
export function readVolume(dir: string): VolumeView {
  const lockHeld = isActiveLockHeld(dir);
  const slots = listSlots(dir).map((slot): SlotView => {
    const alive = isSlotAlive(dir, slot);
    const r = readVersionFile(dir, slot);
    if (r.kind === 'ok') return { slot, alive, file: r.file };
    if (r.kind === 'missing') return { slot, alive, problem: 'no version file yet', problemKind: 'missing' };
    return { slot, alive, problem: `malformed version file: ${r.error}`, problemKind: 'malformed' };
  });
  return { lockHeld, slots };
}
