// Prometheus metrics of the generic controller machinery, with controller-runtime's names
// so dashboards and alerts written for Go operators work unchanged. Every helper takes the
// registry: the process owns one, tests make their own.
import { Counter, Gauge, Histogram, type Metric, type Registry } from 'prom-client';

// prom-client throws when a name is registered twice; several queues, informers or
// clients share one registry (told apart by labels), so the first caller creates a
// metric and later ones reuse it.
function getOrCreate<M extends Metric<string>>(registry: Registry, name: string, make: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? make();
}

export function counter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
): Counter<L> {
  return getOrCreate(registry, name, () => new Counter({ name, help, labelNames, registers: [registry] }));
}

export function gauge<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  /** Called on every scrape, to set values computed from state (e.g. an age). */
  collect?: () => void,
): Gauge<L> {
  return getOrCreate(
    registry,
    name,
    () => new Gauge({ name, help, labelNames, registers: [registry], ...(collect ? { collect } : {}) }),
  );
}

export function histogram<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  buckets: number[],
): Histogram<L> {
  return getOrCreate(
    registry,
    name,
    () => new Histogram({ name, help, labelNames, buckets, registers: [registry] }),
  );
}

/** prometheus.ExponentialBuckets(start, factor, count). */
export function exponentialBuckets(start: number, factor: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => start * factor ** i);
}

/** What one reconcile ended with (the `result` label of controller_runtime_reconcile_total). */
export type ReconcileResult = 'success' | 'error' | 'requeue' | 'requeue_after';
export const RECONCILE_RESULTS: readonly ReconcileResult[] = ['success', 'error', 'requeue', 'requeue_after'];

export interface ControllerMetrics {
  /** Counts one finished reconcile and its duration, in seconds. */
  observeReconcile(result: ReconcileResult, seconds: number): void;
  /** Workers currently inside a reconcile. */
  setActiveWorkers(n: number): void;
}

/** controller-runtime's per-controller metrics for `controller`, pre-set to 0 like Go does. */
export function controllerMetrics(
  registry: Registry,
  controller: string,
  maxConcurrentReconciles: number,
): ControllerMetrics {
  const total = counter(
    registry,
    'controller_runtime_reconcile_total',
    'Total number of reconciliations per controller',
    ['controller', 'result'],
  );
  const errors = counter(
    registry,
    'controller_runtime_reconcile_errors_total',
    'Total number of reconciliation errors per controller',
    ['controller'],
  );
  const time = histogram(
    registry,
    'controller_runtime_reconcile_time_seconds',
    'Length of time per reconciliation per controller',
    ['controller'],
    // controller-runtime's buckets, in seconds.
    [
      0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25,
      1.5, 1.75, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
    ],
  );
  const active = gauge(
    registry,
    'controller_runtime_active_workers',
    'Number of currently used workers per controller',
    ['controller'],
  );
  const max = gauge(
    registry,
    'controller_runtime_max_concurrent_reconciles',
    'Maximum number of concurrent reconciles per controller',
    ['controller'],
  );
  for (const result of RECONCILE_RESULTS) total.inc({ controller, result }, 0);
  errors.inc({ controller }, 0);
  time.zero({ controller });
  active.set({ controller }, 0);
  max.set({ controller }, maxConcurrentReconciles);
  return {
    observeReconcile(result, seconds) {
      total.inc({ controller, result });
      if (result === 'error') errors.inc({ controller });
      time.observe({ controller }, seconds);
    },
    setActiveWorkers(n) {
      active.set({ controller }, n);
    },
  };
}
