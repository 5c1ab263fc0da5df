// A Node HTTP server that serves under the protocol. It listens when told (prepare),
// holds requests until it owns the shared state (own), and drains in two steps:
//   1. stop listening, finish the requests in flight, detach the state — now the lock
//      can go to the successor, within milliseconds;
//   2. until its remaining keep-alive connections close, forward any request that still
//      arrives on them to the port it listened on (where the successor now accepts),
//      answering with `Connection: close`. So the handover gap does not wait for idle
//      keep-alive clients, and no request on them is lost.
// The same object is driven by a Participant (standalone slot mode) or by the launcher
// over the control channel (launched mode); see serve.ts.
import http from 'node:http';
import net from 'node:net';
import type { ServeHooks } from './participant.ts';
import { acceptQueueLength, closeFd, dupFd, listenReusePort, steerReusePortGroup } from './libc.ts';
import type { Logger } from './log.ts';
import { DEFAULTS } from './constants.ts';

export type Listen = { kind: 'port'; host: string; port: number } | { kind: 'fds'; fds: number[] };

export interface StateHooks {
  /** Attach shared state (e.g. open the shared-memory file); called with the lock held, before serving. */
  attach?: () => void | Promise<void>;
  /** Detach shared state; called after the last request finished, before the lock is released. */
  detach?: () => void | Promise<void>;
}

type Mode = 'holding' | 'owning' | 'forwarding';

export class HotHttpServer implements ServeHooks {
  readonly server: http.Server;
  private readonly listen: Listen;
  private readonly log: Logger;
  private readonly state: StateHooks;
  private readonly idleCloseMs: number;
  private mode: Mode = 'holding';
  private draining = false;
  private held: Array<() => void> = [];
  private readonly sockets = new Set<net.Socket>();
  /** Per connection: requests in flight and when it last finished one (or connected), ms since epoch. */
  private readonly activity = new WeakMap<net.Socket, { busy: number; lastAtMs: number }>();
  /** Listening sockets only; connections go to `server`, which never listens itself. */
  private listeners: net.Server[] = [];
  /** The descriptors those listeners accept on, to look at their accept queues. */
  private listenerFds: number[] = [];
  /** Where a drained server forwards late requests: the address it listened on. */
  private forwardTo: { host: string; port: number } | undefined;
  /** Requests being handled by us (not forwarded). */
  private handling = 0;
  private wake: (() => void) | undefined;
  private closer: NodeJS.Timeout | undefined;

