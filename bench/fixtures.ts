// Fixture builders for the benchmark's unit tests.
import type { LoadReport } from '../demo/loadgen.ts';

export function makeReport(over: Partial<LoadReport> = {}): LoadReport {
  return {
    durationMs: 2_000,
    sent: 4_000,
    ok: 4_000,
    failed: 0,
    skipped: 0,
    retried: 0,
    retryReasons: {},
    inFlight: 0,
    failures: [],
    failureReasons: {},
    latencyMs: { p50: 1, p99: 4, max: 9 },
    maxGapMs: 3,
    maxGapAtMs: 500,
    trailingGapMs: 0,
    sessionsSeen: 100,
    sessionsLost: 0,
    lostSessionIds: [],
    lostEvents: [],
    lostEventCount: 0,
    versions: {},
    slots: {},
    pods: {},
    lastCounts: {},
    uncertain: [],
    ...over,
  };
}
