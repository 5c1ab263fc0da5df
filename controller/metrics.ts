// hotupgrade_* metrics: what a release looks like from Prometheus. Generic controller
// metrics (reconciles, work queue, leader, REST client) live in kube/metrics.ts under
// controller-runtime's names. Label values are bounded: HotDeployments that exist, a
// fixed set of phases, states, condition types and failure reasons, and the versions
// their pods run. Every series a dashboard or alert reads (monitoring/) exists at 0 from
// the first reconcile of its HotDeployment, so rate() and increase() see the first event.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Condition, HotDeploymentStatus } from './api/types.ts';
import { CONDITIONS } from './constants.ts';
import type { HandoverFailure } from './handover.ts';
import type { HandoverOutcome } from './plan.ts';

export const PHASES = [
  'Complete',
  'HotUpgrading',
  'Recreating',
  'Scaling',
  'Paused',
  'AwaitingApproval',
  'Degraded',
  'RolledBack',
] as const;
export type Phase = (typeof PHASES)[number];

/** Every failure reason of a handover (the `reason` label of hotupgrade_handovers_total). */
export const HANDOVER_FAILURES = [
  'ImagePullFailed',
  'StartFailed',
  'Crashed',
  'HandoverDeadlineExceeded',
] as const satisfies readonly HandoverFailure[];
// A reason added to HandoverFailure but not listed above fails the type check here.
const _allFailuresListed: [Exclude<HandoverFailure, (typeof HANDOVER_FAILURES)[number]>] extends [never]
  ? true
  : never = true;

/** The `status` label of hotupgrade_rollout_condition: metav1.ConditionStatus, as kube-state-metrics does. */
export const CONDITION_STATUSES = [
  'True',
  'False',
  'Unknown',
] as const satisfies readonly Condition['status'][];
const CONDITION_TYPES = Object.values(CONDITIONS);

export function phaseOf(s: HotDeploymentStatus): Phase {
  const c = (t: string) => s.conditions?.find((x) => x.type === t);
  const degraded = c(CONDITIONS.degraded);
  if (degraded?.status === 'True') return degraded.reason === 'RolledBack' ? 'RolledBack' : 'Degraded';
  const paused = c(CONDITIONS.paused);
  if (paused?.status === 'True') return paused.reason === 'AwaitingApproval' ? 'AwaitingApproval' : 'Paused';
  switch (c(CONDITIONS.progressing)?.reason) {
    case 'HotUpgrading':
      return 'HotUpgrading';
    case 'RecreatingPods':
      return 'Recreating';
    case 'Scaling':
      return 'Scaling';
    default:
      return 'Complete';
  }
}

export interface DomainMetrics {
  handover(namespace: string, name: string, o: HandoverOutcome): void;
  rollback(namespace: string, name: string): void;
  /** After each reconcile: the HotDeployment's status and its pods' versions. */
  observe(namespace: string, name: string, s: HotDeploymentStatus, versions: Map<string, number>): void;
  /** The HotDeployment is gone: drop its series. */
  forget(namespace: string, name: string): void;
}

