// A small Kubernetes API client over undici: keep-alive connections, JSON in and out,
// and a line-by-line watch stream. Failures are values (status 0 for the network), so
// the callers decide what to retry. Credentials come from a kubeconfig through
// client-node's KubeConfig (certificates, bearer token, basic auth) once at start.
import { KubeConfig } from '@kubernetes/client-node';
import type { RequestOptions } from 'node:https';
import { Agent, request } from 'undici';
import type { Status } from './wire.ts';

export type PatchType = 'merge' | 'strategic' | 'json';

const CONTENT_TYPE: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
};

export type Result<T> =
  { ok: true; status: number; value: T } | { ok: false; status: number; reason: string; message: string };

export interface CallOptions {
  body?: unknown;
  patch?: PatchType;
  query?: Record<string, string | number | boolean | undefined>;
  /** Whole request, in ms (default 30 s). */
  timeoutMs?: number;
}

export interface KubeClient {
  readonly server: string;
  call<T>(method: string, path: string, opts?: CallOptions): Promise<Result<T>>;
  /** Opens a watch; its value yields each JSON line parsed and ends when the server closes it. */
  watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    signal: AbortSignal,
  ): Promise<Result<AsyncGenerator<unknown>>>;
  /** Requests in flight right now. */
  inFlight(): number;
  close(): Promise<void>;
}

export function queryString(q: Record<string, string | number | boolean | undefined> | undefined): string {
  if (!q) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(q)) {
    if (v !== undefined) parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

function failure(
  status: number,
  text: string,
): { ok: false; status: number; reason: string; message: string } {
  try {
    const s = JSON.parse(text) as Status;
    return {
      ok: false,
      status,
      reason: s.reason ?? `HTTP${status}`,
      message: s.message ?? text.slice(0, 300),
    };
  } catch {
    return { ok: false, status, reason: `HTTP${status}`, message: text.slice(0, 300) };
  }
}

function networkError(err: unknown): { ok: false; status: 0; reason: string; message: string } {
  const e = err as { name?: string; code?: string; message?: string };
  return {
    ok: false,
    status: 0,
    reason: e.code ?? e.name ?? 'NetworkError',
    message: e.message ?? String(err),
  };
}

/** Loads a kubeconfig (its current context) and builds the client; throws on a bad file. */
export async function clientFromKubeconfig(
  file: string,
  opts: { connections?: number } = {},
): Promise<KubeClient> {
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error(`kubeconfig ${file} has no current cluster: set current-context`);
  const https: RequestOptions = {};
  await kc.applyToHTTPSOptions(https);
  const headers: Record<string, string> = { accept: 'application/json' };
  for (const [k, v] of Object.entries(https.headers ?? {})) {
    if (typeof v === 'string' || typeof v === 'number') headers[k.toLowerCase()] = String(v);
  }
  if (https.auth) headers.authorization = `Basic ${Buffer.from(https.auth).toString('base64')}`;
  const agent = new Agent({
    connect: {
      ca: https.ca,
      cert: https.cert,
      key: https.key,
      rejectUnauthorized: !cluster.skipTLSVerify,
      ...(cluster.tlsServerName ? { servername: cluster.tlsServerName } : {}),
    },
    // Watches hold one connection each; writers are limited by their own queues.
    connections: opts.connections ?? 128,
    keepAliveTimeout: 30_000,
    pipelining: 1,
  });
  return makeClient(cluster.server.replace(/\/$/, ''), headers, agent);
}

function makeClient(server: string, baseHeaders: Record<string, string>, agent: Agent): KubeClient {
  let inFlight = 0;

  async function call<T>(method: string, path: string, opts: CallOptions = {}): Promise<Result<T>> {
    const headers = { ...baseHeaders };
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] = opts.patch ? CONTENT_TYPE[opts.patch] : 'application/json';
    }
    const timeoutMs = opts.timeoutMs ?? 30_000;
    inFlight++;
    try {
      const res = await request(`${server}${path}${queryString(opts.query)}`, {
        method: method as 'GET',
        headers,
        body,
        dispatcher: agent,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.body.text();
      if (res.statusCode >= 200 && res.statusCode < 300) {
        // /readyz and friends answer text/plain.
        const json = String(res.headers['content-type'] ?? '').includes('json');
        return { ok: true, status: res.statusCode, value: (json && text ? JSON.parse(text) : text) as T };
      }
      return failure(res.statusCode, text);
    } catch (err) {
      return networkError(err);
    } finally {
      inFlight--;
    }
  }

  async function watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    signal: AbortSignal,
  ): Promise<Result<AsyncGenerator<unknown>>> {
    const serverTimeoutS = Number(query.timeoutSeconds ?? 60);
    let res;
    try {
      res = await request(`${server}${path}${queryString({ ...query, watch: 1 })}`, {
        method: 'GET',
        headers: baseHeaders,
        dispatcher: agent,
        headersTimeout: 30_000,
        // The server ends a watch after timeoutSeconds; silence well past that means a
        // dead connection (a paused or partitioned API server), not a quiet cluster.
        bodyTimeout: (serverTimeoutS + 15) * 1000,
        signal,
      });
    } catch (err) {
      return networkError(err);
    }
    if (res.statusCode !== 200) return failure(res.statusCode, await res.body.text().catch(() => ''));
    const body = res.body;
    async function* lines(): AsyncGenerator<unknown> {
      const decoder = new TextDecoder();
      let buf = '';
      try {
        for await (const chunk of body) {
          buf += decoder.decode(chunk as Buffer, { stream: true });
          let nl = buf.indexOf('\n');
          while (nl >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            if (line.trim()) yield JSON.parse(line) as unknown;
            nl = buf.indexOf('\n');
          }
        }
      } finally {
        body.destroy();
      }
    }
    return { ok: true, status: 200, value: lines() };
  }

  return {
    server,
    call,
    watch,
    inFlight: () => inFlight,
    close: () => agent.close(),
  };
}
