// The label conventions every dashboard query and alert rule relies on, in one place.
// A Prometheus that scrapes hotupgrade must produce them (test/e2e/prometheus.ts does;
// a PodMonitor needs the same relabelling, see docs/operations.md#dashboard):
//
// - the controller (job `hotupgrade-controller`) is scraped with honor_labels, so the
//   `namespace`/`name` labels of hotupgrade_* series name the HotDeployment; its generic
//   series (controller_runtime_*, workqueue_*, ...) keep the target's `namespace`/`pod`.
// - each managed pod's sidecar (job `hotupgrade-sidecars`) gets target labels
//   `namespace`, `pod` and `hotdeployment` (the pod's hotupgrade.io/hotdeployment label).
//
// Queries never select by `job`: a PodMonitor names jobs after itself. The one metric
// name both expose, hotupgrade_handovers_total, is told apart by its `reason` label,
// which only the controller's series carry.
import { CONTROLLER_NAME } from '../controller/reconciler.ts';

/** The `controller` label of controller_runtime_* and the `name` label of workqueue_*. */
export const CONTROLLER = CONTROLLER_NAME;

/** The `name` label of leader_election_master_status: the Lease (controller flag --lease-name, default). */
export const LEASE = 'hotupgrade-controller';

/** The `name` label of the hub's leader_election_master_status (hub flag --lease-name, default). */
export const HUB_LEASE = 'hotupgrade-hub';

/** Target label the sidecar scrape copies from the pod label hotupgrade.io/hotdeployment. */
export const HD_TARGET_LABEL = 'hotdeployment';

/** Grafana template variables the queries use; queries.ts substitutes them outside Grafana. */
export const VARS = {
  namespace: '$namespace',
  hotdeployment: '$hotdeployment',
  rateInterval: '$__rate_interval',
  range: '$__range',
} as const;

/** hotupgrade_* series of the controller, for the HotDeployments the dashboard shows. */
export const HD = `namespace=~"${VARS.namespace}", name=~"${VARS.hotdeployment}"`;

/** Sidecar series of the pods of the HotDeployments the dashboard shows. */
export const PODS = `namespace=~"${VARS.namespace}", ${HD_TARGET_LABEL}=~"${VARS.hotdeployment}"`;

/** The controller's hotupgrade_handovers_total (the sidecars' has no `reason`). */
export const CONTROLLER_HANDOVERS = 'reason!=""';

/** The sidecars' hotupgrade_handovers_total. */
export const SIDECAR_HANDOVERS = 'reason=""';

/** Our controller's generic series (controller_runtime_*). */
export const RECONCILER = `controller="${CONTROLLER}"`;

/** Our work queue's series (workqueue_*). */
export const QUEUE = `name="${CONTROLLER}"`;

/**
 * Keeps only series scraped from our controller's pods: for generic names other operators
 * expose too (rest_client_*, process_*), joined on the target labels.
 */
export const fromController = (expr: string): string =>
  `${expr} and on (namespace, pod) controller_runtime_max_concurrent_reconciles{${RECONCILER}}`;