export function createDomainMetrics(registry: Registry): DomainMetrics {
  const registers = [registry];
  const duration = new Histogram({
    name: 'hotupgrade_pod_upgrade_duration_seconds',
    help: 'Time from patching the placeholder slot to the pod proving the new version serves (or failing), in seconds',
    labelNames: ['result'],
    buckets: [0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120, 300],
    registers,
  });
  for (const result of ['succeeded', 'failed']) duration.zero({ result });
  const handovers = new Counter({
    name: 'hotupgrade_handovers_total',
    help: 'Pod hot upgrades finished, per HotDeployment, by result and failure reason (none for successes)',
    labelNames: ['namespace', 'name', 'result', 'reason'],
    registers,
  });
  const rollbacks = new Counter({
    name: 'hotupgrade_rollbacks_total',
    help: 'Automatic rollbacks the controller made',
    labelNames: ['namespace', 'name'],
    registers,
  });
  const phase = new Gauge({
    name: 'hotupgrade_rollout_phase',
    help: 'The phase of each HotDeployment rollout (1 for the current phase, 0 otherwise)',
    labelNames: ['namespace', 'name', 'phase'],
    registers,
  });
  const pods = new Gauge({
    name: 'hotupgrade_pods',
    help: 'Pods of each HotDeployment by state: desired (spec), current (exist), ready, updated (new version), upgrading (mid handover)',
    labelNames: ['namespace', 'name', 'state'],
    registers,
  });
  const byVersion = new Gauge({
    name: 'hotupgrade_pods_by_version',
    help: 'Pods of each HotDeployment by the version they serve',
    labelNames: ['namespace', 'name', 'version'],
    registers,
  });
  const batch = new Gauge({
    name: 'hotupgrade_batch',
    help: 'Batch progress of each HotDeployment rollout: number (current, 1-based), total, target (pods at the new version the batch aims for), updated',
    labelNames: ['namespace', 'name', 'field'],
    registers,
  });
  const condition = new Gauge({
    name: 'hotupgrade_rollout_condition',
    help: 'The status of each condition of each HotDeployment (1 for the current status, 0 for the others), like kube_deployment_status_condition',
    labelNames: ['namespace', 'name', 'type', 'status'],
    registers,
  });
  const handoverLabels = [
    { result: 'succeeded', reason: 'none' },
    ...HANDOVER_FAILURES.map((reason) => ({ result: 'failed', reason })),
  ];
  const versionsSeen = new Map<string, Set<string>>();
  /** HotDeployments whose counters exist (at 0 or more). */
  const known = new Set<string>();
  const zeroCounters = (namespace: string, name: string): void => {
    const key = `${namespace}/${name}`;
    if (known.has(key)) return;
    known.add(key);
    for (const l of handoverLabels) handovers.inc({ namespace, name, ...l }, 0);
    rollbacks.inc({ namespace, name }, 0);
  };
  return {
    handover(namespace, name, o) {
      zeroCounters(namespace, name);
      duration.observe({ result: o.result }, o.durationMs / 1000);
      handovers.inc({ namespace, name, result: o.result, reason: o.reason ?? 'none' });
    },
    rollback(namespace, name) {
      zeroCounters(namespace, name);
      rollbacks.inc({ namespace, name });
    },
    observe(namespace, name, s, versions) {
      zeroCounters(namespace, name);
      const key = `${namespace}/${name}`;
      const current = phaseOf(s);
      for (const p of PHASES) phase.set({ namespace, name, phase: p }, p === current ? 1 : 0);
      const states: [string, number | undefined][] = [
        ['current', s.replicas],
        ['ready', s.readyReplicas],
        ['updated', s.updatedReplicas],
        ['upgrading', s.upgradingReplicas],
      ];
      for (const [state, v] of states) pods.set({ namespace, name, state }, v ?? 0);
      for (const type of CONDITION_TYPES) {
        const status = s.conditions?.find((c) => c.type === type)?.status;
        for (const st of CONDITION_STATUSES)
          condition.set({ namespace, name, type, status: st }, st === status ? 1 : 0);
      }
      const seen = versionsSeen.get(key) ?? new Set<string>();
      for (const v of seen) if (!versions.has(v)) byVersion.remove({ namespace, name, version: v });
      for (const [version, n] of versions) byVersion.set({ namespace, name, version }, n);
      versionsSeen.set(key, new Set(versions.keys()));
      const b = s.batch;
      batch.set({ namespace, name, field: 'number' }, b?.number ?? 0);
      batch.set({ namespace, name, field: 'total' }, b?.total ?? 0);
      batch.set({ namespace, name, field: 'target' }, b?.target ?? 0);
      batch.set({ namespace, name, field: 'updated' }, b?.updated ?? 0);
    },
    forget(namespace, name) {
      const key = `${namespace}/${name}`;
      for (const p of PHASES) phase.remove({ namespace, name, phase: p });
      for (const state of ['current', 'ready', 'updated', 'upgrading'])
        pods.remove({ namespace, name, state });
      for (const v of versionsSeen.get(key) ?? []) byVersion.remove({ namespace, name, version: v });
      for (const field of ['number', 'total', 'target', 'updated']) batch.remove({ namespace, name, field });
      for (const type of CONDITION_TYPES)
        for (const status of CONDITION_STATUSES) condition.remove({ namespace, name, type, status });
      for (const l of handoverLabels) handovers.remove({ namespace, name, ...l });
      rollbacks.remove({ namespace, name });
      versionsSeen.delete(key);
      known.delete(key);
    },
  };
}
