// Binary mode inside the active slot: when a newer version is staged, start it as a new
// child on the same listening sockets, let the old child drain and detach its state,
// then let the new one own it. The sockets never close, so no connection is refused;
// the lock never changes hands, since the slot stays the same.
import path from 'node:path';
import { ENV } from '../sdk/constants.ts';
import { exitNow } from '../sdk/libc.ts';
import type { Logger } from '../sdk/log.ts';
import type { Participant } from '../sdk/participant.ts';
import type { VersionFile } from '../sdk/versionFile.ts';
import { listStaged, type Manifest } from './binaries.ts';
import { stopChild } from './child.ts';
import { retire, type LauncherServer } from './slotServer.ts';

export interface BinarySwapOptions {
  dir: string;
  server: LauncherServer;
  participant: Participant;
  env: NodeJS.ProcessEnv;
  drainTimeoutMs: number;
  log: Logger;
}

/** Picks the staged version to run, if any: the newest staging made after `sinceMs` that we did not reject. */
export function nextStaged(
  staged: Array<{ manifest: Manifest }>,
  running: string,
  sinceMs: number,
  rejected: ReadonlySet<string>,
): Manifest | undefined {
  const newest = staged[0]?.manifest;
  if (!newest || newest.stagedAtMs <= sinceMs) return undefined;
  if (newest.version === running || rejected.has(`${newest.version}@${newest.stagedAtMs}`)) return undefined;
  return newest;
}

export class BinarySwapper {
  private readonly o: BinarySwapOptions;
  private busy = false;
  private since: number;
  private readonly rejected = new Set<string>();

  constructor(o: BinarySwapOptions, startedAtMs: number) {
    this.o = o;
    this.since = startedAtMs;
  }

  /** Called on every change of the volume; swaps when a newer staging appears and we serve. */
  async check(): Promise<void> {
    const p = this.o.participant;
    if (this.busy || p.state !== 'serving' || !this.o.server.child) return;
    const running = this.o.server.runningVersion ?? p.current.version;
    const next = nextStaged(listStaged(this.o.dir), running, this.since, this.rejected);
    if (!next) return;
    this.busy = true;
    try {
      await this.swap(next, running);
    } catch (err) {
      // Past the point of no return (the new child listens, the old one drains or has
      // drained): nothing here can serve safely. Exit, so the kernel frees the lock and the
      // kubelet restarts this container on its image's version.
      this.o.log.error(
        { err, to: next.version },
        'binary mode: switch failed after the new version listened; exiting',
      );
      this.o.participant.update({
        state: 'failed',
        error: `binary switch to ${next.version} failed: ${(err as Error).message}`,
      });
      exitNow(70);
    } finally {
      this.busy = false;
    }
  }

  private async swap(m: Manifest, from: string): Promise<void> {
    const { server, log } = this.o;
    const old = server.child;
    if (!old) return;
    const cwd = path.join(this.o.dir, 'binaries', m.version);
    const command = m.command.map((c, i) => (i > 0 && c.startsWith('./') ? path.join(cwd, c) : c));
    const t0 = Date.now();
    log.info({ from, to: m.version }, 'binary mode: starting the staged version beside the running one');
    let next;
    try {
      next = await server.spawn(
        { command, cwd, env: { ...this.o.env, [ENV.version]: m.version } },
        `staged ${m.version}`,
      );
      await server.command(next, 'listen');
    } catch (err) {
      this.rejected.add(`${m.version}@${m.stagedAtMs}`);
      if (next) await stopChild(next, 1_000);
      this.record({
        error: `binary upgrade to ${m.version} failed before takeover: ${(err as Error).message}; ${from} keeps serving`,
      });
      log.error(
        { err, to: m.version },
        'binary mode: staged version failed; the running version keeps serving',
      );
      return;
    }
    // From here the new child is the slot's server: the old one's exit (a plain server
    // drains by exiting) is not a loss, the new one's is.
    server.child = next;
    server.watchChild(next);
    const drainStart = Date.now();
    await server.command(old, 'drain', String(drainStart + this.o.drainTimeoutMs));
    const released = Date.now();
    await server.command(next, 'own');
    const serving = Date.now();
    server.runningVersion = m.version;
    this.since = m.stagedAtMs;
    server.track(retire(old, drainStart + this.o.drainTimeoutMs));
    const slot = this.o.participant.current.slot;
    this.record({
      runningVersion: m.version,
      error: undefined,
      handover: {
        from: { slot, version: from },
        to: { slot, version: m.version },
        noticeMs: Math.max(0, drainStart - t0),
        drainMs: Math.max(0, released - drainStart),
        takeoverMs: Math.max(0, serving - released),
        totalMs: Math.max(0, serving - t0),
        atMs: serving,
      },
    });
    log.info(
      { from, to: m.version, totalMs: serving - t0, gapMs: serving - released },
      'binary mode: staged version serving',
    );
  }

  private record(patch: Partial<VersionFile>): void {
    this.o.participant.update(patch);
  }
}
