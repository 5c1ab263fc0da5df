// What `helm template` produces, checked the way a user would look at it: the controller
// pod's security, resources, probes and replicas, the RBAC it gets, and the monitoring
// objects, which appear only when the cluster serves their kinds. No cluster needed;
// install.test.ts validates the same renders on a real API server.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadYaml } from '@kubernetes/client-node';
import type { V1Container, V1Deployment, V1PolicyRule } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ALL_FEATURES,
  CHART_DIR,
  MONITORING_API_VERSIONS,
  find,
  missingChartFiles,
  render,
  type Obj,
} from './chart.ts';

const missing = missingChartFiles();
if (missing.length) console.warn(`[chart] skipping: the chart lacks ${missing.join(', ')} (monitoring work)`);

/** The controller's rules: exactly what controller/ requests (docs/chart.md, "RBAC"). */
const CONTROLLER_RULES: V1PolicyRule[] = [
  { apiGroups: ['hotupgrade.io'], resources: ['hotdeployments'], verbs: ['list', 'watch', 'patch'] },
  { apiGroups: ['hotupgrade.io'], resources: ['hotdeployments/status'], verbs: ['patch'] },
  { apiGroups: ['hotupgrade.io'], resources: ['hotdeployments/finalizers'], verbs: ['update'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch', 'create', 'patch', 'delete'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create'] },
];

type Rbac = Obj & { rules?: V1PolicyRule[] };
const deploymentOf = (objs: Obj[]): V1Deployment => find(objs, 'Deployment') as unknown as V1Deployment;
const containerOf = (objs: Obj[]): V1Container => {
  const c = deploymentOf(objs).spec?.template.spec?.containers[0];
  if (!c) throw new Error('the Deployment has no container');
  return c;
};
const envOf = (objs: Obj[]): Record<string, string> =>
  Object.fromEntries(
    (containerOf(objs).env ?? []).map((e) => [e.name, e.value ?? `<${e.valueFrom ? 'ref' : ''}>`]),
  );
const kinds = (objs: Obj[]): string[] => objs.map((o) => o.kind);
/** Mebibytes of a memory quantity like 320Mi or 1Gi. */
const mib = (q: string): number => Number(/^\d+/.exec(q)?.[0]) * (q.endsWith('Gi') ? 1024 : 1);

