// Which MemberClusters a release names or selects: pure. Label selectors match the way
// the API server's do (matchLabels and matchExpressions ANDed; {} selects everything).
import type { V1LabelSelector } from '@kubernetes/client-node';
import type { MemberCluster, ReleaseClusters } from './api/types.ts';

export function matchesSelector(sel: V1LabelSelector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(value ?? '')) return false;
        break;
      case 'NotIn':
        if (has && values.includes(value ?? '')) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/**
 * The release's clusters: spec.clusters.names as written (a missing MemberCluster is the
 * caller's to report), or the selected MemberClusters by name; `problem` when a selector
 * selects none.
 */
export function selectMembers(
  clusters: ReleaseClusters,
  all: readonly MemberCluster[],
): { names: string[]; problem?: string } {
  if (clusters.names) return { names: [...clusters.names] };
  const sel = clusters.selector ?? {};
  const names = all
    .filter((mc) => !mc.metadata.deletionTimestamp && matchesSelector(sel, mc.metadata.labels ?? {}))
    .map((mc) => mc.metadata.name ?? '')
    .sort();
  if (names.length > 0) return { names };
  return {
    names,
    problem: `spec.clusters.selector selects no MemberCluster (of ${all.length}): label the MemberClusters (kubectl label membercluster NAME KEY=VALUE) or fix the selector`,
  };
}
