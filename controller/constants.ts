// Every name the controller and the pods it builds agree on, in one place: the API group,
// label and annotation keys, container and volume names, condition types and reasons.
// docs/controller.md describes the pod layout these names make up.
import { ENV, DEFAULTS as PROTOCOL_DEFAULTS } from '../sdk/constants.ts';

export const GROUP = 'hotupgrade.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'HotDeployment';
export const PLURAL = 'hotdeployments';

/** The two slots of every managed pod. */
export const SLOTS = ['a', 'b'] as const;
export type SlotName = (typeof SLOTS)[number];

export const LABELS = {
  /** On every managed pod: the owning HotDeployment's name (the controller's pod selector). */
  hotDeployment: `${GROUP}/hotdeployment`,
  /** Hash of everything in the pod spec but the hot image: a different hash means recreate. */
  templateHash: `${GROUP}/template-hash`,
  /** The pod's ordinal, also the suffix of its name. */
  ordinal: `${GROUP}/ordinal`,
} as const;

export const ANNOTATIONS = {
  /** HOTUPGRADE_VERSION of slot <slot> reads this through the downward API ('' for the placeholder). */
  version: (slot: SlotName): string => `${GROUP}/version-${slot}`,
  /** HOTUPGRADE_ACTIVE_SLOT reads this: the slot that serves when no handover is in flight. */
  activeSlot: `${GROUP}/active-slot`,
  /** JSON InFlight: a hot upgrade this pod is going through (set and cleared by the controller). */
  upgrade: `${GROUP}/upgrade`,
  /** JSON FailedHandover: the last image that failed a handover here; blocks that image on this pod. */
  failed: `${GROUP}/failed`,
  /** On a HotDeployment the controller rolled back: JSON {from, to, reason, at}. */
  rollback: `${GROUP}/rollback`,
  /** On a pod: the image it serves (binary mode runs a staged version the slot images do not show). */
  image: `${GROUP}/image`,
} as const;

export const NAMES = {
  sidecar: 'hotupgrade-sidecar',
  sharedVolume: 'hotupgrade',
  shmVolume: 'hotupgrade-shm',
  sidecarPortName: 'hu-sidecar',
  /** Slot container of the hot container `app` and slot `a`: `app-a`. */
  slotContainer: (hot: string, slot: SlotName): string => `${hot}-${slot}`,
} as const;

export const POD_DEFAULTS = {
  sharedDir: PROTOCOL_DEFAULTS.dir,
  shmDir: PROTOCOL_DEFAULTS.shmDir,
  sidecarPort: 9901,
  /** Slot readiness probe period, in s (the Kubernetes minimum). */
  slotProbePeriodSeconds: 1,
  /**
   * How long the sidecar holds a not-ready answer of the slot probe, waiting for the slot to
   * settle, in ms: a handover is seen within ~20 ms instead of at the next probe, up to a
   * second later. Below the probe's timeout, so a probe never times out because of it.
   */
  slotProbeWaitMs: 1500,
  slotProbeTimeoutSeconds: 2,
  /**
   * HOTUPGRADE_SHUTDOWN_DELAY_MS of the slots: on SIGTERM while serving, serve on this long
   * before draining, in ms. An EndpointSlice change reaches kube-proxy within about a second
   * (its iptables min sync period); 3 s covers it on a busy node.
   */
  shutdownDelayMs: 3000,
} as const;

/** Sidecar path that answers 200 when slot <slot> is settled in its role (see docs/controller.md). */
export const slotReadyPath = (slot: SlotName): string => `/v1/slots/${slot}/ready`;

/** The slot probe's path: slotReadyPath with the wait that makes the probe answer when the slot settles. */
export const slotProbePath = (slot: SlotName): string =>
  `${slotReadyPath(slot)}?waitMs=${POD_DEFAULTS.slotProbeWaitMs}`;

export { ENV };

export const CONDITIONS = {
  available: 'Available',
  progressing: 'Progressing',
  paused: 'Paused',
  degraded: 'Degraded',
} as const;

export const REASONS = {
  minimumReplicasAvailable: 'MinimumReplicasAvailable',
  minimumReplicasUnavailable: 'MinimumReplicasUnavailable',
  hotUpgrading: 'HotUpgrading',
  recreating: 'RecreatingPods',
  scaling: 'Scaling',
  rolloutComplete: 'RolloutComplete',
  batchPaused: 'BatchPaused',
  awaitingApproval: 'AwaitingApproval',
  pausedBySpec: 'PausedBySpec',
  notPaused: 'NotPaused',
  handoverFailed: 'HandoverFailed',
  progressDeadlineExceeded: 'ProgressDeadlineExceeded',
  rolledBack: 'RolledBack',
  healthy: 'Healthy',
  invalidSpec: 'InvalidSpec',
} as const;

/** Event reasons (Normal unless noted). No event per successful pod upgrade: at 10,000 pods that is 10,000 writes. */
export const EVENTS = {
  handoverFailed: 'HandoverFailed', // Warning, on the pod
  batchCompleted: 'BatchCompleted',
  awaitingApproval: 'AwaitingApproval',
  rolloutComplete: 'RolloutComplete',
  rolledBack: 'RolledBack', // Warning
} as const;

export const FIELD_MANAGER = 'hotupgrade-controller';
