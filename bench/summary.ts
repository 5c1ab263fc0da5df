// Pure arithmetic of the benchmark: from the load reports of each window to the figures
// of a mode, and from the modes to the one JSON line the run ends with. No clock, no I/O.
//
// Vocabulary:
//   window   one run of the load generator (about 2-4 s): a warm-up, a baseline (no
//            upgrade), a control (no upgrade, but a Node process of the same code starts
//            and exits, as the new version's does in an upgrade) or an upgrade (exactly
//            one upgrade happens inside it)
//   gap      the longest time between two consecutive successful answers in a window
//   trigger  the moment the benchmark starts an upgrade (new slot process started, stager
//            started, or SIGTERM sent to the old server), ms since the epoch
//   settled  the moment the new version serves and the old process is gone, ms since the epoch
import type { LoadReport } from '../demo/loadgen.ts';
import type { HandoverRecord } from '../sdk/versionFile.ts';
import type { Mode } from './options.ts';

export type WindowKind = 'warmup' | 'baseline' | 'control' | 'upgrade';

/** What the benchmark saw of one upgrade. Times are ms since the epoch. */
export interface UpgradeTiming {
  from: string;
  to: string;
  triggerAtMs: number;
  /** The new version's process said it serves (version file). */
  servingAtMs: number;
  settledAtMs: number;
  /** The handover as the new server measured it, when the mode records one. */
  handover?: HandoverRecord;
  /** Evidence: named moments of the upgrade (version files' timestamps, signals sent), ms since the epoch. */
  events?: Record<string, number>;
}

export interface WindowResult {
  mode: Mode;
  kind: WindowKind;
  /** 1-based among windows of the same kind and mode. */
  index: number;
  /** When the load generator started, ms since the epoch (its report's times are relative to it). */
  loadStartedAtMs: number;
  report: LoadReport;
  upgrade?: UpgradeTiming;
}

export interface GapLocation {
  gapMs: number;
  /** When the gap ended (the answer after the silence), ms since the epoch. */
  endedAtMs: number;
  /** Whether the silence overlaps the upgrade (trigger .. settled); false for windows without one. */
  duringUpgrade: boolean;
}

export function locateGap(w: Pick<WindowResult, 'loadStartedAtMs' | 'report' | 'upgrade'>): GapLocation {
  const endedAtMs = w.loadStartedAtMs + w.report.maxGapAtMs;
  const startedAtMs = endedAtMs - w.report.maxGapMs;
  const u = w.upgrade;
  const duringUpgrade = u !== undefined && startedAtMs <= u.settledAtMs && endedAtMs >= u.triggerAtMs;
  return { gapMs: w.report.maxGapMs, endedAtMs: Math.round(endedAtMs), duringUpgrade };
}

