// Notices changes in the slots directory: inotify through fs.watch for speed, and a slow
// re-scan as a backstop (some filesystems drop events). Idle cost: one timer per rescanMs.
import fs from 'node:fs';
import path from 'node:path';
import { PATHS } from './constants.ts';

/** keepAlive: whether the rescan timer keeps the process running (a slot process has nothing else to, while idle). */
export function watchSlots(
  dir: string,
  rescanMs: number,
  onChange: () => void,
  keepAlive = false,
): () => void {
  return watchDir(path.join(dir, PATHS.slotsDir), rescanMs, onChange, keepAlive);
}

/** Watches one directory (not recursively) the same way. */
export function watchDir(
  target: string,
  rescanMs: number,
  onChange: () => void,
  keepAlive = false,
): () => void {
  let watcher: fs.FSWatcher | undefined;
  try {
    watcher = fs.watch(target, { persistent: false }, () => onChange());
    watcher.on('error', () => undefined); // the rescan keeps working if the watch breaks
  } catch {
    watcher = undefined;
  }
  const timer = setInterval(onChange, rescanMs);
  if (!keepAlive) timer.unref();
  return () => {
    clearInterval(timer);
    watcher?.close();
  };
}
