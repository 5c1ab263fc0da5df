// A Node HTTP server that serves under the protocol. It listens when told (prepare),
// holds requests until it owns the shared state (own), and drains by answering with
// `Connection: close` until its connections are gone or the drain deadline passes.
// The same object is driven by a Participant (standalone slot mode) or by the launcher
// over the control channel (launched mode); see serve.ts.
import http from 'node:http';
import net from 'node:net';
import type { ServeHooks } from './participant.ts';
import { listenReusePort, steerReusePortGroup } from './libc.ts';
import type { Logger } from './log.ts';

export type Listen = { kind: 'port'; host: string; port: number } | { kind: 'fds'; fds: number[] };

export interface StateHooks {
  /** Attach shared state (e.g. open the shared-memory file); called with the lock held, before serving. */
  attach?: () => void | Promise<void>;
  /** Detach shared state; called after the last request finished, before the lock is released. */
  detach?: () => void | Promise<void>;
}

export class HotHttpServer implements ServeHooks {
  readonly server: http.Server;
  private readonly listen: Listen;
  private readonly log: Logger;
  private readonly state: StateHooks;
  private owned = false;
  private draining = false;
  private held: Array<() => void> = [];
  private readonly sockets = new Set<net.Socket>();
  /** Listening sockets only; connections go to `server`, which never listens itself. */
  private listeners: net.Server[] = [];
  private inflight = 0;

  constructor(handler: http.RequestListener, listen: Listen, log: Logger, state: StateHooks = {}) {
    this.listen = listen;
    this.log = log;
    this.state = state;
    this.server = http.createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
      if (this.draining) res.shouldKeepAlive = false; // sends Connection: close, then closes
      this.inflight++;
      res.on('close', () => {
        this.inflight--;
        this.maybeDrained();
      });
      if (this.owned) handler(req, res);
      else this.held.push(() => handler(req, res));
    });
    this.server.on('connection', (s: net.Socket) => {
      this.sockets.add(s);
      s.on('close', () => {
        this.sockets.delete(s);
        this.maybeDrained();
      });
    });
  }

  get connections(): number {
    return this.sockets.size;
  }

  async prepare(): Promise<void> {
    if (this.listeners.length > 0) return;
    const fds = this.listen.kind === 'fds' ? this.listen.fds : [listenReusePort(this.listen.host, this.listen.port)];
    if (this.listen.kind === 'port') {
      try {
        // Send every new connection to the newest listener (ours) while the old one drains.
        steerReusePortGroup(fds[0] as number, 1);
      } catch (err) {
        this.log.warn({ err }, 'cannot steer the SO_REUSEPORT group; new connections are shared until the old listener closes');
      }
    }
    for (const fd of fds) {
      // The http server never listens: closing a listener then never touches its
      // connections (http.Server.close() would also close idle keep-alive ones, racing clients).
      const l = net.createServer((socket) => this.server.emit('connection', socket));
      await new Promise<void>((resolve, reject) => {
        l.once('error', reject);
        l.listen({ fd }, () => {
          l.off('error', reject);
          resolve();
        });
      });
      this.listeners.push(l);
    }
  }

  async own(): Promise<void> {
    await this.state.attach?.();
    this.owned = true;
    this.draining = false;
    const held = this.held;
    this.held = [];
    for (const run of held) run();
  }

  private drainedWaiter: (() => void) | undefined;
  private maybeDrained(): void {
    if (this.draining && this.sockets.size === 0 && this.inflight === 0) this.drainedWaiter?.();
  }

  async drain(deadlineAtMs: number, signal: AbortSignal): Promise<void> {
    this.draining = true;
    // Stop listening: the successor listens already and the group steers new connections to it.
    this.closeListeners();
    // Idle keep-alive connections get no response to carry `Connection: close`; give them a
    // moment to send one more request, then close whatever is still idle.
    const idleCloseAt = Math.min(deadlineAtMs, Date.now() + 250);
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(idleTimer);
        clearTimeout(deadlineTimer);
        signal.removeEventListener('abort', done);
        this.drainedWaiter = undefined;
        resolve();
      };
      this.drainedWaiter = done;
      signal.addEventListener('abort', done);
      const idleTimer = setTimeout(() => this.server.closeIdleConnections(), Math.max(0, idleCloseAt - Date.now()));
      const deadlineTimer = setTimeout(done, Math.max(0, deadlineAtMs - Date.now()));
      this.maybeDrained();
    });
    if (signal.aborted) return;
    if (this.sockets.size > 0) {
      this.log.warn({ connections: this.sockets.size, inflight: this.inflight }, 'drain deadline passed: closing the remaining connections');
      this.server.closeAllConnections();
    }
    this.owned = false;
    await this.state.detach?.();
  }

  async resume(): Promise<void> {
    this.draining = false;
    await this.prepare();
  }

  async stop(): Promise<void> {
    if (this.owned) {
      await this.drain(Date.now() + 2_000, new AbortController().signal);
    }
    this.closeListeners();
    this.server.closeAllConnections();
  }

  private closeListeners(): void {
    const ls = this.listeners;
    this.listeners = [];
    // close() stops accepting at once; its callback would wait for connections, which we track ourselves.
    for (const l of ls) l.close();
  }
}
