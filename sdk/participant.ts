// One slot's side of the protocol: announce, wait for the active lock, serve, notice a
// successor, drain with a bound, release, and guard the successor until it proves
// itself. The work of serving (sockets, state) is the caller's, behind ServeHooks; the
// SDK's HTTP server and the launcher are the two callers.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { DEFAULTS, PROTOCOL_VERSION } from './constants.ts';
import { findServing, findSuccessor, isDrainingToward, slotKey } from './handover.ts';
import type { Logger } from './log.ts';
import type { SlotConfig } from './config.ts';
import { exitNow } from './libc.ts';
import { ActiveLock, ensureVolume, holdAlive, isSlotAlive, readVolume, type VolumeView } from './volume.ts';
import {
  readVersionFile,
  writeVersionFile,
  type HandoverRecord,
  type SlotState,
  type VersionFile,
} from './versionFile.ts';
import { watchSlots } from './watch.ts';

export interface ServeHooks {
  /** Start accepting connections, holding requests until own(). May run before the lock is ours. */
  prepare(): Promise<void>;
  /** The lock is ours: attach shared state and serve everything held and new. */
  own(): Promise<void>;
  /** A successor waits: finish in-flight work by the deadline (ms since epoch), detach state, stop listening. */
  drain(deadlineAtMs: number, signal: AbortSignal): Promise<void>;
  /** The successor died while we drained: serve again as before. */
  resume(): Promise<void>;
  /** We prepared as a successor but gave up (deadline): stop listening. */
  unprepare(): Promise<void>;
  /** The process is stopping for good (SIGTERM). */
  stop(): Promise<void>;
}

/** A slot's configuration (less where shared memory lives, which is the server's business), plus the process's tools. */
export interface ParticipantOptions extends Omit<SlotConfig, 'shmDir'> {
  rescanMs?: number;
  log: Logger;
  now?: () => number;
}

export class Participant {
  private readonly o: ParticipantOptions;
  private readonly hooks: ServeHooks;
  private readonly now: () => number;
  private file: VersionFile;
  private lock!: ActiveLock;
  private aliveFd = -1;
  private prepared = false;
  private lockWait: Promise<void> | undefined;
  private lastSuccessor: VersionFile | undefined;
  private chain: Promise<void> = Promise.resolve();
  private stopWatch: (() => void) | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(options: ParticipantOptions, hooks: ServeHooks) {
    this.o = options;
    this.hooks = hooks;
    this.now = options.now ?? Date.now;
    const t = this.now();
    this.file = {
      protocol: PROTOCOL_VERSION,
      slot: options.slot,
      version: options.version,
      mode: options.mode,
      state: 'starting',
      role: options.role,
      pid: process.pid,
      instance: crypto.randomUUID(),
      startedAtMs: t,
      updatedAtMs: t,
    };
  }

  get state(): SlotState {
    return this.file.state;
  }

  get current(): Readonly<VersionFile> {
    return this.file;
  }

  /** Announces this slot and either serves at once (nobody holds the lock) or waits for the lock. */
  async start(): Promise<void> {
    ensureVolume(this.o.dir);
    // Replace a dead predecessor's version file of this slot before taking the liveness
    // lock: otherwise its stale "waiting" would look alive for a moment, and the serving
    // slot could start a handover toward a process that no longer exists.
    if (isSlotAlive(this.o.dir, this.o.slot))
      throw new Error(`slot "${this.o.slot}" is already in use by a live process`);
    this.write({});
    this.aliveFd = holdAlive(this.o.dir, this.o.slot);
    this.lock = new ActiveLock(this.o.dir);
    this.stopWatch = watchSlots(
      this.o.dir,
      this.o.rescanMs ?? DEFAULTS.rescanMs,
      () => this.enqueue(() => this.onChange()),
      true,
    );
    if (this.lock.tryAcquire()) {
      this.o.log.info({}, 'nobody serves: took the active lock at start');
      await this.enqueue(() => this.takeOver());
      return;
    }
    this.write({ state: 'waiting', announcedAtMs: this.now() });
    this.o.log.info({ role: this.o.role }, 'announced; waiting for the active lock');
    if (this.o.role === 'successor') {
      this.deadlineTimer = setTimeout(() => this.enqueue(() => this.onDeadline()), this.o.handoverDeadlineMs);
      this.deadlineTimer.unref();
    }
    this.waitForLock();
  }