  constructor(
    handler: http.RequestListener,
    listen: Listen,
    log: Logger,
    state: StateHooks = {},
    idleCloseMs: number = DEFAULTS.idleCloseMs,
  ) {
    this.listen = listen;
    this.log = log;
    this.state = state;
    this.idleCloseMs = idleCloseMs;
    this.server = http.createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
      if (this.draining) res.shouldKeepAlive = false; // sends Connection: close, then closes
      const act = this.activity.get(req.socket);
      if (act) act.busy++;
      res.on('close', () => {
        if (act) {
          act.busy--;
          act.lastAtMs = Date.now();
        }
      });
      if (this.mode === 'forwarding') return this.forward(req, res);
      this.handling++;
      res.on('close', () => {
        this.handling--;
        this.wake?.();
      });
      if (this.mode === 'owning') handler(req, res);
      else this.held.push(() => handler(req, res));
    });
    this.server.on('connection', (s: net.Socket) => {
      this.sockets.add(s);
      this.activity.set(s, { busy: 0, lastAtMs: Date.now() });
      s.on('close', () => {
        this.sockets.delete(s);
        this.wake?.();
      });
    });
  }

  async prepare(): Promise<void> {
    if (this.listeners.length > 0) return;
    const fds =
      // Inherited sockets are listened on through a duplicate: closing our listener at a
      // drain then leaves the inherited descriptor open, so resume can listen again.
      this.listen.kind === 'fds'
        ? this.listen.fds.map(dupFd)
        : [listenReusePort(this.listen.host, this.listen.port)];
    if (this.listen.kind === 'port') {
      try {
        // Send every new connection to the newest listener (ours) while the old one drains.
        steerReusePortGroup(fds[0] as number, 1);
      } catch (err) {
        this.log.warn(
          { err },
          'cannot steer the SO_REUSEPORT group; new connections are shared until the old listener closes',
        );
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
      this.listenerFds.push(fd);
    }
    const a = this.listeners[0]?.address();
    if (a && typeof a === 'object')
      this.forwardTo = {
        host: a.address === '0.0.0.0' || a.address === '::' ? '127.0.0.1' : a.address,
        port: a.port,
      };
  }

  async own(): Promise<void> {
    this.stopCloser();
    await this.state.attach?.();
    this.mode = 'owning';
    this.draining = false;
    const held = this.held;
    this.held = [];
    for (const run of held) run();
  }

  /** Waits until `done()` holds, the deadline passes or the signal aborts; re-checked on every request end and connection close. */
  private async until(done: () => boolean, deadlineAtMs: number, signal: AbortSignal): Promise<void> {
    if (done()) return;
    await new Promise<void>((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', finish);
        this.wake = undefined;
        resolve();
      };
      this.wake = () => {
        if (done()) finish();
      };
      signal.addEventListener('abort', finish);
      const timer = setTimeout(finish, Math.max(0, deadlineAtMs - Date.now()));
    });
  }

  async drain(deadlineAtMs: number, signal: AbortSignal): Promise<void> {
    this.draining = true;
    // Stop listening: the successor listens already and the group steers new connections to it.
    await this.emptyAcceptQueues();
    this.closeListeners();
    await this.until(() => this.handling === 0, deadlineAtMs, signal);
    if (signal.aborted) return;
    if (this.handling > 0)
      this.log.warn({ inflight: this.handling }, 'drain deadline passed with requests still in flight');
    this.mode = 'forwarding';
    await this.state.detach?.();
    // Handed over: let go of inherited sockets too, so that none stays in the port's group
    // with nobody accepting on it (the launcher keeps its own copy where it needs one).
    if (this.listen.kind === 'fds') for (const fd of this.listen.fds) closeFd(fd);
    this.startCloser(deadlineAtMs);
  }

  /**
   * After the state is handed over: close each keep-alive connection once it has been
   * idle for idleCloseMs (a client that sends at that very moment sees a reset, which
   * HTTP lets it retry, RFC 9112 §9.3.1), and all of them at the drain deadline.
   */
  private startCloser(deadlineAtMs: number): void {
    this.stopCloser();
    this.closer = setInterval(() => {
      const now = Date.now();
      for (const s of this.sockets) {
        const a = this.activity.get(s);
        if (now >= deadlineAtMs || (a && a.busy === 0 && now - a.lastAtMs >= this.idleCloseMs)) s.destroy();
      }
      if (this.sockets.size === 0) this.stopCloser();
    }, 10);
  }

  /** After a drain: resolves once the last connection has closed (forwarding is over). */
  async settled(): Promise<void> {
    while (this.sockets.size > 0) await new Promise((r) => setTimeout(r, 10));
  }

  private stopCloser(): void {
    clearInterval(this.closer);
    this.closer = undefined;
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.shouldKeepAlive = false;
    const to = this.forwardTo;
    if (!to) {
      res.writeHead(503, { 'retry-after': '0' }).end();
      return;
    }
    const up = http.request(
      {
        ...to,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, connection: 'close' },
        agent: false,
      },
      (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.pipe(res);
      },
    );
    up.on('error', (err) => {
      this.log.warn({ err }, 'forwarding a late request to the new server failed');
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(up);
  }

  async resume(): Promise<void> {
    this.draining = false;
    if (this.mode !== 'owning') await this.own();
    await this.prepare();
  }

  /** The successor gave up before the lock came: stop listening; requests held so far cannot be served here. */
  async unprepare(): Promise<void> {
    this.closeListeners();
    this.held = [];
    for (const s of this.sockets) s.destroy();
  }

  async stop(): Promise<void> {
    if (this.mode === 'forwarding') {
      // Stopped after a handover (the slot goes back to the placeholder): finish forwarding
      // on the connections still open; the closer ends them by the drain deadline.
      await this.settled();
    } else if (this.mode === 'owning') {
      // Stopped while serving, with nobody to hand over to: answer what is in flight, then
      // close; forwarding would only reach our own closed port.
      await this.drain(Date.now() + 2_000, new AbortController().signal);
    }
    this.stopCloser();
    this.closeListeners();
    this.server.closeAllConnections();
  }

  /**
   * Lets our listeners accept what the kernel already queued for them before they close:
   * closing a listening socket resets every connection still in its accept queue. The
   * group steers new connections to the successor, so the queues only empty from here.
   * Bounded, so a stuck loop cannot hold a drain.
   */
  private async emptyAcceptQueues(boundMs = 200): Promise<void> {
    const until = Date.now() + boundMs;
    const queued = (): number => {
      let n = 0;
      for (const fd of this.listenerFds) {
        try {
          n += acceptQueueLength(fd);
        } catch {
          // not a TCP socket we can ask: nothing to wait for
        }
      }
      return n;
    };
    // One turn of the event loop's poll phase accepts what is queued; repeat while more is.
    while (queued() > 0 && Date.now() < until) await new Promise((r) => setImmediate(r));
  }

  private closeListeners(): void {
    const ls = this.listeners;
    this.listeners = [];
    this.listenerFds = [];
    // close() stops accepting at once; its callback would wait for connections, which we track ourselves.
    for (const l of ls) l.close();
  }
}
