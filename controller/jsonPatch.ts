// RFC 6902 JSON patches on HotDeployments, guarded by `test` ops: a write made on a stale
// read fails (422) instead of undoing a change it never saw. Shared by the kubectl plugin
// and the hub, which both edit HotDeployments they do not own.
import type { HotDeployment } from './api/types.ts';

export interface JsonPatchOp {
  op: 'test' | 'replace' | 'add' | 'remove';
  path: string;
  value?: unknown;
}

/** RFC 6901: `~` and `/` escaped in one segment of a JSON pointer. */
export const pointer = (segment: string): string => segment.replaceAll('~', '~0').replaceAll('/', '~1');

/** Ops that set annotations, creating the map when absent (guarded: a map added meanwhile fails the test). */
export function annotationOps(hd: HotDeployment, set: Record<string, string>): JsonPatchOp[] {
  if (!hd.metadata.annotations) {
    // `test` of an absent path against null passes (the API server's json-patch).
    return [
      { op: 'test', path: '/metadata/annotations', value: null },
      { op: 'add', path: '/metadata/annotations', value: set },
    ];
  }
  return Object.entries(set).map(([k, v]) => ({
    op: 'add',
    path: `/metadata/annotations/${pointer(k)}`,
    value: v,
  }));
}

/** Ops that change the image of container `index` from `from` to `to`. */
export function imageOps(index: number, from: string, to: string): JsonPatchOp[] {
  const path = `/spec/template/spec/containers/${index}/image`;
  return [
    { op: 'test', path, value: from },
    { op: 'replace', path, value: to },
  ];
}

/** The hot container and its index in spec.template; undefined when the template has none of that name. */
export function hotContainerOf(
  hd: HotDeployment,
): { index: number; name: string; image: string } | undefined {
  const cs = hd.spec.template.spec?.containers ?? [];
  const index = cs.findIndex((c) => c.name === hd.spec.hotContainer);
  const c = cs[index];
  return c ? { index, name: c.name, image: c.image ?? '' } : undefined;
}

/** Ops that set spec.updateStrategy.partition, creating updateStrategy when absent. */
export function partitionOps(hd: HotDeployment, partition: number): JsonPatchOp[] {
  if (!hd.spec.updateStrategy) {
    return [
      { op: 'test', path: '/spec/updateStrategy', value: null },
      { op: 'add', path: '/spec/updateStrategy', value: { partition } },
    ];
  }
  const current = hd.spec.updateStrategy.partition;
  return [
    // null when absent: `test` against null passes for a missing member.
    { op: 'test', path: '/spec/updateStrategy/partition', value: current ?? null },
    { op: 'add', path: '/spec/updateStrategy/partition', value: partition },
  ];
}
