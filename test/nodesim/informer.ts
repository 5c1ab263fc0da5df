// List+watch of one collection, restarted on every error: a 410 Gone (or a watch ERROR
// event) relists, a broken connection rewatches from the last resourceVersion after a
// capped backoff. The consumer gets the whole collection after each list (`replace`), so
// it can drop what disappeared while the watch was down, then the events.
import type { Logger } from 'pino';
import type { KubeClient } from './kube.ts';
import type { List, Status, WatchEvent } from './wire.ts';

export interface InformerOptions<T> {
  client: KubeClient;
  /** Collection path, e.g. /api/v1/pods or /api/v1/namespaces/ns/pods. */
  path: string;
  fieldSelector?: string;
  labelSelector?: string;
  log: Logger;
  signal: AbortSignal;
  /** After each (re)list: everything that exists now. */
  replace(items: T[]): void;
  event(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T): void;
  /** Counts (re)lists and watch restarts, for stats. */
  onRestart?(kind: 'relist' | 'rewatch'): void;
  /** Items per list page (default 500). */
  pageSize?: number;
  /**
   * Server-side watch timeout, in s (default 60..75, randomised so watches do not end
   * together). Short, because silence longer than this (+15 s) is taken for a dead
   * connection: a frozen API server or a lost peer is noticed within ~90 s.
   */
  watchTimeoutSeconds?: number;
}

const BACKOFF_MIN_MS = 200;
const BACKOFF_MAX_MS = 5_000;
/** A list that pages more than this is not a simulator's job (10,000 pods are 20 pages). */
const MAX_PAGES = 10_000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

type ListResult<T> = { ok: true; items: T[]; rv: string } | { ok: false; message: string };

async function listAll<T>(o: InformerOptions<T>): Promise<ListResult<T>> {
  const items: T[] = [];
  let cont: string | undefined;
  for (let page = 0; page < MAX_PAGES && !o.signal.aborted; page++) {
    const r = await o.client.call<List<T>>('GET', o.path, {
      query: {
        limit: o.pageSize ?? 500,
        continue: cont,
        fieldSelector: o.fieldSelector,
        labelSelector: o.labelSelector,
      },
      timeoutMs: 60_000,
    });
    if (!r.ok) return { ok: false, message: `${r.status} ${r.reason}: ${r.message}` };
    for (const it of r.value.items) items.push(it);
    cont = r.value.metadata.continue || undefined;
    if (!cont) return { ok: true, items, rv: r.value.metadata.resourceVersion ?? '' };
  }
  return { ok: false, message: o.signal.aborted ? 'stopped' : `more than ${MAX_PAGES} pages` };
}

type WatchEnd = { rv: string; gone: boolean; error?: string };

async function watchOnce<T extends { metadata?: { resourceVersion?: string } }>(
  o: InformerOptions<T>,
  rv: string,
): Promise<WatchEnd> {
  const timeoutSeconds = o.watchTimeoutSeconds ?? 60 + Math.floor(Math.random() * 15);
  const opened = await o.client.watch(
    o.path,
    {
      resourceVersion: rv,
      allowWatchBookmarks: true,
      timeoutSeconds,
      fieldSelector: o.fieldSelector,
      labelSelector: o.labelSelector,
    },
    o.signal,
  );
  if (!opened.ok) {
    return { rv, gone: opened.status === 410, error: `${opened.status} ${opened.reason}: ${opened.message}` };
  }
  let last = rv;
  try {
    for await (const raw of opened.value) {
      const ev = raw as WatchEvent<T>;
      if (ev.type === 'ERROR') {
        const st = ev.object as unknown as Status;
        // 410 Gone (resourceVersion too old) and anything else odd: start over from a list.
        return { rv: last, gone: true, error: `watch error ${st.code ?? '?'}: ${st.message ?? ''}` };
      }
      const objRv = ev.object.metadata?.resourceVersion;
      if (objRv) last = objRv;
      if (ev.type !== 'BOOKMARK') o.event(ev.type, ev.object);
    }
    return { rv: last, gone: false };
  } catch (err) {
    if (o.signal.aborted) return { rv: last, gone: false };
    return { rv: last, gone: false, error: err instanceof Error ? err.message : String(err) };
  }
}

/** Runs until the signal aborts; never throws. */
export async function runInformer<T extends { metadata?: { resourceVersion?: string } }>(
  o: InformerOptions<T>,
  ready?: () => void,
): Promise<void> {
  let rv: string | undefined;
  let backoff = BACKOFF_MIN_MS;
  let lastError = '';
  // Ends with the signal; each pass is bounded by the watch's server-side timeout, the
  // request timeouts and the backoff.
  while (!o.signal.aborted) {
    if (rv === undefined) {
      const listed = await listAll(o);
      if (o.signal.aborted) break;
      if (!listed.ok) {
        if (listed.message !== lastError)
          o.log.warn({ path: o.path, err: listed.message }, 'list failed; retrying');
        lastError = listed.message;
        await sleep(backoff, o.signal);
        backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
        continue;
      }
      if (lastError) o.log.info({ path: o.path, items: listed.items.length }, 'relisted');
      lastError = '';
      o.replace(listed.items);
      rv = listed.rv;
      ready?.();
      ready = undefined;
    }
    const end = await watchOnce(o, rv);
    if (o.signal.aborted) break;
    o.log.debug(
      { path: o.path, fieldSelector: o.fieldSelector, gone: end.gone, err: end.error },
      'watch ended',
    );
    if (end.gone) {
      o.onRestart?.('relist');
      rv = undefined;
    } else {
      o.onRestart?.('rewatch');
      rv = end.rv;
    }
    if (end.error) {
      if (end.error !== lastError) o.log.warn({ path: o.path, err: end.error }, 'watch ended; restarting');
      lastError = end.error;
      await sleep(backoff, o.signal);
      backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
    } else {
      backoff = BACKOFF_MIN_MS;
      lastError = '';
    }
  }
}
