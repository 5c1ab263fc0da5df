// The informer's supervision against a scripted API (no server): relists, retries, the
// watchdog and resync. test/controller/kube.test.ts runs it against a real API server.
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Informer, type InformerClient } from './informer.ts';
import type { KubeObject, KubeResult, WatchEvent } from './types.ts';

const cm = (name: string, rv: number, v = '1'): KubeObject & { data: { v: string } } => ({
  metadata: { namespace: 'ns', name, resourceVersion: String(rv) },
  data: { v },
});

// A fake API: objects, a revision counter, and open watches the test can feed or end.
class FakeApi {
  objects = new Map<string, KubeObject>();
  rv = 100;
  lists = 0;
  watches = 0;
  listFailures = 0;
  watchers = new Set<{ emit: (e: WatchEvent<KubeObject>) => void; end: () => void }>();

  put(o: KubeObject): void {
    this.objects.set(o.metadata?.name ?? '', o);
  }

  emit(e: WatchEvent<KubeObject>): void {
    for (const w of this.watchers) w.emit(e);
  }

  endWatches(): void {
    for (const w of [...this.watchers]) w.end();
  }

  client: InformerClient = {
    list: async (_path, _opts, map) => {
      this.lists++;
      if (this.listFailures > 0) {
        this.listFailures--;
        return { ok: false, status: 0, reason: 'NetworkError', message: 'connect ECONNREFUSED' };
      }
      const items = [...this.objects.values()].map((o) => (map ? map(o as never) : o));
      return { ok: true, status: 200, body: { items, resourceVersion: String(this.rv) } } as never;
    },
    watch: (_path, opts, onEvent) => {
      this.watches++;
      return new Promise<KubeResult<{ events: number }>>((resolve) => {
        const w = {
          emit: (e: WatchEvent<KubeObject>) => onEvent(e as never),
          end: () => {
            this.watchers.delete(w);
            resolve({ ok: true, status: 200, body: { events: 0 } });
          },
        };
        opts.signal?.addEventListener('abort', () => {
          this.watchers.delete(w);
          resolve({ ok: false, status: 0, reason: 'Aborted', message: 'aborted' });
        });
        this.watchers.add(w);
        opts.onOpen?.();
      });
    },
  };
}

const informers: Informer<KubeObject>[] = [];
function start(api: FakeApi, extra: Partial<ConstructorParameters<typeof Informer>[0]> = {}) {
  const seen: string[] = [];
  const inf = new Informer<KubeObject>({
    client: api.client,
    path: '/api/v1/namespaces/ns/configmaps',
    logger: pino({ level: 'silent' }),
    backoff: { initialMs: 10, maxMs: 50 },
    ...extra,
  });
  inf.addHandlers({
    onAdd: (o) => seen.push(`add ${o.metadata?.name}`),
    onUpdate: (_, o) => seen.push(`update ${o.metadata?.name}@${o.metadata?.resourceVersion}`),
    onDelete: (o) => seen.push(`delete ${o.metadata?.name}`),
  });
  inf.start();
  informers.push(inf);
  return { inf, seen };
}

async function until(f: () => boolean, ms = 3000): Promise<void> {
  for (const t0 = Date.now(); Date.now() - t0 < ms;) {
    if (f()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('condition not met in time');
}

afterEach(async () => {
  for (const i of informers.splice(0)) await i.stop();
});

describe('Informer', () => {
  it('delivers the list as adds, then watch events, and caches the transformed objects', async () => {
    const api = new FakeApi();
    api.put(cm('a', 1));
    const { inf, seen } = start(api, {
      transform: (o) => ({ ...o, metadata: { ...o.metadata, annotations: { shrunk: 'yes' } } }),
    });
    expect(await inf.waitForSync(1000)).toBe(true);
    await until(() => api.watchers.size === 1);
    api.emit({ type: 'ADDED', object: cm('b', 101) });
    api.emit({ type: 'MODIFIED', object: cm('a', 102) });
    api.emit({ type: 'DELETED', object: cm('b', 103) });
    expect(seen).toEqual(['add a', 'add b', 'update a@102', 'delete b']);
    expect(inf.store.get('ns/a')?.metadata?.annotations).toEqual({ shrunk: 'yes' });
  });

  it('relists on a 410 and reports what changed meanwhile, deletes included', async () => {
    const api = new FakeApi();
    for (const n of ['a', 'b', 'c']) api.put(cm(n, 1));
    const { inf, seen } = start(api);
    await inf.waitForSync(1000);
    await until(() => api.watchers.size === 1);
    // Changes the informer never saw as events:
    api.objects.delete('b');
    api.put(cm('a', 150));
    api.put(cm('d', 151));
    api.emit({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' } });
    await until(() => api.lists === 2 && api.watchers.size === 1);
    expect(seen.slice(3)).toEqual(['delete b', 'add d', 'update a@150']);
    expect(inf.health().lastError).toMatch(/410/);
  });

  it('re-watches without relisting when the server closes a watch normally', async () => {
    const api = new FakeApi();
    const { inf } = start(api);
    await inf.waitForSync(1000);
    await until(() => api.watchers.size === 1);
    await new Promise((r) => setTimeout(r, 1050)); // a clean end is only trusted after 1 s up
    api.endWatches();
    await until(() => api.watches === 2 && api.watchers.size === 1);
    expect(api.lists).toBe(1);
    expect(inf.health().restarts).toBe(0);
  });

  it('retries a failing list with backoff and says why in health()', async () => {
    const api = new FakeApi();
    api.listFailures = 2;
    const { inf } = start(api);
    expect(inf.health()).toMatchObject({ synced: false, healthy: false });
    expect(await inf.waitForSync(2000)).toBe(true);
    expect(inf.health()).toMatchObject({ synced: true, restarts: 2 });
    expect(inf.health().lastError).toContain('ECONNREFUSED');
  });

  it('aborts a watch that stays silent longer than its timeout plus the margin', async () => {
    const api = new FakeApi();
    const { inf } = start(api, { watchTimeoutSeconds: 1, watchdogMarginMs: 10 });
    await inf.waitForSync(1000);
    await until(() => api.watchers.size === 1);
    await until(() => api.watches >= 2, 3000);
    expect(inf.health().lastError).toMatch(/watchdog/);
  });

  it('re-delivers every cached object on resync', async () => {
    const api = new FakeApi();
    api.put(cm('a', 1));
    const { inf, seen } = start(api, { resyncMs: 30 });
    await inf.waitForSync(1000);
    await until(() => seen.filter((s) => s === 'update a@1').length >= 2);
  });

  it('keeps delivering when one handler throws', async () => {
    const api = new FakeApi();
    const { inf, seen } = start(api);
    inf.addHandlers({
      onAdd: () => {
        throw new Error('bug in a handler');
      },
    });
    await inf.waitForSync(1000);
    await until(() => api.watchers.size === 1);
    api.emit({ type: 'ADDED', object: cm('x', 101) });
    api.emit({ type: 'ADDED', object: cm('y', 102) });
    expect(seen).toEqual(['add x', 'add y']);
  });
});
