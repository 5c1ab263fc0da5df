// The release dashboard, as data: rows of panels, each with what it shows and its
// queries. grafana.ts renders it to Grafana's JSON; queries.ts hands the same queries to
// the e2e test, which asserts each returns data during a rollout. So every query here
// returns a series while a rollout runs, even when all is well: counters and gauges
// exist at 0 from the start (controller/metrics.ts), and panels sum rather than filter
// (`sum(phase{...})` is 0 when nothing is degraded; `phase == 1 and phase="Degraded"`
// would be empty).
import { PHASES, type Phase } from '../controller/metrics.ts';
import {
  CONTROLLER_HANDOVERS,
  HD,
  LEASE,
  PODS,
  QUEUE,
  RECONCILER,
  SIDECAR_HANDOVERS,
  VARS,
  fromController,
} from './selectors.ts';

export type PanelType = 'stat' | 'timeseries' | 'bargauge' | 'state-timeline';

export interface Query {
  expr: string;
  /** Grafana legend template, e.g. `{{namespace}}/{{name}}`. */
  legend?: string;
}

/** Shows the value as `text` in `color` (stat and state-timeline panels). */
export interface ValueText {
  value: number;
  text: string;
  color: string;
}

export interface Panel {
  /** Stable slug: names the panel's queries in allQueries() ("batch-progress/A"). */
  id: string;
  title: string;
  /** What it shows and what to look for during a release (Grafana shows it as a tooltip). */
  description: string;
  type: PanelType;
  /** Grafana unit id: short, s, percentunit, ops, bytes, none. */
  unit: string;
  queries: Query[];
  /** Grid columns of 24; 12 unless set. */
  width?: number;
  /** Grid rows (30 px each); 8 unless set. */
  height?: number;
  /** Colour steps: the value from which each colour applies (green below the first). */
  thresholds?: { value: number; color: string }[];
  mappings?: ValueText[];
  /** Timeseries: stack the series (parts of a whole, e.g. pods by version). */
  stack?: boolean;
  /** Timeseries: bars (counts per interval) rather than lines. */
  bars?: boolean;
}

export interface Row {
  title: string;
  panels: Panel[];
}

const RATE = VARS.rateInterval;
const RANGE = VARS.range;
const HD_LEGEND = '{{namespace}}/{{name}}';
const POD_LEGEND = '{{namespace}}/{{hotdeployment}}';
const BAD_FROM_1 = [{ value: 1, color: 'red' }];

/** Phases a rollout is under way in (neither Complete nor stopped by a failure). */
const IN_PROGRESS: Phase[] = ['HotUpgrading', 'Recreating', 'Scaling', 'Paused', 'AwaitingApproval'];

const PHASE_COLORS: Record<Phase, string> = {
  Complete: 'green',
  HotUpgrading: 'blue',
  Recreating: 'purple',
  Scaling: 'light-blue',
  Paused: 'yellow',
  AwaitingApproval: 'orange',
  Degraded: 'red',
  RolledBack: 'dark-red',
};

/** Phase i+1 for PHASES[i]: one series per HotDeployment whose value is its phase. */
const PHASE_CODE = `max by (namespace, name) (${PHASES.map(
  (p, i) => `hotupgrade_rollout_phase{${HD}, phase="${p}"} * ${i + 1}`,
).join(' or ')})`;

const quantiles = (qs: number[], buckets: string, by = 'le'): Query[] =>
  qs.map((q) => ({
    expr: `histogram_quantile(${q}, sum by (${by}) (rate(${buckets}[${RATE}])))`,
    legend: `p${Math.round(q * 100)}`,
  }));

