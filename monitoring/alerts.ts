// The alerting rules, as data. Each alert is a base query (a value per HotDeployment or
// per controller, present during any rollout) compared with a threshold; the e2e test
// runs the base queries against a live Prometheus, `promtool test rules` runs the alerts
// on synthetic series (alerts.test.ts), and docs/operations.md#alerts has one section
// per alert, which `runbook_url` points to.
import { CONTROLLER_HANDOVERS, HUB_LEASE, LEASE, RECONCILER } from './selectors.ts';

export type Severity = 'critical' | 'warning';

export interface Alert {
  name: string;
  /** PromQL without the comparison; returns data whenever the controller runs. */
  base: string;
  op: '>' | '<' | '>=' | '<=' | '==' | '!=';
  threshold: number;
  /** How long the comparison must hold before the alert fires (Prometheus duration). */
  for: string;
  severity: Severity;
  summary: string;
  description: string;
  /** `hub`: its series exist only where the chart runs the hub (hub.enabled); the member-cluster e2e leaves it out. */
  component?: 'hub';
}

export const RULE_GROUP = 'hotupgrade';

/** Where the runbooks are; relative to the repository until it has a published URL. */
export const RUNBOOK_BASE = 'docs/operations.md';

/** GitHub's anchor of a `### <name>` heading. */
export const runbookAnchor = (alert: string): string => alert.toLowerCase();

