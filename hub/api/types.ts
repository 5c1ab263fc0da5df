// The hub's API (hotupgrade.io/v1alpha1), as TypeScript: MemberCluster (a cluster the hub
// releases to) and HotRelease (one image rolled out over member clusters in steps). The
// CRD schemas in crd.ts describe the same shapes; crd.test.ts fails when the two drift
// apart. Everything a user does (approve, pause, resume, abort, roll back) is a change of
// spec; status is the hub controller's.
import type { V1LabelSelector, V1ObjectMeta } from '@kubernetes/client-node';
import type { Condition, IntOrPercent } from '../../controller/api/types.ts';
import type { GateState, ReleasePhase, ThresholdOp } from '../constants.ts';

export type { Condition, IntOrPercent };

// ---- MemberCluster ----------------------------------------------------------------------

/** A key of a Secret on the hub that holds a kubeconfig. */
export interface SecretKeyRef {
  /** Namespace of the Secret (the chart's hub RBAC reads Secrets in its own namespace only). */
  namespace: string;
  /** Name of the Secret. */
  name: string;
  /** Key in the Secret's data whose value is the kubeconfig; default "kubeconfig". */
  key?: string;
}

/** Where a Prometheus API answers (the base URL; the hub appends /api/v1/query). */
export interface PrometheusRef {
  /** http(s) URL, e.g. http://prometheus.monitoring:9090. */
  url: string;
}

export interface MemberClusterSpec {
  /** How to reach the cluster: a kubeconfig in a Secret on the hub. Exactly one of this and inCluster. */
  kubeconfigSecretRef?: SecretKeyRef;
  /** true: the cluster is the hub itself, reached with the hub controller's own ServiceAccount. */
  inCluster?: boolean;
  /** The Prometheus of this cluster, for gates that name none of their own. */
  prometheus?: PrometheusRef;
}

export interface MemberClusterStatus {
  /** The metadata.generation this status describes. */
  observedGeneration?: number;
  /** The member's Kubernetes version (its /version gitVersion, e.g. "v1.36.5"), from the last successful probe. */
  kubernetesVersion?: string;
  /** The version of the hotupgrade operator there (the image tag of its controller), from the last successful probe. */
  operatorVersion?: string;
  /** When the hub last probed the cluster, successfully or not (RFC 3339). */
  lastProbeTime?: string;
  /** Reachable, with the probe's error as its message when False. */
  conditions?: Condition[];
}

export interface MemberCluster {
  apiVersion: 'hotupgrade.io/v1alpha1';
  kind: 'MemberCluster';
  /** Cluster-scoped; the labels select the cluster for HotRelease.spec.clusters.selector. */
  metadata: V1ObjectMeta;
  spec: MemberClusterSpec;
  status?: MemberClusterStatus;
}

// ---- HotRelease -------------------------------------------------------------------------

/** The HotDeployment a release upgrades: the same name and namespace in every member cluster. */
export interface ReleaseTarget {
  /** Name of the HotDeployment. */
  name: string;
  /** Its namespace in every member cluster; the HotRelease's own namespace when absent. */
  namespace?: string;
}

/** The member clusters of a release: exactly one of names and selector. */
export interface ReleaseClusters {
  /** MemberCluster names. */
  names?: string[];
  /** MemberClusters by label; {} selects every member cluster. */
  selector?: V1LabelSelector;
}

export interface UpgradeStep {
  /** The clusters this step upgrades (MemberCluster names); every cluster of the release when absent. */
  clusters?: string[];
  /** Cumulative, per cluster: pods at spec.image once the step is done (count, or percent of the target's spec.replicas there, rounded up). */
  replicas: IntOrPercent;
}

export interface PauseStep {
  /** A timed pause, in seconds. */
  seconds?: number;
  /** true: wait until spec.approved.step reaches the next step. */
  manual?: boolean;
}

export interface Threshold {
  /** The gate's evaluation passes when `value <op> threshold.value`. */
  op: ThresholdOp;
  /** The bound, in the unit of the query's result (e.g. 0.01 for an error ratio of 1 %). */
  value: number;
}

export interface GateStep {
  /** A PromQL instant query that returns one number; $cluster stands for the member cluster's name. */
  query: string;
  threshold: Threshold;
  /** Seconds between evaluations; default 60. */
  intervalSeconds?: number;
  /** Failed evaluations (in total) that fail the gate, and the release; default 1. */
  failureLimit?: number;
  /** Passed evaluations in a row that pass the gate; default 1. */
  samples?: number;
  /** The clusters the query is evaluated for (MemberCluster names); every cluster of the release when absent. */
  clusters?: string[];
  /** The Prometheus to ask; else the member's spec.prometheus, else the release's spec.prometheus. */
  prometheus?: PrometheusRef;
}