/** Figures of one mode. Durations in ms, rates in requests per second. */
export interface ModeSummary {
  /** Upgrade windows completed. */
  upgrades: number;
  /** Requests started during upgrade windows. */
  requests: number;
  failed: number;
  /** Requests the load generator could not start in time (event loop late, every session busy). */
  skipped: number;
  /** Keep-alive requests retried once after their connection closed before any answer (not failed). */
  retried: number;
  retryReasons: Record<string, number>;
  /** Requests started per second of upgrade windows. */
  rateRps: number;
  /** Longest gap over all upgrade windows. */
  maxGapMs: number;
  medianGapMs: number;
  /** Gap of each upgrade window, in order. */
  gapsMs: number[];
  /** Upper bound of the p99 latency over all upgrade windows: the largest per-window p99. */
  p99Ms: number;
  /** Median of the per-window p99 latencies. */
  p99MedianMs: number;
  /** Sessions whose counter did not continue, summed over windows (an upper bound of distinct sessions). */
  sessionsLost: number;
  failureReasons: Record<string, number>;
  /** Trigger -> new version serving, median over upgrades. */
  upgradeMedianMs: number;
  /** Same figures over the baseline windows (no upgrade). */
  baselineP99Ms: number;
  baselineMaxGapMs: number;
  baselineMedianGapMs: number;
  /** Same figures over the control windows (no upgrade; a Node process of the same code starts): the cost of the start alone. */
  controlP99Ms: number;
  controlMaxGapMs: number;
  controlMedianGapMs: number;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

const round1 = (n: number): number => Math.round(n * 10) / 10;
const max = (xs: readonly number[]): number => xs.reduce((m, x) => Math.max(m, x), 0);

export function summarizeMode(windows: readonly WindowResult[]): ModeSummary {
  const ups = windows.filter((w) => w.kind === 'upgrade');
  const base = windows.filter((w) => w.kind === 'baseline');
  const control = windows.filter((w) => w.kind === 'control');
  const reasons: Record<string, number> = {};
  const retryReasons: Record<string, number> = {};
  for (const w of ups) {
    for (const [k, v] of Object.entries(w.report.failureReasons)) reasons[k] = (reasons[k] ?? 0) + v;
    for (const [k, v] of Object.entries(w.report.retryReasons ?? {}))
      retryReasons[k] = (retryReasons[k] ?? 0) + v;
  }
  const sum = (f: (r: LoadReport) => number): number => ups.reduce((s, w) => s + f(w.report), 0);
  const durationMs = sum((r) => r.durationMs);
  const gaps = ups.map((w) => w.report.maxGapMs);
  const upgradeMs = ups.flatMap((w) => (w.upgrade ? [w.upgrade.servingAtMs - w.upgrade.triggerAtMs] : []));
  return {
    upgrades: ups.length,
    requests: sum((r) => r.sent),
    failed: sum((r) => r.failed),
    skipped: sum((r) => r.skipped),
    retried: sum((r) => r.retried ?? 0),
    retryReasons,
    rateRps: durationMs > 0 ? Math.round((sum((r) => r.sent) / durationMs) * 1000) : 0,
    maxGapMs: round1(max(gaps)),
    medianGapMs: round1(median(gaps)),
    gapsMs: gaps.map(round1),
    p99Ms: round1(max(ups.map((w) => w.report.latencyMs.p99))),
    p99MedianMs: round1(median(ups.map((w) => w.report.latencyMs.p99))),
    sessionsLost: sum((r) => r.sessionsLost),
    failureReasons: reasons,
    upgradeMedianMs: Math.round(median(upgradeMs)),
    baselineP99Ms: round1(max(base.map((w) => w.report.latencyMs.p99))),
    baselineMaxGapMs: round1(max(base.map((w) => w.report.maxGapMs))),
    baselineMedianGapMs: round1(median(base.map((w) => w.report.maxGapMs))),
    controlP99Ms: round1(max(control.map((w) => w.report.latencyMs.p99))),
    controlMaxGapMs: round1(max(control.map((w) => w.report.maxGapMs))),
    controlMedianGapMs: round1(median(control.map((w) => w.report.maxGapMs))),
  };
}

/** a / b to one decimal, or null when b is 0 (a ratio to nothing says nothing). */
export function ratio(a: number | undefined, b: number | undefined): number | null {
  if (a === undefined || b === undefined || b === 0) return null;
  return round1(a / b);
}

export interface SidecarCost {
  /** Resident memory (VmRSS) after the idle window, in MiB. */
  rssMb: number;
  /** Its private part (RssAnon), in MiB: the rest is the node binary's file pages, shared between pods. */
  anonRssMb: number;
  peakRssMb: number;
  cpuPct: number;
  /** How the sidecar was run, e.g. "node sidecar/server.ts". */
  command: string;
}

export interface MachineInfo {
  nproc: number;
  /** 1, 5 and 15 minute load averages at the start and at the end of the run. */
  loadavgStart: number[];
  loadavgEnd: number[];
  /** Percent of all cores busy over the run, every process on the machine included. */
  cpuBusyPct: number;
}

/** The mode figures as the JSON line shows them for binary and restart. */
function modeFields(m: ModeSummary | undefined): Record<string, unknown> | null {
  if (!m) return null;
  return {
    upgrades: m.upgrades,
    requests: m.requests,
    rateRps: m.rateRps,
    failed: m.failed,
    retried: m.retried,
    maxGapMs: m.maxGapMs,
    medianGapMs: m.medianGapMs,
    p99Ms: m.p99Ms,
    baselineP99Ms: m.baselineP99Ms,
    baselineMaxGapMs: m.baselineMaxGapMs,
    controlMaxGapMs: m.controlMaxGapMs,
    controlMedianGapMs: m.controlMedianGapMs,
    controlP99Ms: m.controlP99Ms,
    sessionsLost: m.sessionsLost,
    upgradeMedianMs: m.upgradeMedianMs,
    failureReasons: m.failureReasons,
  };
}

export interface ResultInput {
  targetRate: number;
  modes: Partial<Record<Mode, ModeSummary>>;
  sidecar: SidecarCost | undefined;
  machine: MachineInfo;
  durationS: number;
}

/** Goals of the issue: each true when met, null when the run did not measure it. */
export function goals(i: ResultInput): Record<string, boolean | null> {
  const { slot, binary, restart } = i.modes;
  const hot = [slot, binary].filter((m): m is ModeSummary => m !== undefined);
  return {
    zeroFailedHot: hot.length > 0 ? hot.every((m) => m.failed === 0) : null,
    zeroSessionsLost: hot.length > 0 ? hot.every((m) => m.sessionsLost === 0) : null,
    binaryGapAtMost20Ms: binary ? binary.maxGapMs <= 20 : null,
    slotGapBelowRestart: slot && restart ? slot.maxGapMs < restart.maxGapMs : null,
    rateAtLeastTarget: hot.length > 0 ? hot.every((m) => m.rateRps >= i.targetRate * 0.98) : null,
    sidecarRssAtMost40Mb: i.sidecar ? i.sidecar.rssMb <= 40 : null,
    sidecarAnonRssAtMost40Mb: i.sidecar ? i.sidecar.anonRssMb <= 40 : null,
    sidecarIdleCpuBelow1Pct: i.sidecar ? i.sidecar.cpuPct < 1 : null,
  };
}

/** The one JSON object the run prints last. Top-level latency and gap figures are slot mode's. */
export function buildResult(i: ResultInput): Record<string, unknown> {
  const { slot, binary, restart } = i.modes;
  return {
    upgrades: slot?.upgrades ?? null,
    requests: slot?.requests ?? null,
    rateRps: slot?.rateRps ?? null,
    targetRateRps: i.targetRate,
    failed: slot?.failed ?? null,
    retried: slot?.retried ?? null,
    maxGapMs: slot?.maxGapMs ?? null,
    medianGapMs: slot?.medianGapMs ?? null,
    p99Ms: slot?.p99Ms ?? null,
    baselineP99Ms: slot?.baselineP99Ms ?? null,
    baselineMaxGapMs: slot?.baselineMaxGapMs ?? null,
    controlMaxGapMs: slot?.controlMaxGapMs ?? null,
    controlMedianGapMs: slot?.controlMedianGapMs ?? null,
    controlP99Ms: slot?.controlP99Ms ?? null,
    sessionsLost: slot?.sessionsLost ?? null,
    upgradeMedianMs: slot?.upgradeMedianMs ?? null,
    failureReasons: slot?.failureReasons ?? null,
    binary: modeFields(binary),
    restart: modeFields(restart),
    gapRatio: {
      restartVsSlotMax: ratio(restart?.maxGapMs, slot?.maxGapMs),
      restartVsBinaryMax: ratio(restart?.maxGapMs, binary?.maxGapMs),
      restartVsSlotMedian: ratio(restart?.medianGapMs, slot?.medianGapMs),
      restartVsBinaryMedian: ratio(restart?.medianGapMs, binary?.medianGapMs),
    },
    sidecarRssMb: i.sidecar?.rssMb ?? null,
    sidecarAnonRssMb: i.sidecar?.anonRssMb ?? null,
    sidecarPeakRssMb: i.sidecar?.peakRssMb ?? null,
    sidecarIdleCpuPct: i.sidecar?.cpuPct ?? null,
    sidecarCommand: i.sidecar?.command ?? null,
    machine: i.machine,
    durationS: i.durationS,
    goals: goals(i),
  };
}