export const ALERTS: Alert[] = [
  {
    name: 'HotDeploymentRolloutStuck',
    base: 'max by (namespace, name) (hotupgrade_rollout_condition{type="Progressing", status="False"})',
    op: '>',
    threshold: 0,
    // The controller already waited progressDeadlineSeconds before it set the condition.
    for: '1m',
    severity: 'warning',
    summary: 'HotDeployment {{ $labels.namespace }}/{{ $labels.name }} made no progress past its deadline',
    description:
      'The rollout of {{ $labels.namespace }}/{{ $labels.name }} has Progressing=False (ProgressDeadlineExceeded): no pod moved for spec.updateStrategy.progressDeadlineSeconds. Pods that are not ready, not scheduled, or a slot that never announces block it. kubectl describe hd {{ $labels.name }} -n {{ $labels.namespace }}',
  },
  {
    name: 'HotDeploymentHandoverFailed',
    base: `sum by (namespace, name) (increase(hotupgrade_handovers_total{${CONTROLLER_HANDOVERS}, result="failed"}[10m]))`,
    op: '>',
    threshold: 0,
    // A failure stops the rollout at once: no reason to wait.
    for: '0m',
    severity: 'warning',
    summary: 'A hot upgrade of {{ $labels.namespace }}/{{ $labels.name }} failed',
    description:
      'A pod of {{ $labels.namespace }}/{{ $labels.name }} failed its handover in the last 10 minutes (image pull, start, crash or handover deadline). The old version kept serving and the rollout stopped (Degraded=True, HandoverFailed). kubectl describe hd {{ $labels.name }} -n {{ $labels.namespace }} names the pod and the reason.',
  },
  {
    name: 'HotDeploymentRolledBack',
    base: 'sum by (namespace, name) (increase(hotupgrade_rollbacks_total[10m]))',
    op: '>',
    threshold: 0,
    for: '0m',
    severity: 'warning',
    summary: 'HotDeployment {{ $labels.namespace }}/{{ $labels.name }} was rolled back',
    description:
      'autoRollback wrote the previous image of {{ $labels.namespace }}/{{ $labels.name }} back after a failed handover in the last 10 minutes. The Degraded condition says from what, to what, and why.',
  },
  {
    name: 'HotUpgradeControllerNoLeader',
    // `or vector(0)`: no controller scraped at all is no leader too.
    base: `sum(leader_election_master_status{name="${LEASE}"}) or on () vector(0)`,
    op: '<',
    threshold: 1,
    // A failover takes at most the 15 s lease plus a restart.
    for: '2m',
    severity: 'critical',
    summary: 'No hotupgrade controller replica leads',
    description: `No replica holds the Lease ${LEASE} (or none is scraped): no HotDeployment is reconciled, rollouts do not move and failed handovers are not undone. kubectl get lease -A --field-selector metadata.name=${LEASE} -o yaml; kubectl get pods -l app.kubernetes.io/name=hotupgrade -A`,
  },
  {
    name: 'HotUpgradeControllerReconcileErrors',
    base: `sum by (namespace) (rate(controller_runtime_reconcile_errors_total{${RECONCILER}}[5m]))`,
    op: '>',
    threshold: 0,
    // One failed write is retried within seconds; errors that last 15 minutes are not transient.
    for: '15m',
    severity: 'warning',
    summary: 'The hotupgrade controller in {{ $labels.namespace }} keeps failing to reconcile',
    description:
      "Reconciles of the hotupgrade controller in {{ $labels.namespace }} have failed for 15 minutes: the API server refuses its writes (RBAC, admission webhooks, quota). The controller's log says which ('write failed').",
  },
  {
    name: 'HotReleaseFailed',
    base: 'max by (namespace, hotrelease) (hotupgrade_release_phase{phase=~"Failed|RolledBack"})',
    op: '>',
    threshold: 0,
    // The hub already waited for the gate's failureLimit or the progress deadline.
    for: '0m',
    severity: 'warning',
    component: 'hub',
    summary: 'HotRelease {{ $labels.namespace }}/{{ $labels.hotrelease }} failed',
    description:
      'The HotRelease {{ $labels.namespace }}/{{ $labels.hotrelease }} is Failed or RolledBack: a gate failed, a member rollout turned Degraded, or the progress deadline passed. Its Degraded condition says which cluster and why. kubectl hotupgrade status hr/{{ $labels.hotrelease }} -n {{ $labels.namespace }}; the alert stays while the release does (delete it once handled).',
  },
  {
    name: 'HotUpgradeMemberClusterUnreachable',
    base: 'min by (cluster) (hotupgrade_member_cluster_reachable)',
    op: '<',
    threshold: 1,
    // Releases that include it are paused; a short network blip is not worth a page.
    for: '5m',
    severity: 'warning',
    component: 'hub',
    summary: 'Member cluster {{ $labels.cluster }} does not answer the hub',
    description:
      'The hub has not reached member cluster {{ $labels.cluster }} for 5 minutes (its MemberCluster says Reachable=False). Every HotRelease that includes it is paused until it answers. kubectl get membercluster {{ $labels.cluster }} -o yaml shows the error.',
  },
  {
    name: 'HotUpgradeHubNoLeader',
    // No `or vector(0)`: without a hub (hub.enabled false) there is nothing to lead.
    base: `sum(leader_election_master_status{name="${HUB_LEASE}"})`,
    op: '<',
    threshold: 1,
    for: '2m',
    severity: 'critical',
    component: 'hub',
    summary: 'No hotupgrade hub replica leads',
    description: `Hub replicas are scraped but none holds the Lease ${HUB_LEASE}: no HotRelease moves, gates are not evaluated, failed releases are not rolled back. kubectl get lease -A --field-selector metadata.name=${HUB_LEASE} -o yaml; kubectl logs -l app.kubernetes.io/component=hub -A`,
  },
];

/** The alert's expression: the base compared with the threshold. */
export function alertExpr(a: Alert): string {
  // Comparisons bind tighter than or/and/unless: parenthesise a base that uses them.
  const base = /\b(or|and|unless)\b/.test(a.base) ? `(${a.base})` : a.base;
  return `${base} ${a.op} ${a.threshold}`;
}

/** The rule file: `groups:` as promtool reads it, and as a PrometheusRule's spec. */
export function ruleGroups(alerts: Alert[] = ALERTS): { groups: Record<string, unknown>[] } {
  return {
    groups: [
      {
        name: RULE_GROUP,
        rules: alerts.map((a) => ({
          alert: a.name,
          expr: alertExpr(a),
          for: a.for,
          labels: { severity: a.severity },
          annotations: {
            summary: a.summary,
            description: a.description,
            runbook_url: `${RUNBOOK_BASE}#${runbookAnchor(a.name)}`,
          },
        })),
      },
    ],
  };
}
