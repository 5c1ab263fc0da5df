// The worker side of a controller: N workers take keys from the work queue until the
// signal aborts, reconcile each, and requeue it as the outcome asks (client-go's
// processNextWorkItem). Shared by the HotDeployment controller and the hub.
import type { Logger } from 'pino';
import type { ControllerMetrics, ReconcileResult } from './metrics.ts';
import type { WorkQueue } from './workqueue.ts';

export type ReconcileOutcome =
  { result: 'success' | 'requeue' | 'error' } | { result: 'requeue_after'; afterMs: number };

export interface RunnerOptions<K> {
  queue: WorkQueue<K>;
  workers: number;
  metrics: ControllerMetrics;
  log: Logger;
  reconcile: (key: K) => Promise<ReconcileOutcome>;
}

/** Runs the workers until `signal` aborts; keys in progress finish, none is taken and left. */
export async function runWorkers<K>(o: RunnerOptions<K>, signal: AbortSignal): Promise<void> {
  let active = 0;
  const process = async (k: K): Promise<void> => {
    const t0 = performance.now();
    o.metrics.setActiveWorkers(++active);
    let result: ReconcileResult = 'error';
    try {
      const r = await o.reconcile(k);
      result = r.result;
      if (r.result === 'success') o.queue.forget(k);
      else if (r.result === 'requeue') o.queue.addRateLimited(k);
      else if (r.result === 'requeue_after') {
        o.queue.forget(k);
        o.queue.addAfter(k, r.afterMs);
      } else o.queue.addRateLimited(k);
    } catch (err) {
      o.log.error({ err, key: k }, 'reconcile failed');
      o.queue.addRateLimited(k);
    } finally {
      o.metrics.setActiveWorkers(--active);
      o.metrics.observeReconcile(result, (performance.now() - t0) / 1000);
    }
  };
  const worker = async (): Promise<void> => {
    // get(signal) gives up its wait when the signal aborts, so no key is taken and left.
    for (let k = await o.queue.get(signal); k !== undefined; k = await o.queue.get(signal)) {
      try {
        if (signal.aborted) o.queue.add(k);
        else await process(k);
      } finally {
        o.queue.done(k);
      }
      if (signal.aborted) return;
    }
  };
  await Promise.all(Array.from({ length: o.workers }, worker));
}
