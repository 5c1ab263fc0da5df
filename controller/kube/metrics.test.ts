import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { controllerMetrics } from './metrics.ts';
import { WorkQueue } from './workqueue.ts';

describe('controllerMetrics', () => {
  it('exposes every result at 0 before the first reconcile, like controller-runtime', async () => {
    const registry = new Registry();
    controllerMetrics(registry, 'hotdeployment', 4);
    const text = await registry.metrics();
    for (const result of ['success', 'error', 'requeue', 'requeue_after']) {
      expect(text).toContain(
        `controller_runtime_reconcile_total{controller="hotdeployment",result="${result}"} 0`,
      );
    }
    expect(text).toContain('controller_runtime_max_concurrent_reconciles{controller="hotdeployment"} 4');
  });

  it('exposes the reconcile and queue histograms at 0 too, so a dashboard has a series before the first item', async () => {
    const registry = new Registry();
    controllerMetrics(registry, 'hotdeployment', 1);
    new WorkQueue<string>({ name: 'hotdeployment', registry });
    const text = await registry.metrics();
    expect(text).toContain('controller_runtime_reconcile_time_seconds_count{controller="hotdeployment"} 0');
    expect(text).toContain('workqueue_queue_duration_seconds_count{name="hotdeployment"} 0');
    expect(text).toContain('workqueue_work_duration_seconds_count{name="hotdeployment"} 0');
  });

  it('counts an error both as a result and as an error, and times it', async () => {
    const registry = new Registry();
    const m = controllerMetrics(registry, 'hotdeployment', 1);
    m.observeReconcile('error', 0.2);
    m.observeReconcile('success', 0.01);
    const text = await registry.metrics();
    expect(text).toContain('controller_runtime_reconcile_total{controller="hotdeployment",result="error"} 1');
    expect(text).toContain('controller_runtime_reconcile_errors_total{controller="hotdeployment"} 1');
    expect(text).toContain('controller_runtime_reconcile_time_seconds_count{controller="hotdeployment"} 2');
  });

  it('lets two controllers share a registry', () => {
    const registry = new Registry();
    controllerMetrics(registry, 'a', 1);
    expect(() => controllerMetrics(registry, 'b', 1)).not.toThrow();
  });
});
