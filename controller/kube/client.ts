// A narrow REST client for the Kubernetes API over undici: the verbs a controller uses,
// results as values (never exceptions for HTTP errors), client-side rate limiting,
// keep-alive connection pools and controller-runtime's client metrics.
//
// Why not @kubernetes/client-node's generated APIs: they throw on every non-2xx (a 409
// is an expected outcome for us), build a new agent per request, and their watch has no
// way to bound a silent connection. We use the package only to read kubeconfigs.
import type { KubeConfig } from '@kubernetes/client-node';
import { Registry, type Counter, type Histogram } from 'prom-client';
import { Pool, type Dispatcher } from 'undici';
import { errorFromResponse, networkError } from './apiErrors.ts';
import { sleep, systemClock } from './clock.ts';
import { Credentials, endpointOf, type Endpoint } from './kubeconfig.ts';
import { counter, histogram } from './metrics.ts';
import { NdjsonSplitter } from './ndjson.ts';
import { TokenBucket } from './tokenBucket.ts';
import type { KubeList, KubeObject, KubeResult, KubeStatus, WatchEvent } from './types.ts';

// Callers build a client from a kubeconfig; one import serves both.
export { loadKubeConfig } from './kubeconfig.ts';

export interface KubeClientOptions {
  /** Sustained request rate, in requests per second (client-go's QPS); 0 disables. Default 50. */
  qps?: number;
  /** Requests allowed at once above qps after a quiet period. Default 100. */
  burst?: number;
  /** Sent as ?fieldManager= on every write unless the call names its own. */
  fieldManager?: string;
  /** Keep-alive connections for ordinary requests. Default 24. */
  connections?: number;
  /** Connections for watches, which each hold one open for minutes. Default 32. */
  watchConnections?: number;
  /** Per-request timeout for everything but watches, in ms. Default 30 000. */
  timeoutMs?: number;
  /** Where the rest_client_* metrics go; a private registry when absent. */
  registry?: Registry;
  userAgent?: string;
}

export interface ReadOptions {
  signal?: AbortSignal;
}

export interface ListOptions extends ReadOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Items per page, default 500 (client-go's pager default). */
  limit?: number;
  /** Upper bound of pages, so a misbehaving server cannot loop us forever. Default 10 000. */
  maxPages?: number;
}

export interface WatchOptions extends ReadOptions {
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
  /** The server ends the watch after this many seconds. */
  timeoutSeconds?: number;
  labelSelector?: string;
  fieldSelector?: string;
  /** Called once the server accepted the watch (HTTP 200 headers arrived). */
  onOpen?: () => void;
}

export interface WriteOptions extends ReadOptions {
  fieldManager?: string;
  dryRun?: boolean;
}

export type PatchType = 'merge' | 'strategic' | 'json' | 'apply';

export interface PatchOptions extends WriteOptions {
  /** Server-side apply only: take ownership of fields other managers own. */
  force?: boolean;
}

export interface DeleteOptions extends WriteOptions {
  /** Delete only if the object still has this uid / resourceVersion (else 409 Conflict). */
  preconditions?: { uid?: string; resourceVersion?: string };
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
}

const PATCH_CONTENT_TYPE: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
  // JSON is YAML: the server accepts an apply patch in JSON under this type.
  apply: 'application/apply-patch+yaml',
};

type Query = Record<string, string | number | boolean | undefined>;

