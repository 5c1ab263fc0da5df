// The hub's own series, beside controller-runtime's and the rest client's: where each
// release stands, per cluster, the last gate values, and member reachability.
import type { Registry } from 'prom-client';
import { counter, gauge } from '../controller/kube/metrics.ts';
import type { HotReleaseStatus, MemberClusterStatus } from './api/types.ts';
import { CONDITIONS, RELEASE_PHASES } from './constants.ts';

export interface HubMetrics {
  release(ns: string, name: string, s: HotReleaseStatus): void;
  forgetRelease(ns: string, name: string): void;
  member(name: string, s: MemberClusterStatus): void;
  forgetMember(name: string): void;
  memberWrite(cluster: string, result: 'ok' | 'conflict' | 'error'): void;
}

export function createHubMetrics(registry: Registry): HubMetrics {
  const phase = gauge(
    registry,
    'hotupgrade_release_phase',
    'HotRelease phase: 1 for the phase the release is in, 0 for the others',
    ['namespace', 'hotrelease', 'phase'],
  );
  const step = gauge(registry, 'hotupgrade_release_step', 'HotRelease status.currentStep (1-based)', [
    'namespace',
    'hotrelease',
  ]);
  const pods = gauge(
    registry,
    'hotupgrade_release_cluster_pods',
    'Pods of the release target per member cluster: replicas, updated (at the new image), ready, target (of the current step)',
    ['namespace', 'hotrelease', 'cluster', 'state'],
  );
  const gateValue = gauge(
    registry,
    'hotupgrade_release_gate_value',
    "The last value of a gate's query per cluster",
    ['namespace', 'hotrelease', 'step', 'cluster'],
  );
  const reachable = gauge(
    registry,
    'hotupgrade_member_cluster_reachable',
    'MemberCluster answered its last probe (1) or not (0)',
    ['cluster'],
  );
  const writes = counter(
    registry,
    'hotupgrade_hub_member_writes_total',
    'Patches of member HotDeployments by result (conflict: the member changed since it was read)',
    ['cluster', 'result'],
  );
  /** Per release, the per-cluster series set last time ("pods|gate\0cluster\0state|step"). */
  const seen = new Map<string, Set<string>>();
  const drop = (ns: string, name: string, l: string): void => {
    const [kind, cluster = '', extra = ''] = l.split('\0');
    if (kind === 'pods') pods.remove({ namespace: ns, hotrelease: name, cluster, state: extra });
    else gateValue.remove({ namespace: ns, hotrelease: name, cluster, step: extra });
  };
  const clear = (ns: string, name: string): void => {
    for (const p of RELEASE_PHASES) phase.remove({ namespace: ns, hotrelease: name, phase: p });
    step.remove({ namespace: ns, hotrelease: name });
    for (const l of seen.get(`${ns}/${name}`) ?? []) drop(ns, name, l);
    seen.delete(`${ns}/${name}`);
  };
  return {
    release(ns, name, s) {
      const labels = new Set<string>();
      for (const p of RELEASE_PHASES)
        phase.set({ namespace: ns, hotrelease: name, phase: p }, s.phase === p ? 1 : 0);
      step.set({ namespace: ns, hotrelease: name }, s.currentStep ?? 0);
      for (const c of s.clusters ?? []) {
        for (const [state, v] of [
          ['replicas', c.replicas],
          ['updated', c.updated],
          ['ready', c.ready],
          ['target', c.target],
        ] as const) {
          if (v === undefined) continue;
          pods.set({ namespace: ns, hotrelease: name, cluster: c.name, state }, v);
          labels.add(`pods\0${c.name}\0${state}`);
        }
      }
      for (const g of s.gates ?? [])
        for (const r of g.results ?? []) {
          if (r.value === undefined) continue;
          gateValue.set(
            { namespace: ns, hotrelease: name, step: String(g.step), cluster: r.cluster },
            r.value,
          );
          labels.add(`gate\0${r.cluster}\0${g.step}`);
        }
      const key = `${ns}/${name}`;
      for (const l of seen.get(key) ?? []) if (!labels.has(l)) drop(ns, name, l);
      seen.set(key, labels);
    },
    forgetRelease: clear,
    member(name, s) {
      const c = s.conditions?.find((x) => x.type === CONDITIONS.reachable);
      reachable.set({ cluster: name }, c?.status === 'True' ? 1 : 0);
    },
    forgetMember(name) {
      reachable.remove({ cluster: name });
    },
    memberWrite(cluster, result) {
      writes.inc({ cluster, result });
    },
  };
}
