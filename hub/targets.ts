// What the steps of a release ask of each cluster: pure functions of the spec and the
// replicas of the target there. Upgrade steps are cumulative per cluster; the order in
// which clusters are first upgraded is the order a rollback reverses.
import { resolveIntOrPercent } from '../controller/intOrPercent.ts';
import type { HotReleaseSpec, ReleaseStep } from './api/types.ts';

export type StepKind = 'upgrade' | 'pause' | 'gate';

export function stepKind(s: ReleaseStep): StepKind {
  if (s.upgrade) return 'upgrade';
  if (s.gate) return 'gate';
  return 'pause';
}

/** The clusters an upgrade or gate step applies to: its own list, else every cluster of the release. */
export function stepClusters(s: ReleaseStep, all: readonly string[]): string[] {
  const own = s.upgrade?.clusters ?? s.gate?.clusters;
  return own ? all.filter((c) => own.includes(c)) : [...all];
}

/**
 * Pods at the new image that steps 1..upTo ask for in `cluster` (0 when none names it).
 * Counts are capped at `replicas`; percents are of `replicas`, rounded up. A later step
 * that asks for fewer (a count after a percent on a small target) does not lower it.
 */
export function clusterTarget(
  spec: HotReleaseSpec,
  all: readonly string[],
  cluster: string,
  upTo: number,
  replicas: number,
): number {
  let target = 0;
  for (const s of spec.steps.slice(0, upTo)) {
    if (!s.upgrade || !stepClusters(s, all).includes(cluster)) continue;
    const n = resolveIntOrPercent(s.upgrade.replicas, replicas, 'up') ?? 0;
    target = Math.max(target, Math.min(n, replicas));
  }
  return target;
}

/** Clusters in the order upgrade steps first name them (what a rollback reverses). */
export function touchOrder(spec: HotReleaseSpec, all: readonly string[]): string[] {
  const out: string[] = [];
  for (const s of spec.steps) {
    if (!s.upgrade) continue;
    for (const c of stepClusters(s, all)) if (!out.includes(c)) out.push(c);
  }
  for (const c of all) if (!out.includes(c)) out.push(c);
  return out;
}

/** One line per step, for Events and messages: "upgrade a,b to 50%", "gate error < 0.01". */
export function describeStep(s: ReleaseStep, all: readonly string[]): string {
  if (s.upgrade) {
    const where = s.upgrade.clusters ? stepClusters(s, all).join(',') : 'every cluster';
    return `upgrade ${where} to ${String(s.upgrade.replicas)}`;
  }
  if (s.gate) return `gate ${s.gate.query} ${s.gate.threshold.op} ${s.gate.threshold.value}`;
  if (s.pause?.manual) return 'pause until approved';
  return `pause ${s.pause?.seconds ?? 0}s`;
}
