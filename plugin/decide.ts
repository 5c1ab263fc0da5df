// What each write command changes on a HotDeployment, decided from the object as read:
// a patch and the words that say what it does, nothing to do, or a refusal that says why
// and what the rollout is doing instead. Pure: the caller reads, writes and retries.
import type { HotDeployment } from '../controller/api/types.ts';
import { ANNOTATIONS, CONDITIONS } from '../controller/constants.ts';
import { sameImage, versionOf } from '../controller/images.ts';
import { annotationOps, imageOps, pointer, type JsonPatchOp } from '../controller/jsonPatch.ts';
import { EXIT, IMAGE_CHANGE_ANNOTATION } from './constants.ts';
import { conditionOf, describeState, hotContainerOf, observed } from './summary.ts';

export type { JsonPatchOp };
export { pointer };

/**
 * A write to the HotDeployment. json: an RFC 6902 patch whose `test` ops guard what the
 * decision was made on; merge: a merge patch (with metadata.resourceVersion when it must
 * not apply to a changed object). A failed guard is a conflict: read again, decide again.
 */
export type Patch = { type: 'json'; ops: JsonPatchOp[] } | { type: 'merge'; body: object };

export type Decision =
  /** Write `patch`, then print `message` (and the notes). */
  | { kind: 'patch'; patch: Patch; message: string; notes: string[] }
  /** The object already is as asked: print `message`, exit 0. */
  | { kind: 'noop'; message: string }
  /** The command cannot act on the object as it is: print `message`, exit `code`. */
  | { kind: 'refuse'; code: typeof EXIT.state | typeof EXIT.notFound; message: string };

/** The record `upgrade` and `rollback` leave in IMAGE_CHANGE_ANNOTATION. */
export interface ImageChange {
  from: string;
  to: string;
  /** RFC 3339. */
  at: string;
  by: 'upgrade' | 'rollback';
}

const who = (hd: HotDeployment): string => `hotdeployment/${hd.metadata.name ?? ''}`;
const ref = (hd: HotDeployment): string =>
  `hd/${hd.metadata.name ?? ''} -n ${hd.metadata.namespace ?? 'default'}`;

/**
 * Ops that drop the controller's rollback record, guarded by a test of it. The record
 * holds while the spec asks for its `to` image; once a user sets another image it is
 * history, and left in place it would apply again (Degraded, batches skipped) the next
 * time the spec comes back to that image.
 */
function clearRollbackOps(hd: HotDeployment): JsonPatchOp[] {
  const raw = hd.metadata.annotations?.[ANNOTATIONS.rollback];
  if (raw === undefined) return [];
  const path = `/metadata/annotations/${pointer(ANNOTATIONS.rollback)}`;
  return [
    { op: 'test', path, value: raw },
    { op: 'remove', path },
  ];
}

/** Ops that swap the image of container `index` from `from` to `to`, guarded by a test of `from`. */

function pausedNote(hd: HotDeployment): string[] {
  return hd.spec.updateStrategy?.paused
    ? [`spec.updateStrategy.paused is true: no pod moves until: kubectl hotupgrade resume ${ref(hd)}`]
    : [];
}

/** The last image change recorded by upgrade or rollback; undefined when absent or malformed. */
export function imageChangeOf(hd: HotDeployment): ImageChange | undefined {
  const raw = hd.metadata.annotations?.[IMAGE_CHANGE_ANNOTATION];
  if (!raw) return undefined;
  try {
    const o = JSON.parse(raw) as Partial<ImageChange>;
    if (typeof o.from !== 'string' || typeof o.to !== 'string') return undefined;
    return {
      from: o.from,
      to: o.to,
      at: String(o.at ?? ''),
      by: o.by === 'rollback' ? 'rollback' : 'upgrade',
    };
  } catch {
    return undefined;
  }
}

function noHotContainer(hd: HotDeployment): Decision {
  return {
    kind: 'refuse',
    code: EXIT.notFound,
    message: `${who(hd)}: spec.hotContainer "${hd.spec.hotContainer}" is not a container of spec.template.spec.containers`,
  };
}

/** A rollout is on its way from status.currentImage to the spec's image. */
function rolloutRunning(hd: HotDeployment, specImage: string): boolean {
  const current = hd.status?.currentImage;
  return current !== undefined && current !== '' && !sameImage(current, specImage);
}