export const ROWS: Row[] = [
  {
    title: 'Release overview',
    panels: [
      {
        id: 'rollouts-in-progress',
        title: 'Rollouts in progress',
        description: `HotDeployments whose rollout is under way: ${IN_PROGRESS.join(', ')}. 0 once every release has finished.`,
        type: 'stat',
        unit: 'short',
        width: 4,
        height: 4,
        thresholds: [{ value: 1, color: 'blue' }],
        queries: [{ expr: `sum(hotupgrade_rollout_phase{${HD}, phase=~"${IN_PROGRESS.join('|')}"})` }],
      },
      {
        id: 'rollouts-degraded',
        title: 'Degraded',
        description:
          'HotDeployments whose rollout stopped on a failure (Degraded) or was rolled back (RolledBack). Anything above 0 needs a look: kubectl describe hd NAME.',
        type: 'stat',
        unit: 'short',
        width: 3,
        height: 4,
        thresholds: BAD_FROM_1,
        queries: [{ expr: `sum(hotupgrade_rollout_phase{${HD}, phase=~"Degraded|RolledBack"})` }],
      },
      {
        id: 'rollouts-stuck',
        title: 'Past progress deadline',
        description:
          'HotDeployments whose Progressing condition is False (ProgressDeadlineExceeded): no pod moved for spec.updateStrategy.progressDeadlineSeconds. Alert HotDeploymentRolloutStuck.',
        type: 'stat',
        unit: 'short',
        width: 3,
        height: 4,
        thresholds: BAD_FROM_1,
        queries: [{ expr: `sum(hotupgrade_rollout_condition{${HD}, type="Progressing", status="False"})` }],
      },
      {
        id: 'rollouts-unavailable',
        title: 'Below minimum available',
        description:
          'HotDeployments with Available=False: fewer ready pods than replicas - maxUnavailable. A hot upgrade keeps pods ready, so this points at pods that are not ready for another reason.',
        type: 'stat',
        unit: 'short',
        width: 4,
        height: 4,
        thresholds: BAD_FROM_1,
        queries: [{ expr: `sum(hotupgrade_rollout_condition{${HD}, type="Available", status="False"})` }],
      },
      {
        id: 'handovers-failed-total',
        title: 'Failed handovers',
        description:
          'Pod upgrades the controller judged failed in the time range (image pull, start, crash, handover deadline). Each one stopped its rollout; the old version kept serving.',
        type: 'stat',
        unit: 'short',
        width: 4,
        height: 4,
        thresholds: BAD_FROM_1,
        queries: [
          {
            expr: `sum(increase(hotupgrade_handovers_total{${HD}, ${CONTROLLER_HANDOVERS}, result="failed"}[${RANGE}]))`,
          },
        ],
      },
      {
        id: 'rollbacks-total',
        title: 'Rollbacks',
        description: 'Automatic rollbacks (spec.updateStrategy.autoRollback) in the time range.',
        type: 'stat',
        unit: 'short',
        width: 3,
        height: 4,
        thresholds: BAD_FROM_1,
        queries: [{ expr: `sum(increase(hotupgrade_rollbacks_total{${HD}}[${RANGE}]))` }],
      },
      {
        id: 'leader',
        title: 'Leader',
        description:
          'Controller replicas that hold the leader Lease: 1 is right; 0 means nobody reconciles (alert HotUpgradeControllerNoLeader).',
        type: 'stat',
        unit: 'none',
        width: 3,
        height: 4,
        thresholds: [
          { value: 0, color: 'red' },
          { value: 1, color: 'green' },
          { value: 2, color: 'red' },
        ],
        mappings: [{ value: 0, text: 'none', color: 'red' }],
        queries: [{ expr: `sum(leader_election_master_status{name="${LEASE}"}) or on () vector(0)` }],
      },
    ],
  },
  {
    title: 'Rollouts',
    panels: [
      {
        id: 'rollout-phase',
        title: 'Phase',
        description:
          'The phase of each HotDeployment over time: HotUpgrading while batches run, Paused/AwaitingApproval between batches, Complete when done; Degraded or RolledBack when a failure stopped it.',
        type: 'state-timeline',
        unit: 'none',
        width: 24,
        height: 6,
        mappings: PHASES.map((p, i) => ({ value: i + 1, text: p, color: PHASE_COLORS[p] })),
        queries: [{ expr: PHASE_CODE, legend: HD_LEGEND }],
      },
      {
        id: 'batch-progress',
        title: 'Batch progress',
        description:
          'Pods at the new version / the pods the current batch aims for (cumulative). 100 % means the batch is done: the next starts, pauses or waits for approval.',
        type: 'bargauge',
        unit: 'percentunit',
        width: 8,
        queries: [
          {
            expr: `hotupgrade_batch{${HD}, field="updated"} / ignoring (field) clamp_min(hotupgrade_batch{${HD}, field="target"}, 1)`,
            legend: HD_LEGEND,
          },
        ],
      },
      {
        id: 'batch-number',
        title: 'Batch',
        description: 'The current batch (number, 1-based) and how many the rollout has (total).',
        type: 'timeseries',
        unit: 'short',
        width: 8,
        queries: [
          {
            expr: `hotupgrade_batch{${HD}, field=~"number|total"}`,
            legend: `${HD_LEGEND} {{field}}`,
          },
        ],
      },
      {
        id: 'pods-by-state',
        title: 'Pods by state',
        description:
          'current: pods that exist; ready; updated: at the new version; upgrading: mid handover. During a hot upgrade ready stays at current while updated climbs.',
        type: 'timeseries',
        unit: 'short',
        width: 8,
        queries: [{ expr: `hotupgrade_pods{${HD}}`, legend: `${HD_LEGEND} {{state}}` }],
      },
      {
        id: 'pods-by-version',
        title: 'Pods by version (controller)',
        description:
          "Pods of each HotDeployment by the version they serve, as the controller reads it from each pod's hotupgrade.io/image annotation: the new version's band grows batch by batch.",
        type: 'timeseries',
        unit: 'short',
        stack: true,
        queries: [
          {
            expr: `sum by (namespace, name, version) (hotupgrade_pods_by_version{${HD}})`,
            legend: `${HD_LEGEND} {{version}}`,
          },
        ],
      },
      {
        id: 'serving-version',
        title: 'Pods by serving version (sidecars)',
        description:
          'The same from the pods themselves: each sidecar reports the version its active slot serves. A gap to the controller view means pods whose handover is still in flight; pods missing here serve nothing.',
        type: 'timeseries',
        unit: 'short',
        stack: true,
        queries: [
          {
            expr: `count by (namespace, hotdeployment, version) (hotupgrade_active_version_info{${PODS}})`,
            legend: `${POD_LEGEND} {{version}}`,
          },
        ],
      },
    ],
  },
  {
    title: 'Handovers',
    panels: [
      {
        id: 'handover-duration',
        title: 'Handover duration (sidecars)',
        description:
          'Successor announced -> successor serving, as the new server measured it: what a hot upgrade costs a pod. Milliseconds for most servers; seconds mean a long drain.',
        type: 'timeseries',
        unit: 's',
        width: 8,
        queries: quantiles([0.5, 0.9, 0.99], `hotupgrade_handover_duration_seconds_bucket{${PODS}}`),
      },
      {
        id: 'handover-phases',
        title: 'Handover phases p90 (sidecars)',
        description:
          'Where handover time goes: notice (announced -> drain started), drain (-> lock released), takeover (-> serving). A long drain is the old server finishing its work.',
        type: 'timeseries',
        unit: 's',
        width: 8,
        queries: [
          {
            expr: `histogram_quantile(0.9, sum by (le, phase) (rate(hotupgrade_handover_phase_seconds_bucket{${PODS}}[${RATE}])))`,
            legend: '{{phase}}',
          },
        ],
      },
      {
        id: 'pod-upgrade-duration',
        title: 'Pod upgrade duration (controller)',
        description:
          'Placeholder slot patched -> the pod proved the new version serves, for all HotDeployments: includes the image pull and start, so it bounds how fast a batch can go.',
        type: 'timeseries',
        unit: 's',
        width: 8,
        queries: quantiles([0.5, 0.99], 'hotupgrade_pod_upgrade_duration_seconds_bucket{result="succeeded"}'),
      },
      {
        id: 'handover-rate',
        title: 'Pod upgrades per minute',
        description:
          'Pod upgrades the controller finished, by result and failure reason: the speed of the rollout.',
        type: 'timeseries',
        unit: 'short',
        width: 8,
        queries: [
          {
            expr: `sum by (result, reason) (rate(hotupgrade_handovers_total{${HD}, ${CONTROLLER_HANDOVERS}}[${RATE}])) * 60`,
            legend: '{{result}} {{reason}}',
          },
        ],
      },
      {
        id: 'handovers-failed',
        title: 'Failed handovers',
        description:
          'Failures per interval. controller: the pod upgrades it judged failed, by reason (docs/operations.md#troubleshooting says what each means). sidecars: slots that entered failed or successors rejected, as the pods saw them.',
        type: 'timeseries',
        unit: 'short',
        width: 8,
        bars: true,
        queries: [
          {
            expr: `sum by (namespace, name, reason) (increase(hotupgrade_handovers_total{${HD}, ${CONTROLLER_HANDOVERS}, result="failed"}[${RATE}]))`,
            legend: `controller ${HD_LEGEND} {{reason}}`,
          },
          {
            expr: `sum by (namespace, hotdeployment) (increase(hotupgrade_handovers_total{${PODS}, ${SIDECAR_HANDOVERS}, result="failed"}[${RATE}]))`,
            legend: `sidecars ${POD_LEGEND}`,
          },
        ],
      },
      {
        id: 'rollbacks',
        title: 'Rollbacks',
        description:
          'Automatic rollbacks per interval: the controller wrote the previous image back after a failed handover.',
        type: 'timeseries',
        unit: 'short',
        width: 8,
        bars: true,
        queries: [
          {
            expr: `sum by (namespace, name) (increase(hotupgrade_rollbacks_total{${HD}}[${RATE}]))`,
            legend: HD_LEGEND,
          },
        ],
      },
      {
        id: 'slots-by-state',
        title: 'Slots by state (sidecars)',
        description:
          'Slots by the protocol state their process reports: during a batch, announced/draining slots are handovers in flight; a slot stuck in one state is what to look at with GET :9901/v1/state on its pod.',
        type: 'timeseries',
        unit: 'short',
        width: 12,
        stack: true,
        queries: [{ expr: `sum by (state) (hotupgrade_slot_state{${PODS}})`, legend: '{{state}}' }],
      },
      {
        id: 'pods-not-serving',
        title: 'Pods not serving (sidecars)',
        description:
          'Pods where no process holds the active lock and serves. A hot upgrade keeps this at 0 throughout; anything else is lost service.',
        type: 'timeseries',
        unit: 'short',
        width: 12,
        queries: [
          {
            expr: `sum by (namespace, hotdeployment) (1 - hotupgrade_serving{${PODS}})`,
            legend: POD_LEGEND,
          },
        ],
      },
    ],
  },
  {
    title: 'Controller',
    panels: [
      {
        id: 'reconciles',
        title: 'Reconciles by result',
        description:
          'success; requeue (a write met a conflict: decided on stale data, redone); requeue_after (waiting for a deadline or a timed pause); error.',
        type: 'timeseries',
        unit: 'ops',
        width: 8,
        queries: [
          {
            expr: `sum by (result) (rate(controller_runtime_reconcile_total{${RECONCILER}}[${RATE}]))`,
            legend: '{{result}}',
          },
        ],
      },
      {
        id: 'reconcile-errors',
        title: 'Reconcile errors',
        description:
          "Reconciles that failed (a write the API server refused for another reason than a conflict). The controller's log says which (level warn, 'write failed'). Alert HotUpgradeControllerReconcileErrors.",
        type: 'timeseries',
        unit: 'ops',
        width: 8,
        queries: [
          {
            expr: `sum by (pod) (rate(controller_runtime_reconcile_errors_total{${RECONCILER}}[${RATE}]))`,
            legend: '{{pod}}',
          },
        ],
      },
      {
        id: 'reconcile-duration',
        title: 'Reconcile duration',
        description: 'Time per reconcile: planning plus the writes of one HotDeployment.',
        type: 'timeseries',
        unit: 's',
        width: 8,
        queries: quantiles([0.5, 0.99], `controller_runtime_reconcile_time_seconds_bucket{${RECONCILER}}`),
      },
      {
        id: 'queue-depth',
        title: 'Work queue depth',
        description:
          'HotDeployments waiting for a worker. It drains within seconds; a depth that stays up means the workers (--workers) cannot keep up.',
        type: 'timeseries',
        unit: 'short',
        width: 8,
        queries: [{ expr: `sum by (pod) (workqueue_depth{${QUEUE}})`, legend: '{{pod}}' }],
      },
      {
        id: 'queue-wait',
        title: 'Work queue wait p99',
        description: 'How long a HotDeployment waits in the queue before a worker takes it.',
        type: 'timeseries',
        unit: 's',
        width: 8,
        queries: quantiles([0.99], `workqueue_queue_duration_seconds_bucket{${QUEUE}}`),
      },
      {
        id: 'leader-by-pod',
        title: 'Leader by replica',
        description:
          'Which replica holds the Lease over time. A change is a failover: the new leader starts from its caches and continues the rollout.',
        type: 'state-timeline',
        unit: 'none',
        width: 8,
        mappings: [
          { value: 0, text: 'standby', color: 'text' },
          { value: 1, text: 'leader', color: 'green' },
        ],
        queries: [
          { expr: `max by (pod) (leader_election_master_status{name="${LEASE}"})`, legend: '{{pod}}' },
        ],
      },
      {
        id: 'api-requests',
        title: 'API requests by code',
        description:
          "The controller's requests to the API server. 409s are decisions made on stale data, retried; 429s are API priority and fairness pushing back.",
        type: 'timeseries',
        unit: 'ops',
        queries: [
          {
            expr: `sum by (code) (${fromController(`rate(rest_client_requests_total[${RATE}])`)})`,
            legend: '{{code}}',
          },
        ],
      },
      {
        id: 'controller-memory',
        title: 'Controller memory',
        description:
          'Resident memory per replica: the caches hold every managed pod (about 9 KiB each). Compare with the container limit.',
        type: 'timeseries',
        unit: 'bytes',
        queries: [
          {
            expr: `sum by (pod) (${fromController('process_resident_memory_bytes')})`,
            legend: '{{pod}}',
          },
        ],
      },
    ],
  },
];
