// Helpers for test/controller/kube.test.ts: a client wrapper that can freeze a replica or
// cut its watches, and a logger that keeps its lines for assertions.
import pino, { type Logger } from 'pino';
import type { KubeClient } from '../../controller/kube/index.ts';

type Wrapped = Pick<KubeClient, 'get' | 'list' | 'watch' | 'create' | 'replace'>;

export interface Gate {
  client: Wrapped;
  /** From now on, calls hang (until release() or their signal aborts). */
  hold(): void;
  release(): void;
  /** Aborts the watches open right now, as a dropped connection would end them. */
  cutWatches(): void;
  /** Calls made since creation, by method. */
  calls: Record<string, number>;
}

const aborted = { ok: false as const, status: 0, reason: 'Aborted', message: 'aborted (test gate)' };

// Wraps a real client; a held gate makes every call wait, like a replica whose network
// (or process) froze: its requests neither succeed nor fail until its own deadline.
export function gate(real: KubeClient): Gate {
  let held: { promise: Promise<void>; open: () => void } | undefined;
  const watches = new Set<AbortController>();
  const calls: Record<string, number> = {};
  const pass = async (method: string, signal: AbortSignal | undefined): Promise<boolean> => {
    calls[method] = (calls[method] ?? 0) + 1;
    if (!held) return true;
    const wait = held.promise;
    await new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      signal?.addEventListener('abort', () => resolve(), { once: true });
      void wait.then(resolve);
    });
    return !signal?.aborted;
  };
  const client: Wrapped = {
    get: async (path, opts = {}) => ((await pass('get', opts.signal)) ? real.get(path, opts) : aborted),
    create: async (path, body, opts = {}) =>
      (await pass('create', opts.signal)) ? real.create(path, body, opts) : aborted,
    replace: async (path, body, opts = {}) =>
      (await pass('replace', opts.signal)) ? real.replace(path, body, opts) : aborted,
    list: async (path, opts = {}, map) =>
      (await pass('list', opts.signal)) ? real.list(path, opts, map) : aborted,
    watch: async (path, opts, onEvent) => {
      if (!(await pass('watch', opts.signal))) return aborted;
      const ac = new AbortController();
      watches.add(ac);
      const signal = opts.signal ? AbortSignal.any([opts.signal, ac.signal]) : ac.signal;
      try {
        return await real.watch(path, { ...opts, signal }, onEvent);
      } finally {
        watches.delete(ac);
      }
    },
  };
  return {
    client,
    calls,
    hold() {
      if (held) return;
      let open = (): void => undefined;
      const promise = new Promise<void>((r) => (open = r));
      held = { promise, open };
    },
    release() {
      held?.open();
      held = undefined;
    },
    cutWatches() {
      for (const ac of watches) ac.abort();
    },
  };
}

export interface TestLogger {
  logger: Logger;
  lines: Record<string, unknown>[];
}

// A pino logger that keeps every line; KUBE_TEST_LOG=1 also prints them.
export function testLogger(): TestLogger {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'debug' },
    {
      write: (line: string) => {
        lines.push(JSON.parse(line) as Record<string, unknown>);
        if (process.env.KUBE_TEST_LOG) process.stderr.write(line);
      },
    },
  );
  return { logger, lines };
}

/** Polls f every 50 ms until it returns true; fails after timeoutMs naming what. */
export async function waitUntil(what: string, f: () => boolean, timeoutMs = 30_000): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (f()) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
