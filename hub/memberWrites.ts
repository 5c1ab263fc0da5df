// What the hub writes on a member's HotDeployment, and how it reads its own mark back:
// pure functions of the object as read. Every write is a JSON patch guarded by `test`
// ops, so a member changed since the read refuses it (422) and the hub reads again.
import type { HotDeployment } from '../controller/api/types.ts';
import { ANNOTATIONS, CONDITIONS as HD_CONDITIONS } from '../controller/constants.ts';
import { sameImage } from '../controller/images.ts';
import {
  annotationOps,
  hotContainerOf,
  imageOps,
  partitionOps,
  pointer,
  type JsonPatchOp,
} from '../controller/jsonPatch.ts';

/** The annotation that says which HotRelease drives a member's HotDeployment, and from which image. */
export const RELEASE_ANNOTATION = 'hotupgrade.io/release';

export interface ReleaseMark {
  /** namespace/name of the HotRelease on the hub. */
  release: string;
  uid: string;
  /** The release's image. */
  image: string;
  /** The hot image before the release first touched the HotDeployment: what a rollback restores. */
  previousImage: string;
}

/** The mark, or undefined when absent or not ours to read (malformed). */
export function releaseMarkOf(hd: HotDeployment): ReleaseMark | undefined {
  const raw = hd.metadata.annotations?.[RELEASE_ANNOTATION];
  if (!raw) return undefined;
  try {
    const m = JSON.parse(raw) as Partial<ReleaseMark>;
    if (
      typeof m.release !== 'string' ||
      typeof m.uid !== 'string' ||
      typeof m.image !== 'string' ||
      typeof m.previousImage !== 'string'
    )
      return undefined;
    return { release: m.release, uid: m.uid, image: m.image, previousImage: m.previousImage };
  } catch {
    return undefined;
  }
}

/** The image a first touch records as the one before: the spec's, or what the pods ran if the spec already asks for the release's. */
export function imageBefore(hd: HotDeployment, releaseImage: string): string {
  const spec = hotContainerOf(hd)?.image ?? '';
  if (!sameImage(spec, releaseImage)) return spec;
  return hd.status?.currentImage ?? spec;
}

const markOps = (hd: HotDeployment, mark: ReleaseMark): JsonPatchOp[] => {
  const raw = hd.metadata.annotations?.[RELEASE_ANNOTATION];
  const set = annotationOps(hd, { [RELEASE_ANNOTATION]: JSON.stringify(mark) });
  // Guard the old mark too: two hubs must not both take the same HotDeployment.
  return hd.metadata.annotations
    ? [
        { op: 'test', path: `/metadata/annotations/${pointer(RELEASE_ANNOTATION)}`, value: raw ?? null },
        ...set,
      ]
    : set;
};

/**
 * Ops that make `hd` run `image` on its highest `replicas - partition` ordinals (the
 * member controller does the rest), with the mark; [] when it already does.
 */
export function upgradeOps(hd: HotDeployment, mark: ReleaseMark, partition: number): JsonPatchOp[] {
  const hot = hotContainerOf(hd);
  if (!hot) return [];
  const ops: JsonPatchOp[] = [];
  const current = releaseMarkOf(hd);
  if (!current || current.uid !== mark.uid) ops.push(...markOps(hd, mark));
  if (hot.image !== mark.image) ops.push(...imageOps(hot.index, hot.image, mark.image));
  if ((hd.spec.updateStrategy?.partition ?? 0) !== partition) ops.push(...partitionOps(hd, partition));
  return ops;
}

/**
 * Ops that send every pod of `hd` back to the mark's previous image at once: image and
 * partition 0, with the member controller's rollback record (it skips batches and pauses
 * for it, until the next spec change: the record names the generation this patch makes);
 * [] when the spec already asks for that.
 */
export function rollbackOps(
  hd: HotDeployment,
  mark: ReleaseMark,
  reason: string,
  nowIso: string,
): JsonPatchOp[] {
  const hot = hotContainerOf(hd);
  if (!hot) return [];
  // Already asked for: the member is on its way back.
  if (hot.image === mark.previousImage && (hd.spec.updateStrategy?.partition ?? 0) === 0) return [];
  const generation = hd.metadata.generation ?? 0;
  const record = {
    from: hot.image,
    to: mark.previousImage,
    reason,
    at: nowIso,
    generation: generation + 1,
  };
  return [
    { op: 'test', path: '/metadata/generation', value: generation },
    ...imageOps(hot.index, hot.image, mark.previousImage),
    ...((hd.spec.updateStrategy?.partition ?? 0) !== 0 ? partitionOps(hd, 0) : []),
    ...annotationOps(hd, { [ANNOTATIONS.rollback]: JSON.stringify(record) }),
  ];
}

/** Ops that stop `hd` from starting more upgrades (abort): partition up to the pods not at the new image or in flight. */
export function freezeOps(hd: HotDeployment): JsonPatchOp[] {
  const replicas = hd.spec.replicas ?? 1;
  const moved = (hd.status?.updatedReplicas ?? 0) + (hd.status?.upgradingReplicas ?? 0);
  const partition = Math.max(0, replicas - moved);
  return partition > (hd.spec.updateStrategy?.partition ?? 0) ? partitionOps(hd, partition) : [];
}

/** The member's status describes its current spec. */
export function observedCurrent(hd: HotDeployment): boolean {
  return (hd.status?.observedGeneration ?? -1) >= (hd.metadata.generation ?? 0);
}

/** Pods at `image` there: updatedReplicas once the member works towards it, else 0. */
export function updatedAt(hd: HotDeployment, image: string): number {
  return sameImage(hd.status?.updateImage, image) ? (hd.status?.updatedReplicas ?? 0) : 0;
}

/** The member has `target` pods at `image` and nothing in flight. */
export function reached(hd: HotDeployment, image: string, target: number): boolean {
  const hot = hotContainerOf(hd);
  return (
    observedCurrent(hd) &&
    sameImage(hot?.image, image) &&
    updatedAt(hd, image) >= target &&
    (hd.status?.upgradingReplicas ?? 0) === 0
  );
}

/** The member controller reports its rollout Degraded (a failed handover, its own deadline, its own rollback). */
export function degraded(hd: HotDeployment): { reason: string; message: string } | undefined {
  const c = hd.status?.conditions?.find((x) => x.type === HD_CONDITIONS.degraded);
  if (c?.status !== 'True' || !observedCurrent(hd)) return undefined;
  return { reason: c.reason, message: c.message };
}
