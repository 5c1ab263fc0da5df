// Shared-memory state: a file in the shared memory volume (tmpfs, e.g. /dev/shm, an
// emptyDir with medium Memory) mapped MAP_SHARED by every process that serves the pod.
// The old and the new version map the same pages, so nothing is copied at a handover;
// the active lock says who may write.
import fs from 'node:fs';
import path from 'node:path';
import { mapShared } from './libc.ts';

export interface SharedRegion {
  /** The mapped bytes; writes are visible to every process mapping the file, at once. */
  buffer: ArrayBuffer;
  path: string;
  /** True when this call created the file (first start of the pod), false when it attached to existing state. */
  created: boolean;
}

/**
 * Maps (creating if needed) `name` of `bytes` in `dir`. A file of another size is an
 * error naming both sizes, never silently truncated: a layout change between versions
 * must be handled by the server (e.g. a versioned header) rather than lose state.
 */
export function attachShared(dir: string, name: string, bytes: number): SharedRegion {
  if (!/^[A-Za-z0-9._-]+$/.test(name))
    throw new Error(`shared region name "${name}" must be a plain file name`);
  if (!Number.isSafeInteger(bytes) || bytes <= 0)
    throw new Error(`shared region size must be a positive byte count, got ${bytes}`);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  let created = false;
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
    created = true;
    fs.ftruncateSync(fd, bytes);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    fd = fs.openSync(file, fs.constants.O_RDWR);
    const size = fs.fstatSync(fd).size;
    if (size !== bytes) {
      fs.closeSync(fd);
      throw new Error(
        `shared region ${file} is ${size} bytes but ${bytes} were asked for; refusing to resize live state`,
      );
    }
  }
  try {
    // The mapping outlives the descriptor, so close it at once.
    return { buffer: mapShared(fd, bytes), path: file, created };
  } finally {
    fs.closeSync(fd);
  }
}
