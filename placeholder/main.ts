#!/usr/bin/env node
// The placeholder slot's program. It accepts any arguments (the pod spec's command and
// args cannot change in place, so they are the business container's), announces itself
// in the shared volume (version file state `placeholder`, liveness lock held: see
// announce.ts and protocol §1.2), then idles: no timer wakes it, it watches nothing and
// never takes the active lock. On SIGTERM or SIGINT it writes `stopped` and exits 0 at
// once. Whatever goes wrong, it logs one line and idles: it never crash-loops.
// A custom placeholder image must announce the same way; a bare `pause` binary does not.
import crypto from 'node:crypto';
import { writeVersionFile } from '../sdk/versionFile.ts';
import { announce, stoppedFile, type Announcement } from './announce.ts';

const LEVELS = { info: 30, warn: 40, error: 50 } as const;

/** One JSON line on stderr in pino's shape, without loading pino (this runs in every pod). */
function log(level: keyof typeof LEVELS, fields: Record<string, unknown>, msg: string): void {
  const line = { level: LEVELS[level], time: Date.now(), pid: process.pid, name: 'hotupgrade-placeholder' };
  process.stderr.write(JSON.stringify({ ...line, ...fields, msg }) + '\n');
}

let announced: Extract<Announcement, { kind: 'announced' }> | undefined;

function stop(signal: NodeJS.Signals): void {
  if (announced) {
    try {
      writeVersionFile(announced.dir, stoppedFile(announced.file, Date.now()));
    } catch (err) {
      log('error', { signal, err: (err as Error).message }, 'could not write state stopped');
    }
  }
  // No lock wait is ever pending here, so a normal exit cannot hang; the kernel drops the liveness lock.
  process.exit(0);
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
// A signal handler alone does not keep Node running; a long timer does, at no CPU cost.
setInterval(() => undefined, 2 ** 31 - 1);

const a = await announce(process.env, { now: Date.now(), pid: process.pid, instance: crypto.randomUUID() });
for (const note of a.notes) log('warn', {}, note);
if (a.kind === 'announced') {
  announced = a;
  const { slot, version, mode, instance } = a.file;
  log('info', { slot, version, mode, instance }, 'placeholder announced; idle until stopped');
} else {
  log('warn', {}, a.reason);
}
