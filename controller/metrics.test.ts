import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parseSamples } from '../bench/prom.ts';
import type { HotDeploymentStatus } from './api/types.ts';
import { cond, UPGRADING } from './fixtures.ts';
import { createDomainMetrics, HANDOVER_FAILURES } from './metrics.ts';

const healthy: HotDeploymentStatus = {
  replicas: 3,
  conditions: UPGRADING,
};

const stuck: HotDeploymentStatus = {
  replicas: 3,
  conditions: [
    cond('Available', 'False', 'MinimumReplicasUnavailable'),
    cond('Progressing', 'False', 'ProgressDeadlineExceeded'),
    cond('Paused', 'False', 'NotPaused'),
    cond('Degraded', 'True', 'ProgressDeadlineExceeded'),
  ],
};

async function series(registry: Registry, name: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const s of parseSamples(await registry.metrics())) {
    if (s.name !== name) continue;
    const { namespace: _n, name: _m, ...rest } = s.labels;
    out[Object.values(rest).join('/')] = s.value;
  }
  return out;
}

describe('domain metrics', () => {
  it('exposes every handover result and reason, and the rollbacks, at 0 once a HotDeployment is seen', async () => {
    const registry = new Registry();
    createDomainMetrics(registry).observe('shop', 'cart', healthy, new Map([['v1', 3]]));
    expect(await series(registry, 'hotupgrade_handovers_total')).toEqual({
      'succeeded/none': 0,
      ...Object.fromEntries(HANDOVER_FAILURES.map((r) => [`failed/${r}`, 0])),
    });
    expect(await series(registry, 'hotupgrade_rollbacks_total')).toEqual({ '': 0 });
  });

  it('counts a handover under its HotDeployment, result and reason', async () => {
    const registry = new Registry();
    const m = createDomainMetrics(registry);
    m.handover('shop', 'cart', { result: 'failed', reason: 'Crashed', durationMs: 1500 });
    m.handover('shop', 'cart', { result: 'succeeded', durationMs: 200 });
    const text = await registry.metrics();
    expect(text).toContain(
      'hotupgrade_handovers_total{namespace="shop",name="cart",result="failed",reason="Crashed"} 1',
    );
    expect(text).toContain(
      'hotupgrade_handovers_total{namespace="shop",name="cart",result="succeeded",reason="none"} 1',
    );
    expect(text).toContain('hotupgrade_pod_upgrade_duration_seconds_count{result="failed"} 1');
  });

  it('exposes the pod upgrade histogram for both results before the first upgrade', async () => {
    const registry = new Registry();
    createDomainMetrics(registry);
    const text = await registry.metrics();
    expect(text).toContain('hotupgrade_pod_upgrade_duration_seconds_count{result="succeeded"} 0');
    expect(text).toContain('hotupgrade_pod_upgrade_duration_seconds_count{result="failed"} 0');
  });

  it.each([
    {
      title: 'a healthy rollout: Progressing=True, so Progressing/False is 0',
      status: healthy,
      expected: { 'Progressing/True': 1, 'Progressing/False': 0, 'Degraded/True': 0, 'Available/True': 1 },
    },
    {
      title: 'a rollout past its deadline: Progressing/False is 1, Degraded/True is 1',
      status: stuck,
      expected: { 'Progressing/True': 0, 'Progressing/False': 1, 'Degraded/True': 1, 'Available/False': 1 },
    },
    {
      title: 'no conditions yet: every status is 0',
      status: { replicas: 0 },
      expected: { 'Progressing/True': 0, 'Progressing/False': 0, 'Progressing/Unknown': 0 },
    },
  ])('hotupgrade_rollout_condition for $title', async ({ status, expected }) => {
    const registry = new Registry();
    createDomainMetrics(registry).observe('shop', 'cart', status, new Map());
    const got = await series(registry, 'hotupgrade_rollout_condition');
    expect(Object.keys(got)).toHaveLength(4 * 3);
    expect(got).toMatchObject(expected);
  });

  it('drops every series of a HotDeployment that is gone', async () => {
    const registry = new Registry();
    const m = createDomainMetrics(registry);
    m.observe('shop', 'cart', stuck, new Map([['v1', 3]]));
    m.observe('shop', 'other', healthy, new Map([['v1', 1]]));
    m.forget('shop', 'cart');
    const left = parseSamples(await registry.metrics()).filter((s) => s.labels.namespace === 'shop');
    expect(left.length).toBeGreaterThan(0);
    expect(left.filter((s) => s.labels.name === 'cart')).toEqual([]);
  });
});
