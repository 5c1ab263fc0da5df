// The launcher's side of serving: it owns the listening sockets and runs the business
// command as a child that it drives over the control channel. In binary mode it can
// also swap that child for a staged version inside the same slot (binary.ts).
import type { ServeHooks } from '../sdk/participant.ts';
import { bindListen, closeFd, reusePortSocket, steerReusePortGroup } from '../sdk/libc.ts';
import type { Logger } from '../sdk/log.ts';
import { orExit, startChild, stopChild, type ChildSpec, type RunningChild } from './child.ts';

export interface ListenAddr {
  host: string;
  port: number;
}

export interface LauncherServerOptions {
  listen: ListenAddr[];
  command: string[];
  env: NodeJS.ProcessEnv;
  /** How long a child may take to say ready/listening/owned, in ms. */
  stepTimeoutMs: number;
  log: Logger;
  /** Called when the serving child exits on its own: the launcher then exits too. */
  onChildLost: (how: string) => void;
  /** The server does not speak the control channel (systemd socket activation; see child.ts). */
  plain?: boolean;
}

export class LauncherServer implements ServeHooks {
  private readonly o: LauncherServerOptions;
  private fds: number[] = [];
  child: RunningChild | undefined;
  /** The version the current child runs (the image's, or a staged one in binary mode). */
  runningVersion: string | undefined;

  constructor(o: LauncherServerOptions) {
    this.o = o;
  }

  /** Starts a child on the current sockets and waits until it is initialised. */
  async spawn(spec: Omit<ChildSpec, 'listenFds'>, what: string): Promise<RunningChild> {
    const child = startChild({ ...spec, listenFds: this.fds, plain: this.o.plain === true });
    try {
      await orExit(
        child,
        withTimeout(child.control.ready, this.o.stepTimeoutMs, `${what} ready`),
        `${what} start`,
      );
    } catch (err) {
      await stopChild(child, 1_000);
      throw err;
    }
    return child;
  }

  watchChild(child: RunningChild): void {
    void child.exited.then((how) => {
      if (this.child === child) this.o.onChildLost(how);
    });
  }

  async command(
    child: RunningChild,
    cmd: 'listen' | 'own' | 'drain' | 'resume',
    arg?: string,
  ): Promise<void> {
    // A drain is bounded by its own deadline (the argument); give the server 2 s beyond it to answer.
    const timeout = cmd === 'drain' ? Math.max(0, Number(arg) - Date.now()) + 2_000 : this.o.stepTimeoutMs;
    const step = child.control.command(cmd, timeout, arg);
    // A plain server drains by exiting: its exit is the answer, not a failure.
    await (child.plain && cmd === 'drain' ? step : orExit(child, step, cmd));
  }

  async prepare(): Promise<void> {
    if (this.child) return;
    // Hand the child unbound sockets, bind them once it is ready: connections are then
    // steered to us only when someone can accept them.
    // (A plain server accepts from its first moment, so its sockets must listen before it starts.)
    this.fds = this.o.listen.map(() => reusePortSocket());
    const bind = (): void =>
      this.o.listen.forEach((a, i) => bindListen(this.fds[i] as number, a.host, a.port));
    if (this.o.plain) bind();
    const child = await this.spawn({ command: this.o.command, env: this.o.env }, 'server');
    if (!this.o.plain) bind();
    for (const fd of this.fds) {
      try {
        steerReusePortGroup(fd, 1);
      } catch (err) {
        this.o.log.warn(
          { err },
          'cannot steer the SO_REUSEPORT group; new connections are shared until the old listener closes',
        );
      }
    }
    await this.command(child, 'listen');
    this.child = child;
    this.watchChild(child);
  }

  async own(): Promise<void> {
    if (!this.child) throw new Error('own() before prepare()');
    await this.command(this.child, 'own');
  }

  async drain(deadlineAtMs: number, signal: AbortSignal): Promise<void> {
    const child = this.child;
    if (!child) return;
    // A plain server's drain is its exit, which must not count as losing it.
    if (child.plain) this.child = undefined;
    const onAbort = (): void => {
      child.control.command('resume', this.o.stepTimeoutMs).catch(() => undefined);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await Promise.race([
        this.command(child, 'drain', String(deadlineAtMs)),
        new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })),
      ]);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    if (signal.aborted) return;
    // Drained: the child has detached its state. Close our copies of the sockets; the child
    // forwards requests still arriving on its keep-alive connections, then exits by itself.
    this.child = undefined;
    this.closeSockets();
    this.track(retire(child, deadlineAtMs));
  }

  /** Children still forwarding after their drain; a stop waits for them, so their clients are answered. */
  private readonly retiring = new Set<Promise<void>>();

  track(p: Promise<void>): void {
    this.retiring.add(p);
    void p.finally(() => this.retiring.delete(p));
  }

  async unprepare(): Promise<void> {
    await this.stop();
  }

  async resume(): Promise<void> {
    // A protocol child was told to resume by the drain's abort. A plain child cannot
    // resume (it was sent SIGTERM and is on its way out): start a fresh one on the same,
    // still listening sockets.
    if (this.child || this.fds.length === 0) return;
    const child = await this.spawn({ command: this.o.command, env: this.o.env }, 'server');
    this.child = child;
    this.watchChild(child);
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child) await stopChild(child, 5_000);
    // retire() stops each of them by its drain deadline at the latest.
    await Promise.all(this.retiring);
    this.closeSockets();
  }

  private closeSockets(): void {
    for (const fd of this.fds) closeFd(fd);
    this.fds = [];
  }
}

/** Lets a drained child finish forwarding and exit on its own; stops it after the drain deadline. */
export async function retire(child: RunningChild, deadlineAtMs: number): Promise<void> {
  const timer = setTimeout(
    () => void stopChild(child, 1_000),
    Math.max(0, deadlineAtMs - Date.now()) + 1_000,
  );
  await child.exited;
  clearTimeout(timer);
  child.control.close();
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
