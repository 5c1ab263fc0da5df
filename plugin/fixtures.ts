// Builders for the plugin's unit tests: a HotDeployment with the status the controller
// writes at a given point of a rollout, and its pods. Only tests import this file.
import type { V1Pod } from '@kubernetes/client-node';
import type { BatchStatus, Condition, HotDeployment, HotDeploymentStatus } from '../controller/api/types.ts';
import { ANNOTATIONS, LABELS } from '../controller/constants.ts';
import { makeHd } from '../controller/fixtures.ts';

export const V1 = 'registry.example.com/web:v1';
export const V2 = 'registry.example.com/web:v2';

export const cond = (type: string, status: Condition['status'], reason: string, message = ''): Condition => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: '2026-01-01T00:00:00Z',
});

/** The four conditions; override by type. */
export function conditions(
  o: { progressing?: string; paused?: string; degraded?: string } = {},
): Condition[] {
  const progressing = o.progressing ?? 'HotUpgrading';
  return [
    cond('Available', 'True', 'MinimumReplicasAvailable', '6/6 pods ready (at least 5 required)'),
    cond(
      'Progressing',
      progressing === 'ProgressDeadlineExceeded' ? 'False' : 'True',
      progressing,
      `progressing: ${progressing}`,
    ),
    cond(
      'Paused',
      o.paused ? 'True' : 'False',
      o.paused ?? 'NotPaused',
      o.paused ? `paused: ${o.paused}` : 'not paused',
    ),
    cond(
      'Degraded',
      o.degraded ? 'True' : 'False',
      o.degraded ?? 'Healthy',
      o.degraded ? `degraded: ${o.degraded}` : 'no failure',
    ),
  ];
}

export interface RolloutOptions {
  /** The spec's image (default V2). */
  image?: string;
  /** status.currentImage (default V1). */
  current?: string;
  replicas?: number;
  updated?: number;
  batch?: Partial<BatchStatus>;
  rolloutKind?: HotDeploymentStatus['rolloutKind'];
  conditions?: Condition[];
  paused?: boolean;
  generation?: number;
  /** observedGeneration (default: the generation). */
  observed?: number;
  annotations?: Record<string, string> | undefined;
  approved?: { revision: string; batch: number };
  /** No status at all (the controller has not seen the object). */
  noStatus?: boolean;
}

/** `web` in namespace `shop`, in the middle of a hot rollout from V1 to V2 unless told otherwise. */
export function rolloutHd(o: RolloutOptions = {}): HotDeployment {
  const replicas = o.replicas ?? 6;
  const generation = o.generation ?? 2;
  const hd = makeHd({ name: 'web', replicas, image: o.image ?? V2, generation });
  hd.metadata.namespace = 'shop';
  hd.metadata.resourceVersion = '100';
  if ('annotations' in o) {
    if (o.annotations) hd.metadata.annotations = o.annotations;
    else delete hd.metadata.annotations;
  }
  hd.spec.updateStrategy = {
    batches: [{ replicas: 2, pause: { manual: true } }, { replicas: '100%' }],
    ...(o.paused ? { paused: true } : {}),
    ...(o.approved ? { approved: o.approved } : {}),
  };
  if (o.noStatus) return hd;
  const updated = o.updated ?? 2;
  hd.status = {
    observedGeneration: o.observed ?? generation,
    replicas,
    readyReplicas: replicas,
    availableReplicas: replicas,
    updatedReplicas: updated,
    upgradingReplicas: 0,
    currentImage: o.current ?? V1,
    updateImage: o.image ?? V2,
    currentRevision: 'rev-1',
    updateRevision: 'rev-2',
    rolloutKind: o.rolloutKind ?? 'Hot',
    batch: { number: 1, total: 2, state: 'AwaitingApproval', target: 2, updated, ...o.batch },
    conditions: o.conditions ?? conditions({ paused: 'AwaitingApproval' }),
  };
  return hd;
}

/** A complete rollout: every pod at `image`. */
export function completeHd(image = V2, o: RolloutOptions = {}): HotDeployment {
  return rolloutHd({
    image,
    current: image,
    updated: 6,
    rolloutKind: 'None',
    batch: { number: 2, total: 2, state: 'Completed', target: 6, updated: 6 },
    conditions: conditions({ progressing: 'RolloutComplete' }),
    ...o,
  });
}

export interface PodOptions {
  ordinal: number;
  /** The image the pod serves. */
  image: string;
  ready?: boolean;
  /** An upgrade in flight to this image. */
  upgradingTo?: string;
  /** A failed handover of this image. */
  failed?: string;
  deleting?: boolean;
}

/** A pod of `web` as the controller builds it (slot a serves, slot b idles). */
export function makePod(o: PodOptions): V1Pod {
  const annotations: Record<string, string> = {
    [ANNOTATIONS.activeSlot]: 'a',
    [ANNOTATIONS.version('a')]: o.image.split(':').pop() ?? '',
    [ANNOTATIONS.version('b')]: '',
    [ANNOTATIONS.image]: o.image,
  };
  if (o.upgradingTo) {
    annotations[ANNOTATIONS.upgrade] = JSON.stringify({
      slot: 'b',
      from: 'a',
      image: o.upgradingTo,
      version: o.upgradingTo.split(':').pop(),
      containerID: '',
      restartCount: 0,
      startedAt: '2026-01-01T00:00:00Z',
    });
  }
  if (o.failed) {
    annotations[ANNOTATIONS.failed] = JSON.stringify({
      image: o.failed,
      reason: 'ImagePullFailed',
      message: 'not found',
      at: '2026-01-01T00:00:00Z',
    });
  }
  return {
    metadata: {
      name: `web-${o.ordinal}`,
      namespace: 'shop',
      labels: { [LABELS.hotDeployment]: 'web', [LABELS.ordinal]: String(o.ordinal) },
      annotations,
      ...(o.deleting ? { deletionTimestamp: new Date('2026-01-01T00:00:00Z') } : {}),
    },
    spec: {
      containers: [
        { name: 'app-a', image: o.image },
        { name: 'app-b', image: o.upgradingTo ?? 'hotupgrade.local/placeholder:1' },
      ],
    },
    status: { conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
  };
}
