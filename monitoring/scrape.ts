// The Prometheus configuration that scrapes hotupgrade the way the dashboard and the
// alerts expect (selectors.ts): the controller's pods with honor_labels, each managed
// pod's sidecar with namespace/pod/hotdeployment target labels.
//
// Targets come from HTTP service discovery, not kubernetes_sd_configs: Debian's
// Prometheus is built without Kubernetes discovery (NEWS.Debian, 1.5.0: "Kubernetes
// support has been completely removed"). The discovery endpoint (test/e2e/prometheus.ts)
// lists pods and describes each container port with the same `__meta_kubernetes_pod_*`
// labels kubernetes_sd_configs (role: pod) gives, so the relabel_configs below are the
// ones a Prometheus with Kubernetes discovery, or a PodMonitor, would use.
import type { V1Pod } from '@kubernetes/client-node';
import { LABELS, NAMES } from '../controller/constants.ts';
import { HD_TARGET_LABEL } from './selectors.ts';

export const JOBS = { controller: 'hotupgrade-controller', sidecars: 'hotupgrade-sidecars' } as const;
export type Job = (typeof JOBS)[keyof typeof JOBS];

/** Labels of the controller's pods (the chart's), and the name of its metrics port. */
export const CONTROLLER_POD = {
  labels: { 'app.kubernetes.io/name': 'hotupgrade', 'app.kubernetes.io/component': 'controller' },
  port: 'metrics',
} as const;

/** Which pods each job discovers (a label selector, as the API takes it) and the port it scrapes. */
export const DISCOVERY: Record<Job, { labelSelector: string; port: string }> = {
  [JOBS.controller]: {
    labelSelector: Object.entries(CONTROLLER_POD.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
    port: CONTROLLER_POD.port,
  },
  [JOBS.sidecars]: { labelSelector: LABELS.hotDeployment, port: NAMES.sidecarPortName },
};

/** One entry of an HTTP service discovery response (and of file_sd). */
export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/** A fixed list of targets, for tests (a fake exporter) or anything outside Kubernetes. */
export interface StaticScrape {
  job: string;
  /** host:port */
  targets: string[];
  labels?: Record<string, string>;
  honorLabels?: boolean;
}

export interface ScrapeOptions {
  /** HTTP service discovery of job J: GET `${discoveryUrl}/J` answers TargetGroup[]. */
  discoveryUrl: string;
  ruleFiles: string[];
  /** Scrape, discovery and rule evaluation interval, in ms (whole seconds). */
  intervalMs: number;
  extraScrape?: StaticScrape[];
}

const sanitize = (label: string): string => label.replace(/[^a-zA-Z0-9_]/g, '_');

/** kubernetes_sd's name for a pod label: __meta_kubernetes_pod_label_<sanitized>. */
export const podLabelMeta = (label: string): string => `__meta_kubernetes_pod_label_${sanitize(label)}`;

/**
 * What kubernetes_sd_configs (role: pod) makes of pods: a target per declared container
 * port, at the pod IP. Pods without an IP yet are left out, as Prometheus does.
 */
export function podTargetGroups(pods: V1Pod[]): TargetGroup[] {
  const groups: TargetGroup[] = [];
  for (const pod of pods) {
    const ip = pod.status?.podIP;
    if (!ip) continue;
    const podLabels: Record<string, string> = {
      __meta_kubernetes_namespace: pod.metadata?.namespace ?? '',
      __meta_kubernetes_pod_name: pod.metadata?.name ?? '',
      __meta_kubernetes_pod_ip: ip,
      __meta_kubernetes_pod_node_name: pod.spec?.nodeName ?? '',
      __meta_kubernetes_pod_phase: pod.status?.phase ?? '',
      __meta_kubernetes_pod_ready: String(
        pod.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True',
      ),
      __meta_kubernetes_pod_uid: pod.metadata?.uid ?? '',
    };
    for (const [k, v] of Object.entries(pod.metadata?.labels ?? {})) {
      podLabels[podLabelMeta(k)] = v;
      podLabels[`__meta_kubernetes_pod_labelpresent_${sanitize(k)}`] = 'true';
    }
    for (const c of pod.spec?.containers ?? []) {
      for (const p of c.ports ?? []) {
        groups.push({
          targets: [ip.includes(':') ? `[${ip}]:${p.containerPort}` : `${ip}:${p.containerPort}`],
          labels: {
            ...podLabels,
            __meta_kubernetes_pod_container_name: c.name,
            __meta_kubernetes_pod_container_port_name: p.name ?? '',
            __meta_kubernetes_pod_container_port_number: String(p.containerPort),
            __meta_kubernetes_pod_container_port_protocol: p.protocol ?? 'TCP',
          },
        });
      }
    }
  }
  return groups;
}

function podJob(
  o: ScrapeOptions,
  job: Job,
  targetLabels: Record<string, string>,
  honorLabels: boolean,
): Record<string, unknown> {
  return {
    job_name: job,
    honor_labels: honorLabels,
    http_sd_configs: [{ url: `${o.discoveryUrl}/${job}`, refresh_interval: `${o.intervalMs / 1000}s` }],
    relabel_configs: [
      {
        source_labels: ['__meta_kubernetes_pod_container_port_name'],
        regex: DISCOVERY[job].port,
        action: 'keep',
      },
      // A pod that is not Running yet (or any more) has nothing to scrape.
      { source_labels: ['__meta_kubernetes_pod_phase'], regex: 'Running', action: 'keep' },
      { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
      { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
      ...Object.entries(targetLabels).map(([target, meta]) => ({
        source_labels: [meta],
        target_label: target,
      })),
    ],
  };
}

export function prometheusConfig(o: ScrapeOptions): Record<string, unknown> {
  if (o.intervalMs < 1000 || o.intervalMs % 1000 !== 0) {
    throw new Error(`scrape interval ${o.intervalMs} ms: use whole seconds, at least 1000`);
  }
  const interval = `${o.intervalMs / 1000}s`;
  return {
    global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
    rule_files: o.ruleFiles,
    scrape_configs: [
      // honor_labels: the controller's hotupgrade_* series carry the HotDeployment's
      // namespace; without it Prometheus would rename theirs to exported_namespace.
      podJob(o, JOBS.controller, {}, true),
      podJob(o, JOBS.sidecars, { [HD_TARGET_LABEL]: podLabelMeta(LABELS.hotDeployment) }, false),
      ...(o.extraScrape ?? []).map((s) => ({
        job_name: s.job,
        honor_labels: s.honorLabels ?? false,
        static_configs: [{ targets: s.targets, ...(s.labels ? { labels: s.labels } : {}) }],
      })),
    ],
  };
}
