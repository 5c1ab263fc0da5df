import { describe, expect, it } from 'vitest';
import type { LoadReport } from '../demo/loadgen.ts';
import { makeReport } from './fixtures.ts';
import {
  buildResult,
  goals,
  locateGap,
  median,
  ratio,
  summarizeMode,
  type ModeSummary,
  type WindowResult,
} from './summary.ts';

function makeWindow(
  kind: WindowResult['kind'],
  over: Partial<LoadReport> = {},
  upgrade?: Partial<NonNullable<WindowResult['upgrade']>>,
): WindowResult {
  return {
    mode: 'slot',
    kind,
    index: 1,
    loadStartedAtMs: 10_000,
    report: makeReport(over),
    ...(upgrade
      ? {
          upgrade: {
            from: 'v1',
            to: 'v2',
            triggerAtMs: 11_000,
            servingAtMs: 11_300,
            settledAtMs: 11_400,
            ...upgrade,
          },
        }
      : {}),
  };
}

describe('locateGap', () => {
  it.each([
    { name: 'a silence ending inside the upgrade is the upgrade’s', gapMs: 20, atMs: 1_310, want: true },
    {
      name: 'a silence that began before the trigger and ended after it overlaps the upgrade',
      gapMs: 50,
      atMs: 1_020,
      want: true,
    },
    { name: 'a silence that ended before the trigger is noise', gapMs: 30, atMs: 900, want: false },
    {
      name: 'a silence that began after the old process was gone is noise',
      gapMs: 30,
      atMs: 1_500,
      want: false,
    },
  ])('$name', ({ gapMs, atMs, want }) => {
    const g = locateGap(makeWindow('upgrade', { maxGapMs: gapMs, maxGapAtMs: atMs }, {}));
    expect(g.duringUpgrade).toBe(want);
    expect(g.endedAtMs).toBe(10_000 + atMs);
  });

  it('never attributes a baseline window’s gap to an upgrade', () => {
    expect(locateGap(makeWindow('baseline', { maxGapMs: 80 })).duringUpgrade).toBe(false);
  });
});

describe('median', () => {
  it.each([
    { xs: [], want: 0 },
    { xs: [5], want: 5 },
    { xs: [9, 1, 5], want: 5 },
    { xs: [4, 1, 3, 2], want: 2.5 },
  ])('median of $xs is $want', ({ xs, want }) => expect(median(xs)).toBe(want));
});

describe('summarizeMode', () => {
  const windows = [
    makeWindow('warmup', { maxGapMs: 500, failed: 7, latencyMs: { p50: 1, p99: 900, max: 999 } }),
    makeWindow('baseline', { maxGapMs: 6, latencyMs: { p50: 1, p99: 3, max: 9 } }),
    makeWindow('baseline', { maxGapMs: 8, latencyMs: { p50: 1, p99: 5, max: 9 } }),
    makeWindow('control', { maxGapMs: 40, latencyMs: { p50: 1, p99: 30, max: 50 } }),
    makeWindow(
      'upgrade',
      { maxGapMs: 12, failed: 1, failureReasons: { ECONNRESET: 1 }, latencyMs: { p50: 1, p99: 6, max: 20 } },
      { triggerAtMs: 11_000, servingAtMs: 11_200 },
    ),
    makeWindow(
      'upgrade',
      {
        maxGapMs: 4,
        sessionsLost: 2,
        skipped: 10,
        retried: 3,
        retryReasons: { ECONNRESET: 3 },
        latencyMs: { p50: 1, p99: 10, max: 30 },
      },
      { triggerAtMs: 11_000, servingAtMs: 11_400 },
    ),
    makeWindow(
      'upgrade',
      {
        maxGapMs: 7,
        failed: 2,
        failureReasons: { ECONNRESET: 1, timeout: 1 },
        latencyMs: { p50: 1, p99: 8, max: 15 },
      },
      { triggerAtMs: 11_000, servingAtMs: 11_300 },
    ),
  ];
  const s = summarizeMode(windows);

  it('counts only upgrade windows: warm-up and baseline requests are not the upgrade’s', () => {
    expect(s).toMatchObject({
      upgrades: 3,
      requests: 12_000,
      failed: 3,
      skipped: 10,
      rateRps: 2_000,
      sessionsLost: 2,
    });
  });
  it('takes the longest gap and the median gap over upgrades, and lists each', () => {
    expect(s).toMatchObject({ maxGapMs: 12, medianGapMs: 7, gapsMs: [12, 4, 7] });
  });
  it('bounds p99 from above by the largest window p99, and gives the median too', () => {
    expect(s).toMatchObject({ p99Ms: 10, p99MedianMs: 8 });
  });
  it('adds failure reasons over windows', () => {
    expect(s.failureReasons).toEqual({ ECONNRESET: 2, timeout: 1 });
  });
  it('counts retried requests apart from failed ones, with their reasons', () => {
    expect(s).toMatchObject({ retried: 3, retryReasons: { ECONNRESET: 3 } });
  });
  it('measures the baseline on baseline windows only', () => {
    expect(s).toMatchObject({ baselineP99Ms: 5, baselineMaxGapMs: 8, baselineMedianGapMs: 7 });
  });
  it('measures the cost of a process start alone on control windows only', () => {
    expect(s).toMatchObject({ controlP99Ms: 30, controlMaxGapMs: 40, controlMedianGapMs: 40 });
  });
  it('gives the median time from trigger to serving', () => {
    expect(s.upgradeMedianMs).toBe(300);
  });
  it('gives zeros, not NaN, for a mode with no windows', () => {
    expect(summarizeMode([])).toMatchObject({ upgrades: 0, rateRps: 0, maxGapMs: 0, p99Ms: 0 });
  });
});