describe.skipIf(missing.length > 0)('the chart with its default values', () => {
  let objs: Obj[];
  beforeAll(async () => {
    objs = await render();
  });

  it('renders the controller, its RBAC, the metrics Service, a PDB and the dashboard, and nothing else', () => {
    expect(kinds(objs).sort()).toEqual(
      [
        'ClusterRole', // controller
        'ClusterRole', // view
        'ClusterRole', // edit
        'ClusterRoleBinding',
        'ConfigMap',
        'Deployment',
        'PodDisruptionBudget',
        'Role', // leader election
        'RoleBinding',
        'Service',
        'ServiceAccount',
      ].sort(),
    );
    for (const o of objs) {
      expect(o.metadata.labels, `${o.kind} ${o.metadata.name}`).toMatchObject({
        'app.kubernetes.io/instance': 'hotupgrade',
        'app.kubernetes.io/managed-by': 'Helm',
        'helm.sh/chart': 'hotupgrade-0.1.0',
      });
      expect(o.metadata.name).toMatch(/^hotupgrade(-|$)/);
    }
  });

  it('runs 2 replicas with leader election on a Lease in the release namespace, spread by preference only', () => {
    const d = deploymentOf(objs);
    expect(d.metadata?.name).toBe('hotupgrade-controller');
    expect(d.spec?.replicas).toBe(2);
    expect(d.spec?.template.metadata?.labels).toMatchObject({
      'app.kubernetes.io/name': 'hotupgrade',
      'app.kubernetes.io/instance': 'hotupgrade',
      'app.kubernetes.io/component': 'controller',
    });
    const env = envOf(objs);
    expect(env).toMatchObject({
      HOTUPGRADE_LEADER_ELECT: 'true',
      HOTUPGRADE_LEASE_NAME: 'hotupgrade-controller',
      POD_NAME: '<ref>',
      POD_NAMESPACE: '<ref>',
    });
    const byName = Object.fromEntries((containerOf(objs).env ?? []).map((e) => [e.name, e]));
    expect(byName.POD_NAMESPACE?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.namespace');
    expect(byName.POD_NAME?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
    expect(env).not.toHaveProperty('WATCH_NAMESPACE');
    const affinity = d.spec?.template.spec?.affinity?.podAntiAffinity;
    expect(affinity?.preferredDuringSchedulingIgnoredDuringExecution).toHaveLength(1);
    expect(affinity?.requiredDuringSchedulingIgnoredDuringExecution).toBeUndefined();
    // A new replica starts before an old one stops: someone can always take the Lease over.
    expect(d.spec?.strategy?.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
  });

  it('restricts the pod: non-root, read-only root filesystem, every capability dropped, RuntimeDefault seccomp', () => {
    const pod = deploymentOf(objs).spec?.template.spec;
    expect(pod?.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod?.securityContext?.runAsUser).toBeGreaterThan(0);
    expect(containerOf(objs).securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod?.hostNetwork ?? false).toBe(false);
    expect(containerOf(objs).volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
  });

  it('sets requests and a memory limit, and NODE_OPTIONS keeps the V8 heap inside that limit', () => {
    const res = containerOf(objs).resources;
    expect(res?.requests).toEqual({ cpu: '100m', memory: '256Mi' });
    expect(res?.limits).toEqual({ memory: '320Mi' });
    const nodeOptions = envOf(objs).NODE_OPTIONS ?? '';
    expect(nodeOptions).toBe('--max-old-space-size=192 --max-semi-space-size=8');
    const oldSpace = Number(/--max-old-space-size=(\d+)/.exec(nodeOptions)?.[1]);
    const semiSpace = Number(/--max-semi-space-size=(\d+)/.exec(nodeOptions)?.[1]);
    // Young generation = 3 semi-spaces; the measured RSS at 10,000 pods (237.5 MB) fits too.
    expect(oldSpace + 3 * semiSpace).toBeLessThan(mib(String(res?.limits?.memory)));
    expect(237.5 / 1.048576).toBeLessThan(mib(String(res?.limits?.memory)));
  });

  it('probes /healthz and /readyz on the metrics port, and gives SIGTERM time to release the Lease', () => {
    const c = containerOf(objs);
    expect(c.ports).toEqual([{ name: 'metrics', containerPort: 8080, protocol: 'TCP' }]);
    expect(c.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(c.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    // controller/main.ts exits at most 10 s after SIGTERM.
    expect(deploymentOf(objs).spec?.template.spec?.terminationGracePeriodSeconds).toBeGreaterThan(10);
  });

  it('keeps one replica through voluntary disruptions with a PodDisruptionBudget', () => {
    const pdb = find(objs, 'PodDisruptionBudget') as Obj & { spec: Record<string, unknown> };
    expect(pdb.spec).toEqual({
      minAvailable: 1,
      selector: { matchLabels: deploymentOf(objs).spec?.selector.matchLabels },
    });
  });

  it('serves the metrics port through a ClusterIP Service that selects the controller pods', () => {
    const svc = find(objs, 'Service') as Obj & { spec: { selector: object; ports: object[] } };
    expect(svc.metadata.name).toBe('hotupgrade-controller-metrics');
    expect(svc.spec.selector).toEqual(deploymentOf(objs).spec?.selector.matchLabels);
    expect(svc.spec.ports).toEqual([{ name: 'metrics', port: 8080, targetPort: 'metrics', protocol: 'TCP' }]);
  });

  it('gives the controller exactly the verbs its code uses: no wildcard, no Secrets', () => {
    const role = find(objs, 'ClusterRole', 'hotupgrade-controller') as Rbac;
    expect(role.rules).toEqual(CONTROLLER_RULES);
    const binding = find(objs, 'ClusterRoleBinding') as Obj & { subjects: object[]; roleRef: object };
    expect(binding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'hotupgrade-controller',
    });
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'hotupgrade', namespace: 'hotupgrade-system' },
    ]);
    for (const r of objs.filter((o): o is Rbac => o.kind === 'Role' || o.kind === 'ClusterRole')) {
      for (const rule of r.rules ?? []) {
        expect([...rule.verbs, ...(rule.resources ?? []), ...(rule.apiGroups ?? [])]).not.toContain('*');
        expect(rule.resources ?? []).not.toContain('secrets');
      }
    }
  });

  it('lets the controller create its Lease and read and write only that one, in the release namespace', () => {
    const role = find(objs, 'Role') as Rbac;
    expect(role.metadata).toMatchObject({
      name: 'hotupgrade-leader-election',
      namespace: 'hotupgrade-system',
    });
    expect(role.rules).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      {
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        resourceNames: ['hotupgrade-controller'],
        verbs: ['get', 'update'],
      },
    ]);
  });

  it('adds read rights to the built-in view role and write rights to edit (aggregated ClusterRoles)', () => {
    const view = find(objs, 'ClusterRole', 'hotupgrade-view') as Rbac;
    expect(view.metadata.labels).toMatchObject({ 'rbac.authorization.k8s.io/aggregate-to-view': 'true' });
    expect(view.rules?.flatMap((r) => r.verbs).sort()).toEqual(['get', 'list', 'watch']);
    const edit = find(objs, 'ClusterRole', 'hotupgrade-edit') as Rbac;
    expect(edit.metadata.labels).toMatchObject({ 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' });
    expect(edit.metadata.labels).not.toHaveProperty('rbac.authorization.k8s.io/aggregate-to-view');
    expect(edit.rules?.find((r) => r.resources?.includes('hotdeployments'))?.verbs).toContain('create');
  });

  it('ships the Grafana dashboard in a ConfigMap labelled for the Grafana sidecar', () => {
    const cm = find(objs, 'ConfigMap') as Obj & { data: Record<string, string> };
    expect(cm.metadata).toMatchObject({ name: 'hotupgrade-dashboard', namespace: 'hotupgrade-system' });
    expect(cm.metadata.labels).toMatchObject({ grafana_dashboard: '1' });
    const file = readFileSync(join(CHART_DIR, 'files/grafana-dashboard.json'), 'utf8');
    expect(JSON.parse(cm.data['hotupgrade.json'] ?? '')).toEqual(JSON.parse(file));
  });

  it('renders no ServiceMonitor, PodMonitor or PrometheusRule when the cluster lacks their CRDs', () => {
    expect(kinds(objs)).not.toContain('ServiceMonitor');
    expect(kinds(objs)).not.toContain('PodMonitor');
    expect(kinds(objs)).not.toContain('PrometheusRule');
  });
});

describe.skipIf(missing.length > 0)('the chart with values', () => {
  it('builds every image reference from image.registry and image.tag (the e2e install)', async () => {
    const objs = await render({ set: { 'image.registry': 'hotupgrade.local', 'image.tag': 'dev' } });
    expect(containerOf(objs).image).toBe('hotupgrade.local/controller:dev');
    expect(envOf(objs)).toMatchObject({
      HOTUPGRADE_SIDECAR_IMAGE: 'hotupgrade.local/sidecar:dev',
      HOTUPGRADE_PLACEHOLDER_IMAGE: 'hotupgrade.local/placeholder:dev',
    });
    const defaults = await render();
    expect(containerOf(defaults).image).toBe('ghcr.io/hotupgrade/controller:0.1.0');
  });

  it('takes a full reference per image over registry/repository:tag', async () => {
    const objs = await render({
      set: { 'images.sidecar.override': 'mirror.example.com/hu-sidecar@sha256:abc' },
    });
    expect(envOf(objs).HOTUPGRADE_SIDECAR_IMAGE).toBe('mirror.example.com/hu-sidecar@sha256:abc');
    expect(envOf(objs).HOTUPGRADE_PLACEHOLDER_IMAGE).toBe('ghcr.io/hotupgrade/placeholder:0.1.0');
  });

  it('passes every controller setting as the env controller/config.ts reads', async () => {
    const objs = await render({ valuesFiles: [ALL_FEATURES] });
    expect(envOf(objs)).toMatchObject({
      HOTUPGRADE_CONTROLLER_PORT: '9090',
      HOTUPGRADE_LEASE_NAME: 'hu-leader',
      HOTUPGRADE_WORKERS: '8',
      HOTUPGRADE_WRITE_CONCURRENCY: '64',
      HOTUPGRADE_KUBE_QPS: '500',
      HOTUPGRADE_KUBE_BURST: '1000',
      HOTUPGRADE_RESYNC_SECONDS: '600',
      LOG_LEVEL: 'debug',
      UV_THREADPOOL_SIZE: '2',
    });
    const spread = deploymentOf(objs).spec?.template.spec?.topologySpreadConstraints?.[0];
    expect(spread?.labelSelector?.matchLabels).toEqual(deploymentOf(objs).spec?.selector.matchLabels);
  });

  it('with watchNamespace, binds a Role in that namespace instead of a ClusterRole', async () => {
    const objs = await render({ set: { watchNamespace: 'apps' } });
    expect(envOf(objs).WATCH_NAMESPACE).toBe('apps');
    const clusterRoles = objs.filter((o) => o.kind === 'ClusterRole').map((o) => o.metadata.name);
    expect(clusterRoles.sort()).toEqual(['hotupgrade-edit', 'hotupgrade-view']);
    expect(kinds(objs)).not.toContain('ClusterRoleBinding');
    const role = find(objs, 'Role', 'hotupgrade-controller') as Rbac;
    expect(role.metadata.namespace).toBe('apps');
    expect(role.rules).toEqual(CONTROLLER_RULES);
    const binding = find(objs, 'RoleBinding', 'hotupgrade-controller') as Obj & { roleRef: { kind: string } };
    expect(binding.metadata.namespace).toBe('apps');
    expect(binding.roleRef.kind).toBe('Role');
    // The Lease stays in the release namespace.
    expect(find(objs, 'Role', 'hotupgrade-leader-election').metadata.namespace).toBe('hotupgrade-system');
  });

  it('with one replica, no PodDisruptionBudget (it would block every node drain)', async () => {
    const objs = await render({ set: { replicaCount: 1 } });
    expect(kinds(objs)).not.toContain('PodDisruptionBudget');
    const off = await render({ set: { replicaCount: 1, 'leaderElection.enabled': false } });
    expect(envOf(off).HOTUPGRADE_LEADER_ELECT).toBe('false');
    expect(kinds(off)).not.toContain('Role');
  });

  it('renders the ServiceMonitor, PodMonitor and PrometheusRule when the cluster serves their kinds, with extra labels', async () => {
    const objs = await render({ valuesFiles: [ALL_FEATURES], apiVersions: MONITORING_API_VERSIONS });
    const sm = find(objs, 'ServiceMonitor') as Obj & { spec: { endpoints: Record<string, unknown>[] } };
    expect(sm.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack' });
    // hotupgrade_* series name their HotDeployment with `namespace` and `name` (monitoring/selectors.ts).
    expect(sm.spec.endpoints[0]).toMatchObject({
      port: 'metrics',
      path: '/metrics',
      honorLabels: true,
      interval: '15s',
    });
    const pm = find(objs, 'PodMonitor') as Obj & {
      spec: { selector: object; podMetricsEndpoints: { port: string; relabelings: object[] }[] };
    };
    expect(pm.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack' });
    expect(pm.spec.selector).toEqual({
      matchExpressions: [{ key: 'hotupgrade.io/hotdeployment', operator: 'Exists' }],
    });
    expect(pm.spec.podMetricsEndpoints[0]?.port).toBe('hu-sidecar');
    expect(pm.spec.podMetricsEndpoints[0]?.relabelings[0]).toEqual({
      sourceLabels: ['__meta_kubernetes_pod_label_hotupgrade_io_hotdeployment'],
      targetLabel: 'hotdeployment',
    });
    const rule = find(objs, 'PrometheusRule') as Obj & { spec: unknown };
    expect(rule.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack' });
    const file = loadYaml(readFileSync(join(CHART_DIR, 'files/prometheus-rules.yaml'), 'utf8'));
    expect(rule.spec).toEqual(file);

    const off = await render({
      apiVersions: MONITORING_API_VERSIONS,
      set: { 'serviceMonitor.enabled': false, 'podMonitor.enabled': false, 'prometheusRule.enabled': false },
    });
    expect(kinds(off).filter((k) => /Monitor|PrometheusRule/.test(k))).toEqual([]);
  });

  it("puts the dashboard ConfigMap in Grafana's namespace with the labels and annotations given", async () => {
    const objs = await render({ valuesFiles: [ALL_FEATURES] });
    const cm = find(objs, 'ConfigMap');
    expect(cm.metadata.namespace).toBe('monitoring');
    expect(cm.metadata.labels).toMatchObject({
      grafana_dashboard: '1',
      'example.com/dashboards': 'hotupgrade',
    });
    expect(cm.metadata.annotations).toEqual({ grafana_folder: 'Hotupgrade' });
    const none = await render({ set: { 'grafanaDashboard.enabled': false } });
    expect(kinds(none)).not.toContain('ConfigMap');
  });
});