/** One step of a release: exactly one of upgrade, pause and gate. */
export interface ReleaseStep {
  upgrade?: UpgradeStep;
  pause?: PauseStep;
  gate?: GateStep;
}

export interface ReleaseApproval {
  /** Steps up to and including this number (1-based) may start; never lowered. */
  step: number;
}

export interface HotReleaseSpec {
  /** The HotDeployment to upgrade in every member cluster. Immutable. */
  target: ReleaseTarget;
  /** The new hot image. Immutable: another image is another HotRelease. */
  image: string;
  /** The member clusters to upgrade. */
  clusters: ReleaseClusters;
  /** The plan, in order (at most 50); an upgrade step must take every cluster to "100%". */
  steps: ReleaseStep[];
  /** The Prometheus of gates whose clusters name none (global default). */
  prometheus?: PrometheusRef;
  /** On a failed gate or a passed progress deadline, hot-upgrade every cluster back to its previous image. Default false. */
  autoRollback?: boolean;
  /** An upgrade step that makes no progress for this long fails the release, in seconds; default 600. */
  progressDeadlineSeconds?: number;
  /** true: start nothing new (upgrades in flight in the members finish). Default false. */
  paused?: boolean;
  /** Approves manual pauses. */
  approved?: ReleaseApproval;
  /** true: stop for good, leaving every pod at the version it runs. Cannot be undone. Default false. */
  abort?: boolean;
  /** true: hot-upgrade every cluster back to its previous image. Cannot be undone. Default false. */
  rollback?: boolean;
}

/** The target HotDeployment in one member cluster. */
export interface ClusterProgress {
  /** The MemberCluster's name. */
  name: string;
  /** Pods the target runs there (its status.replicas). */
  replicas?: number;
  /** Pods at spec.image there (its status.updatedReplicas once it asks for spec.image). */
  updated?: number;
  /** Ready pods there (its status.readyReplicas). */
  ready?: number;
  /** Cumulative pods at spec.image the current step aims for there. */
  target?: number;
  /** The hot image the target asks for there now (its status.updateImage). */
  image?: string;
  /** The version of that image (its tag, or the first 12 hex digits of its digest), as the controller's metrics name it. */
  version?: string;
  /** The hot image the target ran before this release: what a rollback restores. */
  previousImage?: string;
  /** The member answered the last probe. */
  reachable?: boolean;
  /** What is wrong there, if anything (unreachable, no such HotDeployment, a handover failed). */
  message?: string;
}

/** One evaluation of a gate's query for one cluster. */
export interface GateResult {
  /** The MemberCluster the query was evaluated for. */
  cluster: string;
  /** The query's result; absent when it returned no single number (error, no data, several series). */
  value?: number;
  /** value <op> threshold held. */
  passed: boolean;
  /** When the query was evaluated (RFC 3339). */
  at: string;
  /** Why there is no value, if there is none. */
  message?: string;
}

/** A gate step's evaluations. */
export interface GateStatus {
  /** The gate's step number (1-based). */
  step: number;
  state: GateState;
  /** The last evaluation: one result per cluster; a round passes when every result passed. */
  results?: GateResult[];
  /** Failed rounds in total; failureLimit of them fail the gate. */
  failures?: number;
  /** Passed rounds in a row; samples of them pass the gate. */
  successes?: number;
}

export interface HotReleaseStatus {
  /** The metadata.generation this status describes. */
  observedGeneration?: number;
  phase?: ReleasePhase;
  /** 1-based number of the step running or waiting (spec.approved.step counts the same way); absent before the first. */
  currentStep?: number;
  /** When the current step started (RFC 3339); timed pauses and gate intervals count from here. */
  stepStartedAt?: string;
  /** When an upgrade last moved in a member (RFC 3339); spec.progressDeadlineSeconds counts from here. */
  lastProgressTime?: string;
  /** When the first step started (RFC 3339). */
  startedAt?: string;
  /** When the release reached a final phase (RFC 3339). */
  completedAt?: string;
  /** Per member cluster: the target's progress there. */
  clusters?: ClusterProgress[];
  /** Per gate step: its evaluations. */
  gates?: GateStatus[];
  /** Progressing, Paused, Degraded and Reachable. */
  conditions?: Condition[];
}

export interface HotRelease {
  apiVersion: 'hotupgrade.io/v1alpha1';
  kind: 'HotRelease';
  metadata: V1ObjectMeta;
  spec: HotReleaseSpec;
  status?: HotReleaseStatus;
}