  /**
   * Stops for good: drains if we serve (nobody will take over), then releases everything.
   * Serving, it first serves on for shutdownDelayMs: a pod being deleted is taken out of
   * its Services while its containers already hear SIGTERM, and connections opened in
   * between would otherwise be refused.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await this.enqueue(async () => {
      clearTimeout(this.deadlineTimer);
      const delay = this.o.shutdownDelayMs ?? 0;
      if (this.lock.held && delay > 0) {
        this.o.log.info(
          { delayMs: delay },
          'stopping: serving on before the drain, so that load balancers stop sending',
        );
        await new Promise((r) => setTimeout(r, delay));
      }
      this.stopWatch?.();
      await this.hooks.stop();
      if (this.lock.held) this.lock.release();
      this.write({ state: 'stopped' });
      fs.closeSync(this.aliveFd);
    });
  }

  private enqueue(fn: () => void | Promise<void>): Promise<void> {
    const next = this.chain.then(fn).catch((err: unknown) => {
      this.o.log.error({ err, slot: this.o.slot }, 'hot-upgrade participant step failed');
    });
    this.chain = next;
    return next;
  }

  /** Records facts the caller owns (binary mode: the running version, its handovers) in our version file. */
  update(patch: Partial<VersionFile>): void {
    this.write(patch);
  }

  private write(patch: Partial<VersionFile>): void {
    const merged: VersionFile = { ...this.file, ...patch, updatedAtMs: this.now() };
    if (merged.rejected?.length === 0) merged.rejected = undefined;
    // Drop undefined fields so the in-memory copy equals what JSON writes.
    this.file = Object.fromEntries(
      Object.entries(merged).filter(([, v]) => v !== undefined),
    ) as unknown as VersionFile;
    writeVersionFile(this.o.dir, this.file);
  }

  private waitForLock(): void {
    if (this.lockWait) return;
    this.lockWait = this.lock.acquire().then(
      () => this.enqueue(() => this.onLockAcquired()),
      (err: unknown) => this.o.log.error({ err }, 'waiting for the active lock failed'),
    );
  }

  private async onLockAcquired(): Promise<void> {
    this.lockWait = undefined;
    if (this.stopping) {
      this.lock.release();
      return;
    }
    if (this.file.state === 'idle' && this.lastSuccessor) {
      // Our successor died and the kernel gave the lock back to us, the guard.
      // Its last word, if it wrote one: a clean stop (`stopped`) is not a crash.
      const last = readVersionFile(this.o.dir, this.lastSuccessor.slot);
      const s =
        last.kind === 'ok' && last.file.instance === this.lastSuccessor.instance
          ? last.file
          : this.lastSuccessor;
      const servedMs = this.now() - (s.servingAtMs ?? s.updatedAtMs);
      if (s.state === 'stopped') {
        this.o.log.info({ successor: slotKey(s), servedMs }, 'successor stopped: took the lock back');
      } else if (servedMs < this.o.probationMs) {
        this.file.rejected = [...new Set([...(this.file.rejected ?? []), slotKey(s)])];
        this.o.log.warn(
          { successor: slotKey(s), servedMs },
          'successor died in probation: took the lock back and rejected its version',
        );
      } else {
        this.o.log.warn({ successor: slotKey(s), servedMs }, 'successor died: took the lock back');
      }
      this.prepared = false;
    }
    await this.takeOver();
  }

