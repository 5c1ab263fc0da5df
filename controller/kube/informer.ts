// A supervised informer: our own reflector (list, then watch from the list's
// resourceVersion) feeding a Store and event handlers, restarted forever until stop().
//
// Why not @kubernetes/client-node's informer: it stops for good on errors other than 410
// and can hang on a connection that died without a FIN, delivering nothing and saying
// nothing (kubernetes-client/javascript#596, #958, #1933). Here every watch is bounded by
// a watchdog, every failure is retried with backoff, and health() tells /readyz the truth.
import type { Logger } from 'pino';
import { backoffMs, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.ts';
import { sleep, systemClock } from './clock.ts';
import type { KubeClient } from './client.ts';
import { Store, diffRelist, type IndexFunc } from './store.ts';
import { objectKey, type KubeObject, type WatchEvent } from './types.ts';

/** What the informer needs of a client (tests wrap a real one to cut connections). */
export type InformerClient = Pick<KubeClient, 'list' | 'watch'>;

export interface InformerHandlers<T> {
  onAdd?(obj: T): void;
  /** Also called with old === obj on every resync. */
  onUpdate?(old: T, obj: T): void;
  /** The object's last state: from the DELETED event, or the cache when a relist found it gone. */
  onDelete?(obj: T): void;
}

export interface InformerOptions<T extends KubeObject> {
  client: InformerClient;
  /** Collection path, e.g. /api/v1/pods or /apis/hotupgrade.io/v1alpha1/namespaces/ns/hotdeployments. */
  path: string;
  logger: Logger;
  /** Name in logs; the path when absent. */
  name?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /**
   * Shrinks each object before it is cached (e.g. drop metadata.managedFields). Must not
   * throw: a throw is a bug, and it ends the informer's loop with an unhandled rejection.
   */
  transform?: (obj: T) => T;
  /** One optional index over the cache (Store.byIndex). */
  index?: IndexFunc<T>;
  /** Re-delivers every cached object to onUpdate this often, in ms; 0 disables. Default 5 min. */
  resyncMs?: number;
  /** Server-side watch timeout, in s, varied by +-10 % per watch. Default 300. */
  watchTimeoutSeconds?: number;
  /** The watchdog aborts a watch silent for watchTimeoutSeconds + this, in ms. Default 30 000. */
  watchdogMarginMs?: number;
  /** Restart delays after consecutive failures. Default 200 ms doubling to 30 s. */
  backoff?: BackoffOptions;
  /** A watch up this long resets the failure count, in ms. Default 60 000. */
  healthyResetMs?: number;
  /** health().healthy turns false after this long without an open watch, in ms. Default 30 000. */
  unhealthyAfterMs?: number;
  /** List page size. Default 500. */
  pageSize?: number;
}

export interface InformerHealth {
  /** The first list has been delivered. */
  synced: boolean;
  /** Synced, and the watch has been down for less than unhealthyAfterMs. */
  healthy: boolean;
  /** A watch is open right now. */
  connected: boolean;
  /** When the last event or bookmark arrived, ms since the epoch. */
  lastEventAt: number | undefined;
  /** List/watch restarts after failures, 410s and watchdog aborts. */
  restarts: number;
  lastError: string | undefined;
}

// Why a watch ended, and what the loop does next.
type WatchEnd =
  | { kind: 'closed' } // the server ended it (timeoutSeconds): watch again at once
  | { kind: 'expired'; message: string } // 410: our resourceVersion is gone, relist
  | { kind: 'failed'; message: string }; // anything else: back off, watch again

// A clean end sooner than this after opening counts as a failure, in ms (a proxy closing
// every watch at once must not make us spin).
const MIN_CLEAN_WATCH_MS = 1000;

export class Informer<T extends KubeObject> {
  readonly store: Store<T>;
  readonly #o: Required<Omit<InformerOptions<T>, 'labelSelector' | 'fieldSelector' | 'transform' | 'index'>> &
    InformerOptions<T>;
  readonly #log: Logger;
  readonly #handlers: InformerHandlers<T>[] = [];
  #abort: AbortController | undefined;
  #loop: Promise<void> | undefined;
  #resyncTimer: NodeJS.Timeout | undefined;
  #synced = false;
  #onSynced: (() => void)[] = [];
  #connected = false;
  #disconnectedSince = Date.now();
  #lastEventAt: number | undefined;
  #restarts = 0;
  #lastError: string | undefined;
  /** The resourceVersion the next watch starts from; undefined: relist first. */
  #rv: string | undefined;

  constructor(opts: InformerOptions<T>) {
    this.#o = {
      ...opts,
      name: opts.name ?? opts.path,
      resyncMs: opts.resyncMs ?? 300_000,
      watchTimeoutSeconds: opts.watchTimeoutSeconds ?? 300,
      watchdogMarginMs: opts.watchdogMarginMs ?? 30_000,
      backoff: opts.backoff ?? DEFAULT_BACKOFF,
      healthyResetMs: opts.healthyResetMs ?? 60_000,
      unhealthyAfterMs: opts.unhealthyAfterMs ?? 30_000,
      pageSize: opts.pageSize ?? 500,
    };
    this.#log = opts.logger.child({ informer: this.#o.name });
    this.store = new Store<T>(opts.index);
  }

  addHandlers(h: InformerHandlers<T>): void {
    this.#handlers.push(h);
  }

  start(): void {
    if (this.#loop) return;
    const ac = new AbortController();
    this.#abort = ac;
    this.#disconnectedSince = Date.now();
    this.#loop = this.#run(ac.signal);
    if (this.#o.resyncMs > 0) {
      this.#resyncTimer = setInterval(() => this.#resync(), this.#o.resyncMs);
      this.#resyncTimer.unref();
    }
  }

  /** Stops watching; resolves when the loop has exited (no handler runs after). */
  async stop(): Promise<void> {
    this.#abort?.abort();
    clearInterval(this.#resyncTimer);
    await this.#loop;
    this.#connected = false;
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  /** Resolves true once synced, false after timeoutMs. */
  waitForSync(timeoutMs: number): Promise<boolean> {
    if (this.#synced) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      this.#onSynced.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  health(): InformerHealth {
    const downMs = this.#connected ? 0 : Date.now() - this.#disconnectedSince;
    return {
      synced: this.#synced,
      healthy: this.#synced && downMs <= this.#o.unhealthyAfterMs,
      connected: this.#connected,
      lastEventAt: this.#lastEventAt,
      restarts: this.#restarts,
      lastError: this.#lastError,
    };
  }

  // The supervisor: runs until stop(); each turn is bounded by a request timeout, the
  // watchdog or a backoff sleep.
  async #run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      if (this.#rv === undefined) {
        const err = await this.#relist(signal);
        if (signal.aborted) break;
        if (err) {
          failures++;
          await this.#failed(`list: ${err}`, failures, signal);
          continue;
        }
      }
      const opened = { at: 0 };
      const end = await this.#watch(signal, opened);
      if (signal.aborted) break;
      const upMs = opened.at ? Date.now() - opened.at : 0;
      if (upMs >= this.#o.healthyResetMs) failures = 0;
      if (end.kind === 'closed' && upMs >= MIN_CLEAN_WATCH_MS) continue;
      if (end.kind === 'expired') this.#rv = undefined;
      failures++;
      await this.#failed(end.kind === 'closed' ? 'watch closed at once' : end.message, failures, signal);
    }
    this.#connected = false;
  }

  async #failed(message: string, failures: number, signal: AbortSignal): Promise<void> {
    this.#restarts++;
    this.#lastError = message;
    const delay = backoffMs(failures, this.#o.backoff, Math.random());
    this.#log.warn({ err: message, failures, retryInMs: delay }, 'informer restarting');
    await sleep(systemClock, delay, signal);
  }

  /** Lists and applies the difference to the cache; returns an error message or undefined. */
  async #relist(signal: AbortSignal): Promise<string | undefined> {
    const t0 = Date.now();
    const r = await this.#o.client.list<T>(
      this.#o.path,
      {
        labelSelector: this.#o.labelSelector,
        fieldSelector: this.#o.fieldSelector,
        limit: this.#o.pageSize,
        signal,
      },
      this.#o.transform,
    );
    if (!r.ok) return `${r.reason}: ${r.message}`;
    if (signal.aborted) return undefined;
    const diff = diffRelist(this.store, r.body.items);
    for (const obj of diff.deletes) {
      this.store.delete(objectKey(obj));
      this.#emit((h) => h.onDelete?.(obj));
    }
    for (const obj of diff.adds) {
      this.store.set(obj);
      this.#emit((h) => h.onAdd?.(obj));
    }
    for (const [old, obj] of diff.updates) {
      this.store.set(obj);
      this.#emit((h) => h.onUpdate?.(old, obj));
    }
    this.#rv = r.body.resourceVersion;
    this.#log.info(
      {
        objects: this.store.size,
        added: diff.adds.length,
        updated: diff.updates.length,
        deleted: diff.deletes.length,
        ms: Date.now() - t0,
        resourceVersion: this.#rv,
      },
      'informer listed',
    );
    if (!this.#synced) {
      this.#synced = true;
      for (const f of this.#onSynced.splice(0)) f();
    }
    return undefined;
  }

  /** One watch from this.#rv until it ends; opened.at is set when the server accepted it. */
  async #watch(signal: AbortSignal, opened: { at: number }): Promise<WatchEnd> {
    const ac = new AbortController();
    const onStop = (): void => ac.abort();
    signal.addEventListener('abort', onStop, { once: true });
    const timeoutSeconds = Math.max(1, Math.round(this.#o.watchTimeoutSeconds * (0.9 + 0.2 * Math.random())));
    const silenceMs = timeoutSeconds * 1000 + this.#o.watchdogMarginMs;
    let ended: WatchEnd | undefined;
    // The watchdog: a connection that died without a FIN (NAT timeout, paused server)
    // never ends the stream; no event or bookmark for longer than the server-side timeout
    // means it is gone. refresh() on each event is cheap.
    const watchdog = setTimeout(() => {
      ended ??= { kind: 'failed', message: `watchdog: no event for ${silenceMs} ms` };
      ac.abort();
    }, silenceMs);
    try {
      const r = await this.#o.client.watch<T>(
        this.#o.path,
        {
          resourceVersion: this.#rv,
          allowWatchBookmarks: true,
          timeoutSeconds,
          labelSelector: this.#o.labelSelector,
          fieldSelector: this.#o.fieldSelector,
          signal: ac.signal,
          onOpen: () => {
            opened.at = Date.now();
            this.#connected = true;
          },
        },
        (ev) => {
          if (ended) return;
          watchdog.refresh();
          this.#lastEventAt = Date.now();
          if (ev.type === 'ERROR') {
            const s = ev.object;
            const msg = `watch ERROR ${s.code ?? '?'} ${s.reason ?? ''}: ${s.message ?? ''}`;
            // Some servers (and proxies) put the 410 only in the message.
            const gone = s.code === 410 || /too old resource version/i.test(s.message ?? '');
            ended = gone ? { kind: 'expired', message: msg } : { kind: 'failed', message: msg };
            ac.abort(); // the server closes after an ERROR anyway; do not wait for it
            return;
          }
          this.#apply(ev);
        },
      );
      if (ended) return ended;
      if (r.ok) return { kind: 'closed' };
      const msg = `watch: ${r.reason}: ${r.message}`;
      return r.status === 410 ? { kind: 'expired', message: msg } : { kind: 'failed', message: msg };
    } finally {
      clearTimeout(watchdog);
      signal.removeEventListener('abort', onStop);
      if (this.#connected) this.#disconnectedSince = Date.now();
      this.#connected = false;
    }
  }

  #apply(ev: WatchEvent<T>): void {
    if (ev.type === 'ERROR') return;
    const rv = ev.object.metadata?.resourceVersion;
    if (ev.type === 'BOOKMARK') {
      if (rv) this.#rv = rv;
      return;
    }
    const obj = this.#o.transform ? this.#o.transform(ev.object) : ev.object;
    if (ev.type === 'DELETED') {
      this.store.delete(objectKey(obj));
      this.#emit((h) => h.onDelete?.(obj));
    } else {
      const old = this.store.set(obj);
      if (old) this.#emit((h) => h.onUpdate?.(old, obj));
      else this.#emit((h) => h.onAdd?.(obj));
    }
    if (rv) this.#rv = rv;
  }

  #resync(): void {
    if (!this.#synced) return;
    for (const obj of this.store.list()) this.#emit((h) => h.onUpdate?.(obj, obj));
  }

  // A handler that throws is a bug in the handler: log it, keep the informer running.
  #emit(call: (h: InformerHandlers<T>) => void): void {
    for (const h of this.#handlers) {
      try {
        call(h);
      } catch (err) {
        this.#log.error({ err }, 'informer handler threw');
      }
    }
  }
}
