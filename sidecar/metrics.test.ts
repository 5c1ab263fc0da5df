import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { summarize } from '../sdk/handover.ts';
import type { VolumeView } from '../sdk/volume.ts';
import { diff, EMPTY_MEMORY, type Memory } from './diff.ts';
import { live, makeFile, makeHandover, makeView } from './fixtures.ts';
import { createMetrics } from './metrics.ts';

/** Feeds views through diff into fresh metrics, like the observer does; returns the text. */
async function scrape(views: VolumeView[]): Promise<string> {
  const registry = new Registry();
  const metrics = createMetrics(registry);
  let memory: Memory = EMPTY_MEMORY;
  for (const view of views) {
    const r = diff(memory, view, 0);
    memory = r.memory;
    metrics.record(r.transitions, view, summarize(view));
  }
  return registry.metrics();
}

const a1 = makeFile({ slot: 'a', version: 'v1' });
const b2 = makeFile({ slot: 'b', version: 'v2', state: 'waiting', role: 'successor', announcedAtMs: 9_000 });
const record = makeHandover({ noticeMs: 2, drainMs: 30, takeoverMs: 3, totalMs: 35, atMs: 10_000 });
const b2serving = { ...b2, state: 'serving' as const, lockAcquiredAtMs: 9_990, handover: record };
const a1idle = { ...a1, state: 'idle' as const };

describe('metrics', () => {
  it('starts both handover series and the three phase histograms at 0', async () => {
    const text = await scrape([makeView(true, live(a1))]);
    expect(text).toContain('hotupgrade_handovers_total{result="completed"} 0');
    expect(text).toContain('hotupgrade_handovers_total{result="failed"} 0');
    for (const phase of ['notice', 'drain', 'takeover'])
      expect(text).toContain(`hotupgrade_handover_phase_seconds_count{phase="${phase}"} 0`);
  });

  it('counts a completed handover once and observes its durations in seconds', async () => {
    const handedOver = makeView(true, live(a1idle), live(b2serving));
    const text = await scrape([makeView(true, live(a1), live(b2)), handedOver, handedOver, handedOver]);
    expect(text).toContain('hotupgrade_handovers_total{result="completed"} 1');
    expect(text).toContain('hotupgrade_handover_duration_seconds_sum 0.035');
    expect(text).toContain('hotupgrade_handover_duration_seconds_bucket{le="0.05"} 1');
    expect(text).toContain('hotupgrade_handover_duration_seconds_bucket{le="0.025"} 0');
    expect(text).toContain('hotupgrade_handover_phase_seconds_sum{phase="drain"} 0.03');
    expect(text).toContain('hotupgrade_handover_phase_seconds_sum{phase="notice"} 0.002');
    expect(text).toContain('hotupgrade_handover_phase_seconds_sum{phase="takeover"} 0.003');
    expect(text).toContain('hotupgrade_lock_wait_seconds_sum 0.99');
  });

  it('keeps one active version series: the old one goes when the version changes', async () => {
    const text = await scrape([
      makeView(true, live(a1), live(b2)),
      makeView(true, live(a1idle), live(b2serving)),
    ]);
    expect(text).toContain('hotupgrade_active_version_info{slot="b",version="v2"} 1');
    expect(text).not.toContain('version="v1"');
    expect(text).toContain('hotupgrade_serving 1');
  });

  it('drops the active version while nobody serves', async () => {
    const text = await scrape([makeView(true, live(a1)), makeView(false, live(a1, false))]);
    expect(text).not.toContain('hotupgrade_active_version_info{');
    expect(text).toContain('hotupgrade_serving 0');
  });

  it("sets each slot's state, and no state for a dead process", async () => {
    const text = await scrape([makeView(true, live(a1), live(b2, false))]);
    expect(text).toContain('hotupgrade_slot_state{slot="a",state="serving"} 1');
    expect(text).toContain('hotupgrade_slot_state{slot="a",state="idle"} 0');
    expect(text).toContain('hotupgrade_slot_state{slot="b",state="waiting"} 0');
    expect(text).toContain('hotupgrade_slot_alive{slot="b"} 0');
  });

  it('reports a placeholder as its own state, neither serving nor a failure', async () => {
    const placeholder = makeFile({ slot: 'b', version: 'placeholder', state: 'placeholder' });
    const text = await scrape([makeView(true, live(a1), live(placeholder))]);
    expect(text).toContain('hotupgrade_slot_state{slot="b",state="placeholder"} 1');
    expect(text).toContain('hotupgrade_slot_state{slot="b",state="waiting"} 0');
    expect(text).toContain('hotupgrade_serving 1');
    expect(text).toContain('hotupgrade_active_version_info{slot="a",version="v1"} 1');
    expect(text).toContain('hotupgrade_handovers_total{result="failed"} 0');
  });

  it('counts failures: a slot entering failed, and a new rejected entry', async () => {
    const text = await scrape([
      makeView(true, live(a1), live(b2)),
      makeView(true, live(a1), live({ ...b2, state: 'failed', updatedAtMs: 70_000 })),
      makeView(true, live({ ...a1, rejected: ['b@v2'] })),
    ]);
    expect(text).toContain('hotupgrade_handovers_total{result="failed"} 2');
  });

  it('removes the series of a slot whose files are gone', async () => {
    const text = await scrape([makeView(true, live(a1), live(b2)), makeView(true, live(a1))]);
    expect(text).not.toContain('slot="b"');
  });
});
