// Steady load on the demo Service while something happens, and what a user of the
// service would have noticed.
import { startLoad, type LoadReport, type LoadRun } from '../../demo/loadgen.ts';

export interface LoadOptions {
  rate?: number;
  sessions?: number;
}

/** Load through `url` (the Service), half on keep-alive connections, half on a new connection each. */
export function serviceLoad(url: string, o: LoadOptions = {}): LoadRun {
  return startLoad({
    url,
    rate: o.rate ?? 200,
    sessions: o.sessions ?? 300,
    keepAliveShare: 0.5,
    durationMs: 600_000,
    timeoutMs: 5_000,
  });
}

/** Runs `fn` under load; returns its result and the load report (after `settleMs` more of load). */
export async function underLoad<T>(
  url: string,
  fn: (load: LoadRun) => Promise<T>,
  o: LoadOptions & { warmupMs?: number; settleMs?: number } = {},
): Promise<{ result: T; report: LoadReport }> {
  const load = serviceLoad(url, o);
  try {
    await new Promise((r) => setTimeout(r, o.warmupMs ?? 1_500));
    const result = await fn(load);
    await new Promise((r) => setTimeout(r, o.settleMs ?? 1_000));
    return { result, report: await load.stop() };
  } catch (err) {
    await load.stop();
    throw err;
  }
}

/** One line for the test log: what the load saw. */
export function describeLoad(r: LoadReport): string {
  return (
    `${r.ok} ok, ${r.failed} failed ${JSON.stringify(r.failureReasons)}, ${r.sessionsLost} sessions lost ` +
    `(of ${r.sessionsSeen}), max gap ${r.maxGapMs.toFixed(0)} ms, p99 ${r.latencyMs.p99} ms, ` +
    `versions ${JSON.stringify(r.versions)}, pods ${JSON.stringify(r.pods)}`
  );
}
