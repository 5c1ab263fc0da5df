// A HotDeployment's spec with every default applied, and the fingerprints derived from
// it. The CRD applies the same defaults at the API server; the controller applies them
// again so an object created before a default existed still means one thing.
import type { V1Container } from '@kubernetes/client-node';
import type { Batch, HotDeployment, HotMode } from './api/types.ts';
import { ANNOTATIONS } from './constants.ts';
import { shortHash } from './hash.ts';
import { resolveIntOrPercent } from './intOrPercent.ts';
import { versionOf } from './images.ts';

export const SPEC_DEFAULTS = {
  replicas: 1,
  mode: 'slot' as HotMode,
  handoverDeadlineSeconds: 60,
  partition: 0,
  maxUnavailable: '25%',
  progressDeadlineSeconds: 600,
} as const;

export interface Desired {
  namespace: string;
  name: string;
  uid: string;
  generation: number;
  replicas: number;
  /** Ordinals below this keep their version. Clamped to replicas. */
  partition: number;
  /** Pods that may be unavailable at once, at least 1. */
  maxUnavailable: number;
  hotContainer: string;
  /** The hot container as the template has it (image is the business image). */
  container: V1Container;
  image: string;
  version: string;
  mode: HotMode;
  handoverDeadlineMs: number;
  progressDeadlineMs: number;
  paused: boolean;
  autoRollback: boolean;
  /** Cumulative pods at the new version after each batch; the last is always replicas - partition. */
  batchTargets: number[];
  batches: Batch[];
  approvedBatch: number;
  approvedRevision: string | undefined;
  /** Everything in the pod but the hot image. */
  templateHash: string;
  /** templateHash + image: names one rollout. */
  revision: string;
  /** The rollback the controller made, while the spec still asks for its target image. */
  rollback: RollbackRecord | undefined;
}

/** The `hotupgrade.io/rollback` annotation the controller writes on a HotDeployment it rolled back. */
export interface RollbackRecord {
  from: string;
  to: string;
  reason: string;
  at: string;
  /**
   * metadata.generation the rollback's own spec change gave the HotDeployment. Any later
   * spec change makes the record history: a user who sets the image back to `to` some
   * day starts an ordinary rollout, not this rollback again. Absent in older records.
   */
  generation?: number;
}

export function activeRollback(
  annotations: Record<string, string>,
  image: string,
  generation: number | undefined,
): RollbackRecord | undefined {
  const raw = annotations[ANNOTATIONS.rollback];
  if (!raw) return undefined;
  try {
    const r = JSON.parse(raw) as Partial<RollbackRecord>;
    if (typeof r.from !== 'string' || typeof r.to !== 'string' || r.to !== image) return undefined;
    if (typeof r.generation === 'number' && r.generation !== generation) return undefined;
    return {
      from: r.from,
      to: r.to,
      reason: String(r.reason ?? ''),
      at: String(r.at ?? ''),
      ...(typeof r.generation === 'number' ? { generation: r.generation } : {}),
    };
  } catch {
    return undefined;
  }
}

export type DesiredResult = { ok: true; desired: Desired } | { ok: false; field: string; message: string };

function batchTargets(batches: Batch[], replicas: number, partition: number): number[] | string {
  const cap = replicas - partition;
  const out: number[] = [];
  for (const [i, b] of batches.entries()) {
    const n = resolveIntOrPercent(b.replicas, replicas, 'up');
    if (n === null || n < 1) return `spec.updateStrategy.batches[${i}].replicas`;
    // Aligned with spec batches (batch i's pause follows target i); a batch the cap
    // leaves empty completes at once.
    out.push(Math.max(Math.min(n, cap), out[out.length - 1] ?? 0));
  }
  if (out.length === 0 || (out[out.length - 1] ?? 0) < cap) out.push(cap);
  return out;
}

/** What the spec asks for, or the field that makes it unusable (the CRD rejects most such objects first). */
export function desiredOf(hd: HotDeployment): DesiredResult {
  const spec = hd.spec;
  const s = spec.updateStrategy ?? {};
  const containers = spec.template.spec?.containers ?? [];
  const container = containers.find((c) => c.name === spec.hotContainer);
  if (!container) {
    return {
      ok: false,
      field: 'spec.hotContainer',
      message: `spec.hotContainer: "${spec.hotContainer}" is not a container of spec.template.spec.containers; set it to one of: ${containers.map((c) => c.name).join(', ')}`,
    };
  }
  if (!container.image) {
    return {
      ok: false,
      field: 'spec.template.spec.containers[].image',
      message: `the hot container "${spec.hotContainer}" has no image; set spec.template.spec.containers[name=${spec.hotContainer}].image`,
    };
  }
  const replicas = spec.replicas ?? SPEC_DEFAULTS.replicas;
  const partition = Math.min(s.partition ?? SPEC_DEFAULTS.partition, replicas);
  const maxUnavailable = resolveIntOrPercent(
    s.maxUnavailable ?? SPEC_DEFAULTS.maxUnavailable,
    replicas,
    'down',
  );
  if (maxUnavailable === null) {
    return {
      ok: false,
      field: 'spec.updateStrategy.maxUnavailable',
      message: `spec.updateStrategy.maxUnavailable: ${JSON.stringify(s.maxUnavailable)} is neither a count nor a percent; use e.g. 1 or "25%"`,
    };
  }
  const batches = s.batches ?? [];
  const targets = batchTargets(batches, replicas, partition);
  if (typeof targets === 'string') {
    return { ok: false, field: targets, message: `${targets}: use a count >= 1 or a percent such as "50%"` };
  }
  const mode = spec.mode ?? SPEC_DEFAULTS.mode;
  const handoverDeadlineSeconds = spec.handoverDeadlineSeconds ?? SPEC_DEFAULTS.handoverDeadlineSeconds;
  const { image: _image, ...rest } = container;
  const templateHash = shortHash({
    template: {
      ...spec.template,
      spec: { ...spec.template.spec, containers: containers.map((c) => (c === container ? rest : c)) },
    },
    hotContainer: spec.hotContainer,
    mode,
    handoverDeadlineSeconds,
    sharedMemory: spec.sharedMemory ?? null,
  });
  return {
    ok: true,
    desired: {
      namespace: hd.metadata.namespace ?? 'default',
      name: hd.metadata.name ?? '',
      uid: hd.metadata.uid ?? '',
      generation: hd.metadata.generation ?? 0,
      replicas,
      partition,
      maxUnavailable: Math.max(1, maxUnavailable),
      hotContainer: spec.hotContainer,
      container,
      image: container.image,
      version: versionOf(container.image),
      mode,
      handoverDeadlineMs: handoverDeadlineSeconds * 1000,
      progressDeadlineMs: (s.progressDeadlineSeconds ?? SPEC_DEFAULTS.progressDeadlineSeconds) * 1000,
      paused: s.paused ?? false,
      autoRollback: s.autoRollback ?? false,
      batchTargets: targets,
      batches,
      approvedBatch: s.approved?.batch ?? 0,
      approvedRevision: s.approved?.revision,
      templateHash,
      revision: shortHash({ templateHash, image: container.image }),
      rollback: activeRollback(hd.metadata.annotations ?? {}, container.image, hd.metadata.generation),
    },
  };
}
