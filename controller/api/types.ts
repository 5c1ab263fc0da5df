// The HotDeployment API (hotupgrade.io/v1alpha1), as TypeScript. The CRD schema in
// crd.ts describes the same shape; crd.test.ts fails when the two drift apart.
import type { V1LabelSelector, V1ObjectMeta, V1PodTemplateSpec } from '@kubernetes/client-node';

/** A count of pods, or a percentage of spec.replicas ("25%"). */
export type IntOrPercent = number | string;

export type HotMode = 'slot' | 'binary';

export interface BatchPause {
  /** Timed pause after the batch, in seconds. */
  seconds?: number;
  /** Wait until the batch after this one is approved (spec.updateStrategy.approved). */
  manual?: boolean;
}

export interface Batch {
  /** Cumulative: how many pods run the new version once this batch is done (count or percent of replicas). */
  replicas: IntOrPercent;
  /** What to do once the batch is done; no pause when absent. */
  pause?: BatchPause;
}

export interface Approval {
  /** status.updateRevision the approval is for: an approval never carries over to another rollout. */
  revision: string;
  /** Batches up to this number (1-based) may start. */
  batch: number;
}

export interface UpdateStrategy {
  /** Pods kept at the old version: ordinals below this number are never hot-upgraded or recreated. */
  partition?: number;
  /** Pods that may be unavailable (upgrading, recreating or not ready) at once; default 25%. */
  maxUnavailable?: IntOrPercent;
  /** Batches of a hot upgrade; one batch of all pods when absent. */
  batches?: Batch[];
  /** Stop starting new pod upgrades; pods mid-handover finish. */
  paused?: boolean;
  /** Approves manual pauses for one rollout. */
  approved?: Approval;
  /** A rollout that makes no progress for this long is Degraded, in seconds; default 600. */
  progressDeadlineSeconds?: number;
  /** On a failed handover or a passed deadline, hot-upgrade every pod back to the previous image. */
  autoRollback?: boolean;
}

export interface SharedMemory {
  /** Size limit of the memory-backed emptyDir mounted at /dev/shm in both slots (a quantity, e.g. "1Gi"). */
  sizeLimit?: string;
}

export interface HotDeploymentSpec {
  replicas?: number;
  selector: V1LabelSelector;
  template: V1PodTemplateSpec;
  /** Name of the container in the template that is hot-upgraded. Immutable. */
  hotContainer: string;
  /** slot (default): the placeholder slot runs the new image and takes over; binary: it stages binaries for the launcher. */
  mode?: HotMode;
  /** Image the idle slot runs; the controller's --placeholder-image when absent. */
  placeholderImage?: string;
  /** How long a new version may take from its start to serving, in seconds; default 60. */
  handoverDeadlineSeconds?: number;
  sharedMemory?: SharedMemory;
  updateStrategy?: UpdateStrategy;
}

/** metav1.Condition as it travels in JSON (times are RFC 3339 strings, second precision). */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

export type BatchState = 'Upgrading' | 'Paused' | 'AwaitingApproval' | 'Completed';

export interface BatchStatus {
  /** 1-based number of the current batch. */
  number: number;
  /** How many batches the rollout has (including the implicit last one). */
  total: number;
  state: BatchState;
  /** Cumulative pods at the new version this batch aims for. */
  target: number;
  /** Pods at the new version now. */
  updated: number;
  /** When the pause after this batch began (RFC 3339). */
  pauseStartedAt?: string;
  /** When a timed pause ends (RFC 3339). */
  pauseEndsAt?: string;
}

export interface HotDeploymentStatus {
  observedGeneration?: number;
  /** Pods that exist. */
  replicas?: number;
  /** Pods whose Ready condition is true. */
  readyReplicas?: number;
  /** Ready pods, counted as in a Deployment (an HPA reads this through the scale subresource too). */
  availableReplicas?: number;
  /** Pods at the update revision (template and hot image). */
  updatedReplicas?: number;
  /** Pods mid hot upgrade. */
  upgradingReplicas?: number;
  /** The hot image most pods ran before the rollout. */
  currentImage?: string;
  /** The hot image the spec asks for. */
  updateImage?: string;
  currentRevision?: string;
  updateRevision?: string;
  /** How the current rollout changes pods: none, hot (in place) or recreate. */
  rolloutKind?: 'None' | 'Hot' | 'Recreate';
  batch?: BatchStatus;
  /** Last time the rollout moved (a pod started, finished, was created or deleted), RFC 3339; the progress deadline counts from here. */
  lastProgressTime?: string;
  /** The scale subresource's label selector (string form). */
  selector?: string;
  conditions?: Condition[];
}

export interface HotDeployment {
  apiVersion: 'hotupgrade.io/v1alpha1';
  kind: 'HotDeployment';
  metadata: V1ObjectMeta;
  spec: HotDeploymentSpec;
  status?: HotDeploymentStatus;
}
