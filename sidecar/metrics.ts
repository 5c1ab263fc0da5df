// The pod's hot-upgrade facts as Prometheus metrics. Counters and histograms are fed by
// transitions (so each event counts once, see diff.ts); gauges are set from the current
// view on every look. Labels are bounded: slot names are DNS-label words (two per pod),
// states are the protocol's ten, and the version label exists for the active slot only.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Summary } from '../sdk/handover.ts';
import { SLOT_STATES } from '../sdk/versionFile.ts';
import type { VolumeView } from '../sdk/volume.ts';
import type { Transition } from './diff.ts';

/** 1 ms .. 60 s: a hot handover takes milliseconds; a drain may take up to its timeout. */
export const DURATION_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

export type HandoverResult = 'completed' | 'failed';

export interface SidecarMetrics {
  /** Feeds the counters and histograms from transitions, and sets the gauges from `view`. */
  record(transitions: readonly Transition[], view: VolumeView, summary: Summary): void;
}

const seconds = (ms: number): number => ms / 1000;

export function createMetrics(registry: Registry): SidecarMetrics {
  const registers = [registry];
  const handovers = new Counter({
    name: 'hotupgrade_handovers_total',
    help: 'Handovers seen in this pod by result: completed (a new server took over) or failed (a slot entered failed, or a successor was rejected).',
    labelNames: ['result'] as const,
    registers,
  });
  // Both series exist from the start, so rate() and alerts see a 0 rather than nothing.
  handovers.inc({ result: 'completed' }, 0);
  handovers.inc({ result: 'failed' }, 0);
  const duration = new Histogram({
    name: 'hotupgrade_handover_duration_seconds',
    help: 'Successor announced -> successor serving, per completed handover, as the new server measured it.',
    buckets: DURATION_BUCKETS,
    registers,
  });
  const phase = new Histogram({
    name: 'hotupgrade_handover_phase_seconds',
    help: 'Handover phases: notice (announced -> drain started), drain (drain started -> lock released), takeover (lock released -> serving).',
    labelNames: ['phase'] as const,
    buckets: DURATION_BUCKETS,
    registers,
  });
  for (const p of ['notice', 'drain', 'takeover']) phase.zero({ phase: p });
  const lockWait = new Histogram({
    name: 'hotupgrade_lock_wait_seconds',
    help: "Successor's wait for the active lock (announced -> lock acquired), per completed handover.",
    buckets: DURATION_BUCKETS,
    registers,
  });
  const activeVersion = new Gauge({
    name: 'hotupgrade_active_version_info',
    help: 'Always 1, for the slot that serves and the version it runs; absent while nobody serves.',
    labelNames: ['slot', 'version'] as const,
    registers,
  });
  const serving = new Gauge({
    name: 'hotupgrade_serving',
    help: '1 when some process holds the active lock and says it serves (during a handover too), else 0.',
    registers,
  });
  const slotState = new Gauge({
    name: 'hotupgrade_slot_state',
    help: "1 for the state a slot's live process reports, 0 for the others; all 0 while its process is dead or its file unusable.",
    labelNames: ['slot', 'state'] as const,
    registers,
  });
  const slotAlive = new Gauge({
    name: 'hotupgrade_slot_alive',
    help: "1 while the slot's process holds its liveness lock, else 0.",
    labelNames: ['slot'] as const,
    registers,
  });
  const fileErrors = new Counter({
    name: 'hotupgrade_version_file_errors_total',
    help: 'Times a slot version file became malformed (counted on the transition, not per read).',
    labelNames: ['slot'] as const,
    registers,
  });

  let activeKey: string | null = null;

  function onTransition(t: Transition): void {
    switch (t.kind) {
      case 'handover':
        handovers.inc({ result: 'completed' });
        duration.observe(seconds(t.record.totalMs));
        phase.observe({ phase: 'notice' }, seconds(t.record.noticeMs));
        phase.observe({ phase: 'drain' }, seconds(t.record.drainMs));
        phase.observe({ phase: 'takeover' }, seconds(t.record.takeoverMs));
        if (t.lockWaitMs !== null) lockWait.observe(seconds(t.lockWaitMs));
        return;
      case 'failed':
      case 'rejected':
        handovers.inc({ result: 'failed' });
        return;
      case 'problem':
        if (t.enteredMalformed) fileErrors.inc({ slot: t.slot });
        return;
      case 'removed':
        slotAlive.remove({ slot: t.slot });
        for (const state of SLOT_STATES) slotState.remove({ slot: t.slot, state });
        return;
      default:
        return;
    }
  }

  return {
    record(transitions, view, summary) {
      for (const t of transitions) onTransition(t);
      serving.set(summary.serving ? 1 : 0);
      const key = summary.serving ? `${summary.activeSlot}\n${summary.activeVersion}` : null;
      if (key !== activeKey) {
        activeVersion.reset(); // one series at most: the old version's series goes away
        if (summary.serving) {
          activeVersion.set({ slot: String(summary.activeSlot), version: String(summary.activeVersion) }, 1);
        }
        activeKey = key;
      }
      for (const s of view.slots) {
        slotAlive.set({ slot: s.slot }, s.alive ? 1 : 0);
        const current = s.alive ? s.file?.state : undefined;
        for (const state of SLOT_STATES) slotState.set({ slot: s.slot, state }, state === current ? 1 : 0);
      }
    },
  };
}