  /**
   * We hold the lock: prepare if not yet, own, serve. A process that cannot (its state
   * does not attach, its server does not start) must not sit on the lock: it says why
   * and exits, so the kernel frees the lock for the guard or the restarted container.
   */
  private async takeOver(): Promise<void> {
    try {
      await this.takeOverSteps();
    } catch (err) {
      const error = `could not take over: ${(err as Error).message}`;
      this.o.log.error({ err }, `${error}; exiting to release the active lock`);
      this.write({ state: 'failed', error });
      exitNow(70);
    }
  }

  private async takeOverSteps(): Promise<void> {
    clearTimeout(this.deadlineTimer);
    const acquiredAt = this.now();
    this.write({ lockAcquiredAtMs: acquiredAt });
    if (!this.prepared) {
      await this.prepareListening();
    }
    await this.hooks.own();
    const servingAt = this.now();
    // The predecessor is the slot that released the lock to us after we announced.
    const predecessor = readVolume(this.o.dir).slots.find(
      (x) =>
        x.slot !== this.o.slot &&
        x.file?.successor === this.o.slot &&
        (x.file.releasedAtMs ?? -1) >= (this.file.announcedAtMs ?? Infinity),
    )?.file;
    const handover: HandoverRecord | undefined =
      predecessor &&
      this.file.announcedAtMs !== undefined &&
      predecessor.drainStartedAtMs !== undefined &&
      predecessor.releasedAtMs !== undefined
        ? {
            from: { slot: predecessor.slot, version: predecessor.runningVersion ?? predecessor.version },
            to: { slot: this.file.slot, version: this.file.version },
            // Clamped: a wall-clock step must not make our own file malformed.
            noticeMs: Math.max(0, predecessor.drainStartedAtMs - this.file.announcedAtMs),
            drainMs: Math.max(0, predecessor.releasedAtMs - predecessor.drainStartedAtMs),
            takeoverMs: Math.max(0, servingAt - predecessor.releasedAtMs),
            totalMs: Math.max(0, servingAt - this.file.announcedAtMs),
            atMs: servingAt,
          }
        : undefined;
    this.write({
      state: 'serving',
      servingAtMs: servingAt,
      successor: undefined,
      error: undefined,
      ...(handover ? { handover } : {}),
    });
    this.o.log.info({ handover }, 'serving');
  }

  private async onChange(): Promise<void> {
    if (this.stopping) return;
    const view = readVolume(this.o.dir);
    switch (this.file.state) {
      case 'serving': {
        const successor = findSuccessor(this.file, view);
        if (successor?.file) await this.drainFor(successor.file);
        return;
      }
      case 'waiting':
      case 'failed': {
        if (!this.prepared && isDrainingToward(view, this.o.slot)) {
          // Listen now, so that no connection is refused between release and takeover.
          await this.prepareListening();
        }
        return;
      }
      case 'idle':
        this.guard(view);
        return;
      default:
        return;
    }
  }

  /** After a handover: once the successor holds the lock, wait behind it in case it dies. */
  private guard(view: VolumeView): void {
    const s = this.lastSuccessor;
    if (!s) return;
    const sv = view.slots.find((x) => x.slot === s.slot);
    if (sv?.file?.instance === s.instance) this.lastSuccessor = sv.file;
    const successorServing = sv?.alive && sv.file?.instance === s.instance && sv.file.state === 'serving';
    const successorGone = !sv?.alive || sv.file?.instance !== s.instance;
    if (successorServing || (successorGone && !view.lockHeld)) this.waitForLock();
  }

  private async prepareListening(): Promise<void> {
    // Counted as prepared only once it worked: a failed prepare is tried again at takeover.
    await this.hooks.prepare();
    this.prepared = true;
    this.write({ listeningAtMs: this.now() });
  }