export function decideUpgrade(
  hd: HotDeployment,
  image: string,
  container: string | undefined,
  nowIso: string,
): Decision {
  const containers = hd.spec.template.spec?.containers ?? [];
  const name = container ?? hd.spec.hotContainer;
  const index = containers.findIndex((c) => c.name === name);
  const c = containers[index];
  if (!c) {
    return {
      kind: 'refuse',
      code: EXIT.notFound,
      message: `container "${name}" is not in ${who(hd)} (containers: ${containers.map((x) => x.name).join(', ')})`,
    };
  }
  const from = c.image ?? '';
  if (from === image)
    return { kind: 'noop', message: `${who(hd)} unchanged: container ${name} already asks for ${image}` };
  const hot = name === hd.spec.hotContainer;
  const notes: string[] = [];
  if (!hot) {
    notes.push(
      `${name} is not the hot container (${hd.spec.hotContainer}): this change recreates the pods, maxUnavailable at a time`,
    );
  } else if (rolloutRunning(hd, from)) {
    notes.push(
      `this replaces the rollout to ${from} in progress: pods already there are hot-upgraded again, to ${versionOf(image)}`,
    );
  }
  notes.push(...pausedNote(hd));
  const change: ImageChange = { from, to: image, at: nowIso, by: 'upgrade' };
  const ops = [...imageOps(index, from, image)];
  if (hot)
    ops.push(
      ...clearRollbackOps(hd),
      ...annotationOps(hd, { [IMAGE_CHANGE_ANNOTATION]: JSON.stringify(change) }),
    );
  const batches = hd.spec.updateStrategy?.batches?.length ?? 0;
  const how = hot ? `hot upgrade${batches > 1 ? ` in ${batches} batches` : ''}` : 'recreate';
  return {
    kind: 'patch',
    patch: { type: 'json', ops },
    message: `${who(hd)} upgraded: container ${name}: ${from} -> ${image} (${how}; follow it with: kubectl hotupgrade status ${ref(hd)} -w)`,
    notes,
  };
}

export function decideApprove(hd: HotDeployment, batch: number | undefined): Decision {
  const refuse = (message: string): Decision => ({ kind: 'refuse', code: EXIT.state, message });
  const s = hd.status;
  if (!s || !observed(hd)) return refuse(`cannot approve yet: ${who(hd)} is ${describeState(hd)}`);
  const degraded = conditionOf(hd, CONDITIONS.degraded);
  if (degraded?.status === 'True') {
    return refuse(
      `${who(hd)} is ${describeState(hd)}; an approval would not move it: set a fixed image with upgrade, or go back with abort`,
    );
  }
  const b = s.batch;
  const rev = s.updateRevision;
  if (s.rolloutKind !== 'Hot' || !b || !rev)
    return refuse(`nothing to approve: ${who(hd)} is ${describeState(hd)}`);
  const awaiting = b.state === 'AwaitingApproval';
  // The first batch that has not started: after a done batch that waits, the next one;
  // while batch n upgrades (or sits in a timed pause before n+1), n+1.
  const first = b.number + 1;
  if (batch === undefined && !awaiting) {
    const ahead =
      first <= b.total
        ? ` To approve batches ahead of time, name the last one: --batch ${first} to ${b.total}.`
        : '';
    return refuse(`${who(hd)} is not awaiting approval: it is ${describeState(hd)}.${ahead}`);
  }
  const n = batch ?? first;
  if (n > b.total) return refuse(`--batch ${n}: the rollout has ${b.total} batches`);
  if (n < first) {
    return refuse(
      `--batch ${n}: batch ${n} has already started (${who(hd)} is ${describeState(hd)}); approve batch ${first} or later`,
    );
  }
  const prev = hd.spec.updateStrategy?.approved;
  if (prev?.revision === rev && prev.batch >= n) {
    return {
      kind: 'noop',
      message: `${who(hd)} unchanged: batches up to ${prev.batch} of revision ${rev} are already approved`,
    };
  }
  return {
    kind: 'patch',
    patch: {
      type: 'merge',
      // The resourceVersion makes the write fail if the rollout moved since it was read.
      body: {
        metadata: { resourceVersion: hd.metadata.resourceVersion },
        spec: { updateStrategy: { approved: { revision: rev, batch: n } } },
      },
    },
    message: `${who(hd)} approved: batch ${n}/${b.total} of revision ${rev} may start${n > first ? ` (and every batch before it)` : ''}`,
    notes: pausedNote(hd),
  };
}

