// Every name the hub (HotRelease across member clusters, issue #6) and its users agree on,
// in one place: kinds, phases, condition types and reasons, event reasons. The API group
// and version are the HotDeployment's (controller/constants.ts).
import { API_VERSION, GROUP, VERSION } from '../controller/constants.ts';

export { API_VERSION, GROUP, VERSION };

export const MEMBER_CLUSTER = {
  kind: 'MemberCluster',
  plural: 'memberclusters',
  singular: 'membercluster',
  shortNames: ['mc'],
} as const;

export const HOT_RELEASE = {
  kind: 'HotRelease',
  plural: 'hotreleases',
  singular: 'hotrelease',
  // `hr` is Flux's HelmRelease too: `hotrel` is unambiguous on a hub that runs Flux.
  shortNames: ['hr', 'hotrel'],
} as const;

/** The key of MemberCluster.spec.kubeconfigSecretRef when it names none. */
export const DEFAULT_KUBECONFIG_KEY = 'kubeconfig';

/**
 * HotRelease.status.phase. Pending: not started (members not probed yet). Progressing:
 * upgrading, in a timed pause or evaluating a gate. Paused: spec.paused, or a manual pause
 * waiting for spec.approved. The last four are final.
 */
export const RELEASE_PHASES = [
  'Pending',
  'Progressing',
  'Paused',
  'Succeeded',
  'Failed',
  'RolledBack',
  'Aborted',
] as const;
export type ReleasePhase = (typeof RELEASE_PHASES)[number];

/** HotRelease.spec.steps[].gate.threshold.op: the gate passes when `value <op> threshold`. */
export const THRESHOLD_OPS = ['<', '<=', '>', '>='] as const;
export type ThresholdOp = (typeof THRESHOLD_OPS)[number];

/** HotRelease.status.gates[].state. */
export const GATE_STATES = ['Evaluating', 'Passed', 'Failed'] as const;
export type GateState = (typeof GATE_STATES)[number];

/**
 * In a gate's query, the name of the member cluster it is evaluated for, so that one
 * Prometheus holding every cluster's series (Thanos, Mimir) answers for each.
 */
export const CLUSTER_VARIABLE = '$cluster';

export const CONDITIONS = {
  /** MemberCluster: the last probe reached its API server. HotRelease: every cluster of the release did. */
  reachable: 'Reachable',
  progressing: 'Progressing',
  paused: 'Paused',
  degraded: 'Degraded',
} as const;

export const REASONS = {
  // Reachable
  probeSucceeded: 'ProbeSucceeded',
  probeFailed: 'ProbeFailed',
  kubeconfigInvalid: 'KubeconfigInvalid',
  clustersUnreachable: 'ClustersUnreachable',
  // Progressing
  upgrading: 'Upgrading',
  evaluatingGate: 'EvaluatingGate',
  releaseComplete: 'ReleaseComplete',
  progressDeadlineExceeded: 'ProgressDeadlineExceeded',
  rollingBack: 'RollingBack',
  // Paused
  pausedBySpec: 'PausedBySpec',
  awaitingApproval: 'AwaitingApproval',
  stepPaused: 'StepPaused',
  notPaused: 'NotPaused',
  // Degraded
  gateFailed: 'GateFailed',
  memberDegraded: 'MemberDegraded',
  targetNotFound: 'TargetNotFound',
  rolledBack: 'RolledBack',
  aborted: 'Aborted',
  invalidSpec: 'InvalidSpec',
  healthy: 'Healthy',
} as const;

/** Event reasons on a HotRelease (Normal unless noted). */
export const EVENTS = {
  stepStarted: 'StepStarted',
  stepCompleted: 'StepCompleted',
  awaitingApproval: 'AwaitingApproval',
  gatePassed: 'GatePassed',
  gateFailed: 'GateFailed', // Warning
  releaseSucceeded: 'ReleaseSucceeded',
  releaseFailed: 'ReleaseFailed', // Warning
  rolledBack: 'RolledBack', // Warning
  aborted: 'Aborted', // Warning
  clusterUnreachable: 'ClusterUnreachable', // Warning
} as const;
