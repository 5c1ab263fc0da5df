// What `status` shows of a HotDeployment and its pods, as data (`-o json` prints it as is;
// render.ts turns it into lines), and the words for what a rollout is doing. Pure.
import { hotContainerOf } from '../controller/jsonPatch.ts';
import type { V1Pod } from '@kubernetes/client-node';
import type { BatchStatus, Condition, HotDeployment } from '../controller/api/types.ts';
import { CONDITIONS, REASONS } from '../controller/constants.ts';
import { sameImage, versionOf } from '../controller/images.ts';
import { viewPod } from '../controller/podView.ts';

/**
 * Where a rollout stands, for a watch to stop on. pending: the controller has not written
 * a status for the latest spec; progressing: pods are moving (or held by a pause);
 * complete: every pod in range runs the spec (Progressing/RolloutComplete); degraded:
 * Degraded is True (a failed handover, a passed deadline, a rollback).
 */
export type Outcome = 'pending' | 'progressing' | 'complete' | 'degraded';

export interface PodGroup {
  /** The image the pods serve. */
  image: string;
  version: string;
  pods: number;
  ready: number;
}

export interface PodUpgrade {
  pod: string;
  /** Version the pod served when its upgrade started. */
  from: string;
  /** Version it is upgrading to. */
  to: string;
  /** RFC 3339. */
  startedAt: string;
}

export interface PodFailure {
  pod: string;
  image: string;
  reason: string;
  message: string;
}

export interface StatusSummary {
  kind: 'HotDeployment';
  namespace: string;
  name: string;
  generation: number;
  /** The generation the status describes; below `generation` while the controller catches up. */
  observedGeneration: number | undefined;
  hotContainer: string;
  /** The hot container's image in the spec, and its version (the tag). */
  image: string;
  version: string;
  /** The image most pods ran before the rollout (status.currentImage). */
  currentImage: string | undefined;
  rolloutKind: 'None' | 'Hot' | 'Recreate' | undefined;
  /** spec.updateStrategy.paused. */
  paused: boolean;
  replicas: { desired: number; current: number; ready: number; updated: number; upgrading: number };
  /** Pods the rollout changes: spec.replicas - partition. */
  inRange: number;
  batch: BatchStatus | undefined;
  conditions: Condition[];
  /** Pods by the image they serve, the spec's image first. */
  pods: PodGroup[];
  /** Pods being deleted. */
  terminating: number;
  upgrading: PodUpgrade[];
  /** Pods where the spec's image failed its handover. */
  failures: PodFailure[];
  outcome: Outcome;
  /** What the user may want to do next (a command line), when anything. */
  next: string | undefined;
}

/** The hot container of the spec: its index in the template and its image. */
export { hotContainerOf };

export function conditionOf(hd: HotDeployment, type: string): Condition | undefined {
  return hd.status?.conditions?.find((c) => c.type === type);
}

const isTrue = (c: Condition | undefined): boolean => c?.status === 'True';

/** The status describes the latest spec. */
export function observed(hd: HotDeployment): boolean {
  return hd.status !== undefined && hd.status.observedGeneration === (hd.metadata.generation ?? 0);
}

export function outcomeOf(hd: HotDeployment): Outcome {
  if (!observed(hd)) return 'pending';
  if (isTrue(conditionOf(hd, CONDITIONS.degraded))) return 'degraded';
  const p = conditionOf(hd, CONDITIONS.progressing);
  if (isTrue(p) && p?.reason === REASONS.rolloutComplete) return 'complete';
  return 'progressing';
}

/** `-n NS` of a command line the user can paste. */
const ref = (hd: HotDeployment): string =>
  `hd/${hd.metadata.name ?? ''} -n ${hd.metadata.namespace ?? 'default'}`;

/** What the rollout is doing, in words that complete "hotdeployment/web is ...". */
export function describeState(hd: HotDeployment): string {
  const s = hd.status;
  if (!s)
    return 'without a status: the controller has not seen it yet (is the hotupgrade controller running?)';
  if (!observed(hd)) {
    return `not yet observed at generation ${hd.metadata.generation ?? 0} (the status is of generation ${s.observedGeneration ?? 0}; the controller is catching up)`;
  }
  const degraded = conditionOf(hd, CONDITIONS.degraded);
  if (isTrue(degraded)) return `degraded (${degraded?.reason ?? ''}): ${degraded?.message ?? ''}`;
  if (hd.spec.updateStrategy?.paused) return 'paused by spec.updateStrategy.paused';
  const b = s.batch;
  const version = versionOf(s.updateImage ?? '');
  switch (s.rolloutKind) {
    case 'Recreate':
      return 'recreating pods for a template change other than the hot image (batches and approvals apply to hot upgrades only)';
    case 'Hot':
      if (!b) return 'hot-upgrading';
      if (b.state === 'AwaitingApproval') return `awaiting approval of batch ${b.number + 1}/${b.total}`;
      if (b.state === 'Paused') {
        return `in the timed pause after batch ${b.number}/${b.total}; batch ${b.number + 1} starts at ${b.pauseEndsAt ?? 'the end of the pause'}`;
      }
      return `upgrading batch ${b.number}/${b.total}: ${b.updated}/${b.target} pods at ${version}`;
    default: {
      const p = conditionOf(hd, CONDITIONS.progressing);
      if (p?.reason === REASONS.scaling) return `scaling: ${p.message}`;
      return `not rolling out: all ${s.updatedReplicas ?? 0} pods run ${s.updateImage ?? ''}`;
    }
  }
}