describe('ratio', () => {
  it.each([
    { a: 1_000, b: 10, want: 100 },
    { a: 10, b: 3, want: 3.3 },
    { a: 5, b: 0, want: null },
    { a: undefined, b: 4, want: null },
  ])('$a / $b is $want', ({ a, b, want }) => expect(ratio(a, b)).toBe(want));
});

const mode = (over: Partial<ModeSummary>): ModeSummary => ({
  ...summarizeMode([makeWindow('upgrade')]),
  ...over,
});
const machine = { nproc: 2, loadavgStart: [1, 1, 1], loadavgEnd: [1, 1, 1], cpuBusyPct: 50 };

describe('goals', () => {
  it('are met by a clean run', () => {
    const g = goals({
      targetRate: 2_000,
      modes: {
        slot: mode({ maxGapMs: 15 }),
        binary: mode({ maxGapMs: 9 }),
        restart: mode({ maxGapMs: 900, failed: 300 }),
      },
      sidecar: { rssMb: 35, anonRssMb: 20, peakRssMb: 38, cpuPct: 0.1, command: 'node sidecar/server.ts' },
      machine,
      durationS: 1,
    });
    expect(Object.values(g).every((v) => v === true)).toBe(true);
  });
  it('are missed, each on its own, by what missed it', () => {
    const g = goals({
      targetRate: 2_000,
      modes: { slot: mode({ failed: 1 }), binary: mode({ maxGapMs: 21, rateRps: 1_500 }) },
      sidecar: { rssMb: 41, anonRssMb: 20, peakRssMb: 41, cpuPct: 2, command: 'x' },
      machine,
      durationS: 1,
    });
    expect(g).toEqual({
      zeroFailedHot: false,
      zeroSessionsLost: true,
      binaryGapAtMost20Ms: false,
      slotGapBelowRestart: null,
      rateAtLeastTarget: false,
      sidecarRssAtMost40Mb: false,
      sidecarAnonRssAtMost40Mb: true,
      sidecarIdleCpuBelow1Pct: false,
    });
  });
});

describe('buildResult', () => {
  it('has every field the issue asks for, top level being slot mode', () => {
    const r = buildResult({
      targetRate: 2_000,
      modes: {
        slot: mode({ maxGapMs: 15 }),
        binary: mode({ maxGapMs: 9 }),
        restart: mode({ maxGapMs: 900 }),
      },
      sidecar: { rssMb: 35, anonRssMb: 20, peakRssMb: 38, cpuPct: 0.1, command: 'node sidecar/server.ts' },
      machine,
      durationS: 1,
    });
    for (const k of [
      'upgrades',
      'requests',
      'failed',
      'maxGapMs',
      'p99Ms',
      'baselineP99Ms',
      'binary',
      'restart',
      'sidecarRssMb',
      'sidecarIdleCpuPct',
      'sessionsLost',
      'rateRps',
    ]) {
      expect(r).toHaveProperty(k);
    }
    expect(r).toMatchObject({
      maxGapMs: 15,
      binary: { failed: 0, maxGapMs: 9, sessionsLost: 0 },
      restart: { maxGapMs: 900 },
      gapRatio: { restartVsSlotMax: 60, restartVsBinaryMax: 100 },
    });
  });
  it('gives null for a mode that did not run', () => {
    const r = buildResult({
      targetRate: 2_000,
      modes: { binary: mode({}) },
      sidecar: undefined,
      machine,
      durationS: 1,
    });
    expect(r).toMatchObject({ failed: null, restart: null, sidecarRssMb: null });
  });
});