export function decidePause(hd: HotDeployment, paused: boolean): Decision {
  if ((hd.spec.updateStrategy?.paused ?? false) === paused) {
    return { kind: 'noop', message: `${who(hd)} unchanged: ${paused ? 'already paused' : 'not paused'}` };
  }
  const notes: string[] = [];
  const b = hd.status?.batch;
  if (!paused && hd.status?.rolloutKind === 'Hot' && b?.state === 'AwaitingApproval') {
    notes.push(
      `the rollout also waits for approval of batch ${b.number + 1}: kubectl hotupgrade approve ${ref(hd)}`,
    );
  }
  return {
    kind: 'patch',
    patch: { type: 'merge', body: { spec: { updateStrategy: { paused } } } },
    message: paused
      ? `${who(hd)} paused: no pod starts an upgrade or is recreated (pods mid-handover finish); resume with: kubectl hotupgrade resume ${ref(hd)}`
      : `${who(hd)} resumed`,
    notes,
  };
}

export function decideAbort(hd: HotDeployment, nowIso: string): Decision {
  const hot = hotContainerOf(hd);
  if (!hot) return noHotContainer(hd);
  const current = hd.status?.currentImage;
  if (!current) {
    return {
      kind: 'refuse',
      code: EXIT.state,
      message: `cannot abort: ${who(hd)} has no status.currentImage yet (the image its pods run); it is ${describeState(hd)}`,
    };
  }
  if (!rolloutRunning(hd, hot.image)) {
    const recreate =
      hd.status?.rolloutKind === 'Recreate'
        ? ' Pods are being recreated for a template change; abort reverts only the hot image: revert the template with kubectl apply.'
        : '';
    return {
      kind: 'refuse',
      code: EXIT.state,
      message: `nothing to abort: no hot rollout in progress, the pods run ${current} as the spec asks.${recreate} To go back to an earlier image, use rollback.`,
    };
  }
  // The controller's own rollback record: it sends every pod back at once, skipping
  // batches and pauses, and reports Degraded/RolledBack until the next image change.
  const record = {
    from: hot.image,
    to: current,
    reason: 'aborted with kubectl hotupgrade abort',
    at: nowIso,
    // The generation this patch gives the HotDeployment: the controller honours the record
    // until the next spec change, not forever.
    generation: (hd.metadata.generation ?? 0) + 1,
  };
  return {
    kind: 'patch',
    patch: {
      type: 'json',
      ops: [
        // The record names the next generation: only true if nothing else changes the spec first.
        { op: 'test', path: '/metadata/generation', value: hd.metadata.generation ?? 0 },
        ...imageOps(hot.index, hot.image, current),
        ...annotationOps(hd, { [ANNOTATIONS.rollback]: JSON.stringify(record) }),
      ],
    },
    message: `${who(hd)} aborted: container ${hot.name} goes back from ${hot.image} to ${current} on every pod, without batches or pauses; it shows Degraded/RolledBack until the next upgrade`,
    notes: pausedNote(hd),
  };
}

export function decideRollback(hd: HotDeployment, to: string | undefined, nowIso: string): Decision {
  const hot = hotContainerOf(hd);
  if (!hot) return noHotContainer(hd);
  let target = to;
  let why = '--to';
  if (target === undefined && rolloutRunning(hd, hot.image)) {
    target = hd.status?.currentImage;
    why = 'the image before the rollout in progress (status.currentImage)';
  }
  if (target === undefined) {
    const change = imageChangeOf(hd);
    if (change && change.to === hot.image) {
      target = change.from;
      why = `the image before the last ${change.by}${change.at ? ` (${change.at})` : ''}, from ${IMAGE_CHANGE_ANNOTATION}`;
    }
  }
  if (target === undefined) {
    return {
      kind: 'refuse',
      code: EXIT.state,
      message: `no earlier image known: ${who(hd)} runs ${hot.image}, no rollout is in progress, and there is no record of the image before it (upgrade and rollback leave one in ${IMAGE_CHANGE_ANNOTATION}); name the image with --to`,
    };
  }
  if (target === hot.image) {
    return {
      kind: 'noop',
      message: `${who(hd)} unchanged: container ${hot.name} already asks for ${target}`,
    };
  }
  const change: ImageChange = { from: hot.image, to: target, at: nowIso, by: 'rollback' };
  return {
    kind: 'patch',
    patch: {
      type: 'json',
      ops: [
        ...imageOps(hot.index, hot.image, target),
        ...clearRollbackOps(hd),
        ...annotationOps(hd, { [IMAGE_CHANGE_ANNOTATION]: JSON.stringify(change) }),
      ],
    },
    message: `${who(hd)} rolled back: container ${hot.name}: ${hot.image} -> ${target} (${why}); a rollout through the batches and pauses of spec.updateStrategy (abort goes back at once)`,
    notes: pausedNote(hd),
  };
}