  private async drainFor(successor: VersionFile): Promise<void> {
    const startedAt = this.now();
    this.write({ state: 'draining', successor: successor.slot, drainStartedAtMs: startedAt });
    this.o.log.info({ successor: slotKey(successor) }, 'successor waiting: draining');
    const abort = new AbortController();
    // The successor may die while we drain; its liveness lock tells us at once.
    const watchdog = setInterval(() => {
      if (!isSlotAlive(this.o.dir, successor.slot))
        abort.abort(new Error(`successor slot "${successor.slot}" died`));
    }, 25);
    try {
      // Serve as usual until the successor listens too, so no connection is ever refused; a
      // successor that cannot listen within the handover deadline is given up on.
      const listening = await waitUntil(
        () => readVersionFile(this.o.dir, successor.slot),
        (r) => {
          // Another instance in that slot: ours died and was restarted; give this handover up.
          if (r.kind === 'ok' && r.file.instance !== successor.instance) {
            abort.abort(new Error(`successor slot "${successor.slot}" restarted`));
          }
          return (
            r.kind === 'ok' && r.file.instance === successor.instance && r.file.listeningAtMs !== undefined
          );
        },
        startedAt + this.o.handoverDeadlineMs,
        abort.signal,
      );
      if (!listening && !abort.signal.aborted)
        abort.abort(
          new Error(`successor slot "${successor.slot}" did not listen within the handover deadline`),
        );
      if (!abort.signal.aborted) await this.hooks.drain(this.now() + this.o.drainTimeoutMs, abort.signal);
    } catch (err) {
      // Our server could not drain (it failed or did not answer in time). The successor
      // listens and waits: exiting hands it the lock at once, rather than holding it stuck.
      const error = `drain failed: ${(err as Error).message}`;
      this.o.log.error(
        { err, successor: slotKey(successor) },
        `${error}; exiting to release the active lock`,
      );
      this.write({ state: 'failed', error });
      exitNow(70);
    } finally {
      clearInterval(watchdog);
    }
    if (abort.signal.aborted) {
      if (this.stopping) return; // stop() drains and closes what we still serve
      await this.hooks.resume();
      this.write({ state: 'serving', successor: undefined });
      this.o.log.warn(
        { successor: slotKey(successor), reason: String(abort.signal.reason) },
        'handover abandoned: serving again',
      );
      return;
    }
    // Drained: hand over even when a stop is pending, so the successor is not kept waiting.
    this.lastSuccessor = successor;
    this.prepared = false;
    // Written before the release, so the successor always finds releasedAtMs for its record.
    this.write({ state: 'idle', releasedAtMs: this.now() });
    this.lock.release();
    this.o.log.info(
      { successor: slotKey(successor), drainMs: this.now() - startedAt },
      'released the active lock',
    );
  }

  private async onDeadline(): Promise<void> {
    if (this.file.state !== 'waiting') return;
    if (this.prepared) {
      // The predecessor started a handover and never finished it: stop holding connections.
      this.prepared = false;
      await this.hooks.unprepare();
    }
    const holder = findServing(readVolume(this.o.dir), this.o.slot);
    const who = holder?.file
      ? `slot "${holder.slot}" (${holder.file.version}, ${holder.file.state})`
      : 'no live slot';
    const error = `handover deadline of ${this.o.handoverDeadlineMs} ms passed: ${who} did not hand over; staying a standby`;
    this.write({ state: 'failed', error });
    this.o.log.error({ holder: holder?.slot }, error);
  }
}

/** Re-reads until the predicate holds, the deadline (ms since epoch) passes or the signal aborts; polls every 5 ms, only while draining. */
async function waitUntil<T>(
  read: () => T,
  ok: (v: T) => boolean,
  deadlineAtMs: number,
  signal: AbortSignal,
): Promise<boolean> {
  for (;;) {
    if (ok(read())) return true;
    if (signal.aborted || Date.now() >= deadlineAtMs) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
}