/** The command the user most likely runs next, when the rollout waits for them. */
export function nextStep(hd: HotDeployment): string | undefined {
  if (!observed(hd)) return undefined;
  const s = hd.status;
  const degraded = conditionOf(hd, CONDITIONS.degraded);
  if (isTrue(degraded)) {
    // A rollback is done already; an invalid spec needs the edit its message names.
    if (degraded?.reason === REASONS.rolledBack || degraded?.reason === REASONS.invalidSpec) return undefined;
    return `go back to ${s?.currentImage ?? 'the previous image'} with: kubectl hotupgrade abort ${ref(hd)} (or set a fixed image with upgrade)`;
  }
  if (hd.spec.updateStrategy?.paused) return `resume with: kubectl hotupgrade resume ${ref(hd)}`;
  const b = s?.batch;
  if (s?.rolloutKind === 'Hot' && b?.state === 'AwaitingApproval') {
    return `approve batch ${b.number + 1}/${b.total} with: kubectl hotupgrade approve ${ref(hd)}`;
  }
  return undefined;
}

export function summarize(hd: HotDeployment, pods: readonly V1Pod[]): StatusSummary {
  const name = hd.metadata.name ?? '';
  const hot = hotContainerOf(hd);
  const image = hot?.image ?? '';
  const s = hd.status;
  const views = pods
    .map((p) => viewPod(p, name, hd.spec.hotContainer))
    .filter((v): v is NonNullable<typeof v> => v !== null);
  const live = views.filter((v) => !v.deleting);
  const groups = new Map<string, PodGroup>();
  for (const v of live) {
    const img = v.image ?? 'unknown';
    const g = groups.get(img) ?? { image: img, version: versionOf(img), pods: 0, ready: 0 };
    g.pods++;
    if (v.ready) g.ready++;
    groups.set(img, g);
  }
  const podGroups = [...groups.values()].sort(
    (a, b) =>
      Number(sameImage(b.image, image)) - Number(sameImage(a.image, image)) ||
      b.pods - a.pods ||
      a.image.localeCompare(b.image),
  );
  const upgrading = live
    .filter((v) => v.inFlight)
    .map((v) => ({
      pod: v.name,
      from: versionOf(v.slots[v.inFlight?.from ?? 'a'].image ?? ''),
      to: v.inFlight?.version ?? '',
      startedAt: v.inFlight?.startedAt ?? '',
    }))
    .sort((a, b) => a.pod.localeCompare(b.pod, undefined, { numeric: true }));
  const failures = live
    .filter((v) => v.failed && sameImage(v.failed.image, image))
    .map((v) => ({
      pod: v.name,
      image: v.failed?.image ?? '',
      reason: v.failed?.reason ?? '',
      message: v.failed?.message ?? '',
    }))
    .sort((a, b) => a.pod.localeCompare(b.pod, undefined, { numeric: true }));
  const desired = hd.spec.replicas ?? 1;
  return {
    kind: 'HotDeployment',
    namespace: hd.metadata.namespace ?? 'default',
    name,
    generation: hd.metadata.generation ?? 0,
    observedGeneration: s?.observedGeneration,
    hotContainer: hd.spec.hotContainer,
    image,
    version: versionOf(image),
    currentImage: s?.currentImage,
    rolloutKind: s?.rolloutKind,
    paused: hd.spec.updateStrategy?.paused ?? false,
    replicas: {
      desired,
      current: s?.replicas ?? 0,
      ready: s?.readyReplicas ?? 0,
      updated: s?.updatedReplicas ?? 0,
      upgrading: s?.upgradingReplicas ?? 0,
    },
    inRange: Math.max(0, desired - (hd.spec.updateStrategy?.partition ?? 0)),
    batch: s?.batch,
    conditions: s?.conditions ?? [],
    pods: podGroups,
    terminating: views.length - live.length,
    upgrading,
    failures,
    outcome: outcomeOf(hd),
    next: nextStep(hd),
  };
}