function withQuery(path: string, query: Query): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}${path.includes('?') ? '&' : '?'}${s}` : path;
}

export class KubeClient {
  readonly server: string;
  readonly fieldManager: string | undefined;
  readonly #creds: Credentials;
  readonly #conn: Endpoint;
  readonly #pool: Pool;
  readonly #watchPool: Pool;
  readonly #bucket: TokenBucket;
  readonly #timeoutMs: number;
  readonly #userAgent: string;
  readonly #requests: Counter<'code' | 'method' | 'host'>;
  readonly #duration: Histogram<'verb'>;

  private constructor(conn: Endpoint, creds: Credentials, opts: KubeClientOptions) {
    this.#creds = creds;
    this.#conn = conn;
    this.server = `${conn.origin}${conn.prefix}`;
    this.fieldManager = opts.fieldManager;
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
    this.#userAgent = opts.userAgent ?? 'hotupgrade-controller';
    this.#bucket = new TokenBucket({ qps: opts.qps ?? 50, burst: opts.burst ?? 100 }, Date.now());
    const poolOpts = {
      connect: conn.tls,
      // The API server keeps idle connections ~90 s; reusing them for 30 s avoids a TLS
      // handshake per request in bursts of writes.
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 60_000,
    };
    this.#pool = new Pool(conn.origin, { ...poolOpts, connections: opts.connections ?? 24 });
    // Watches get their own pool: each holds a connection for minutes, and must never
    // queue ordinary requests behind it (nor be queued behind 500 writes).
    this.#watchPool = new Pool(conn.origin, { ...poolOpts, connections: opts.watchConnections ?? 32 });
    const registry = opts.registry ?? new Registry();
    this.#requests = counter(
      registry,
      'rest_client_requests_total',
      'Number of HTTP requests, partitioned by status code, method, and host.',
      ['code', 'method', 'host'],
    );
    this.#duration = histogram(
      registry,
      'rest_client_request_duration_seconds',
      'Request latency in seconds. Broken down by verb.',
      ['verb'],
      // client-go's buckets, in seconds.
      [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60],
    );
  }

  /** A client for the kubeconfig's current context. Throws when the kubeconfig is unusable. */
  static async fromKubeConfig(kc: KubeConfig, opts: KubeClientOptions = {}): Promise<KubeClient> {
    const creds = new Credentials(kc);
    await creds.headers(); // fail at start-up, not on the first call, if a plugin is broken
    return new KubeClient(await endpointOf(kc), creds, opts);
  }

  /** Closes the connection pools (open watches end with an Aborted/NetworkError value). */
  async close(): Promise<void> {
    await Promise.all([this.#pool.destroy(), this.#watchPool.destroy()]);
  }

  get<T = KubeObject>(path: string, opts: ReadOptions = {}): Promise<KubeResult<T>> {
    return this.#call<T>('GET', path, {}, undefined, undefined, opts.signal);
  }

  /** All pages of a collection, joined; items go through `map` page by page (to shrink them early). */
  async list<T = KubeObject, U = T>(
    path: string,
    opts: ListOptions = {},
    map?: (item: T) => U,
  ): Promise<KubeResult<KubeList<U>>> {
    const items: U[] = [];
    let cont: string | undefined;
    let status = 200;
    const maxPages = opts.maxPages ?? 10_000;
    for (let page = 0; page < maxPages; page++) {
      const r = await this.#call<{ items?: T[]; metadata?: { resourceVersion?: string; continue?: string } }>(
        'GET',
        path,
        {
          labelSelector: opts.labelSelector,
          fieldSelector: opts.fieldSelector,
          limit: opts.limit ?? 500,
          continue: cont,
        },
        undefined,
        undefined,
        opts.signal,
      );
      if (!r.ok) return r;
      status = r.status;
      for (const it of r.body.items ?? []) items.push(map ? map(it) : (it as unknown as U));
      cont = r.body.metadata?.continue;
      // Every page carries the resourceVersion of the snapshot the first page started.
      if (!cont)
        return { ok: true, status, body: { items, resourceVersion: r.body.metadata?.resourceVersion ?? '' } };
    }
    return {
      ok: false,
      status: 0,
      reason: 'TooManyPages',
      message: `GET ${path}: more than ${maxPages} pages`,
    };
  }

  /**
   * Streams a watch: onEvent gets each event (ERROR events too: the server sends a Status,
   * e.g. 410 Expired, then closes). Resolves when the stream ends: ok when the server closed
   * it (timeoutSeconds), an error value when it failed or opts.signal aborted it.
   */
  async watch<T = KubeObject>(
    path: string,
    opts: WatchOptions,
    onEvent: (event: WatchEvent<T>) => void,
  ): Promise<KubeResult<{ events: number }>> {
    const full = withQuery(this.#conn.prefix + path, {
      watch: 1,
      resourceVersion: opts.resourceVersion,
      allowWatchBookmarks: opts.allowWatchBookmarks,
      timeoutSeconds: opts.timeoutSeconds,
      labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector,
    });
    const what = `WATCH ${this.#conn.origin}${full}`;
    const throttled = await this.#throttle(opts.signal);
    if (!throttled) return networkError(what, undefined, true);
    const t0 = performance.now();
    let res: Dispatcher.ResponseData;
    try {
      res = await this.#watchPool.request({
        method: 'GET',
        path: full,
        headers: await this.#headers(),
        signal: opts.signal ?? null,
        headersTimeout: this.#timeoutMs,
        // No idle timeout on the body: a quiet watch is normal; the informer's watchdog
        // bounds silence instead (it knows timeoutSeconds and bookmarks).
        bodyTimeout: 0,
      });
    } catch (e) {
      this.#observe('GET', 'WATCH', 0, t0);
      return networkError(what, e, opts.signal?.aborted ?? false);
    }
    this.#observe('GET', 'WATCH', res.statusCode, t0);
    if (res.statusCode !== 200) return this.#fail(res, what);
    opts.onOpen?.();
    const splitter = new NdjsonSplitter();
    let events = 0;
    // An exception from onEvent is the caller's bug: rethrown as is, not passed off as a
    // network error.
    let inCallback = false;
    try {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        for (const ev of splitter.push(chunk)) {
          events++;
          inCallback = true;
          onEvent(ev as WatchEvent<T>);
          inCallback = false;
        }
      }
      return { ok: true, status: 200, body: { events } };
    } catch (e) {
      if (inCallback) throw e;
      if (e instanceof SyntaxError)
        return { ok: false, status: 0, reason: 'BadResponse', message: `${what}: ${e.message}` };
      return networkError(what, e, opts.signal?.aborted ?? false);
    } finally {
      res.body.destroy();
    }
  }

  /** POST to a collection path. */
  create<T = KubeObject>(path: string, body: unknown, opts: WriteOptions = {}): Promise<KubeResult<T>> {
    return this.#call<T>('POST', path, this.#writeQuery(opts), body, 'application/json', opts.signal);
  }

  /** PUT: replaces the object; with metadata.resourceVersion set, 409 Conflict if it changed. */
  replace<T = KubeObject>(path: string, body: unknown, opts: WriteOptions = {}): Promise<KubeResult<T>> {
    return this.#call<T>('PUT', path, this.#writeQuery(opts), body, 'application/json', opts.signal);
  }

  patch<T = KubeObject>(
    path: string,
    body: unknown,
    type: PatchType,
    opts: PatchOptions = {},
  ): Promise<KubeResult<T>> {
    const query = this.#writeQuery(opts);
    if (type === 'apply') {
      if (!query.fieldManager) throw new Error(`server-side apply of ${path} needs a fieldManager`);
      query.force = opts.force;
    }
    return this.#call<T>('PATCH', path, query, body, PATCH_CONTENT_TYPE[type], opts.signal);
  }

  /** DELETE; the body is the object (with deletionTimestamp set) or a Status. */
  delete<T = KubeObject>(path: string, opts: DeleteOptions = {}): Promise<KubeResult<T | KubeStatus>> {
    const body = {
      kind: 'DeleteOptions',
      apiVersion: 'v1',
      ...(opts.preconditions ? { preconditions: opts.preconditions } : {}),
      ...(opts.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: opts.gracePeriodSeconds } : {}),
      ...(opts.propagationPolicy ? { propagationPolicy: opts.propagationPolicy } : {}),
    };
    const query: Query = { dryRun: opts.dryRun ? 'All' : undefined };
    return this.#call<T | KubeStatus>('DELETE', path, query, body, 'application/json', opts.signal);
  }

  #writeQuery(opts: WriteOptions): Query {
    return { fieldManager: opts.fieldManager ?? this.fieldManager, dryRun: opts.dryRun ? 'All' : undefined };
  }

  async #call<T>(
    method: string,
    path: string,
    query: Query,
    body: unknown,
    contentType: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<KubeResult<T>> {
    const full = withQuery(this.#conn.prefix + path, query);
    const what = `${method} ${this.#conn.origin}${full}`;
    if (!(await this.#throttle(signal))) return networkError(what, undefined, true);
    const headers = await this.#headers();
    if (contentType) headers['content-type'] = contentType;
    const t0 = performance.now();
    let res: Dispatcher.ResponseData;
    let text: string;
    try {
      res = await this.#pool.request({
        method: method as Dispatcher.HttpMethod,
        path: full,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        signal: signal ?? null,
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
      });
      text = await res.body.text();
    } catch (e) {
      this.#observe(method, method, 0, t0);
      return networkError(what, e, signal?.aborted ?? false);
    }
    this.#observe(method, method, res.statusCode, t0);
    if (res.statusCode === 401) this.#creds.invalidate(); // rotated credentials: reload before the next call
    if (res.statusCode < 200 || res.statusCode >= 300) return errorFromResponse(res.statusCode, text);
    try {
      return { ok: true, status: res.statusCode, body: (text ? JSON.parse(text) : {}) as T };
    } catch (e) {
      return { ok: false, status: 0, reason: 'BadResponse', message: `${what}: ${(e as Error).message}` };
    }
  }

  async #fail(res: Dispatcher.ResponseData, what: string): Promise<KubeResult<never>> {
    let text = '';
    try {
      text = await res.body.text();
    } catch (e) {
      return networkError(what, e, false);
    }
    return errorFromResponse(res.statusCode, text);
  }

  /** Waits for a rate-limit token; false when the signal aborted the wait. */
  async #throttle(signal: AbortSignal | undefined): Promise<boolean> {
    const waitMs = this.#bucket.reserve(Date.now());
    if (waitMs > 0) await sleep(systemClock, waitMs, signal);
    return !signal?.aborted;
  }

  async #headers(): Promise<Record<string, string>> {
    return { ...(await this.#creds.headers()), accept: 'application/json', 'user-agent': this.#userAgent };
  }

  #observe(method: string, verb: string, status: number, t0: number): void {
    this.#requests.inc({ code: status ? String(status) : '<error>', method, host: this.#conn.host });
    this.#duration.observe({ verb }, (performance.now() - t0) / 1000);
  }
}
