// What `helm template` produces, checked the way a user would look at it: the controller
// pod's security, resources, probes and replicas, the RBAC it gets, the monitoring
// objects, which appear only when the cluster serves their kinds, and hub mode (the hub's
// Deployment and RBAC, and what memberAccess grants a hub in a member cluster). No cluster
// needed; install.test.ts validates the same renders on a real API server.
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

/** The hub's rules on the hub cluster: exactly what hub mode's contract lists (docs/chart.md, "Hub mode"). */
const HUB_RULES: V1PolicyRule[] = [
  {
    apiGroups: ['hotupgrade.io'],
    resources: ['memberclusters', 'hotreleases'],
    verbs: ['get', 'list', 'watch'],
  },
  {
    apiGroups: ['hotupgrade.io'],
    resources: ['memberclusters/status', 'hotreleases/status'],
    verbs: ['update', 'patch'],
  },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
];

/** What a hub does in a member cluster, and nothing more (memberAccess). */
const MEMBER_ACCESS_RULES: V1PolicyRule[] = [
  { apiGroups: ['hotupgrade.io'], resources: ['hotdeployments'], verbs: ['get', 'patch'] },
  {
    apiGroups: ['apiextensions.k8s.io'],
    resources: ['customresourcedefinitions'],
    resourceNames: ['hotdeployments.hotupgrade.io'],
    verbs: ['get'],
  },
  { nonResourceURLs: ['/version'], verbs: ['get'] },
];

const leaseRules = (lease: string): V1PolicyRule[] => [
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
  {
    apiGroups: ['coordination.k8s.io'],
    resources: ['leases'],
    resourceNames: [lease],
    verbs: ['get', 'update'],
  },
];

type Rbac = Obj & { rules?: V1PolicyRule[] };
type Binding = Obj & {
  roleRef: { apiGroup: string; kind: string; name: string };
  subjects: { kind: string; name: string; namespace?: string }[];
};
/** The Deployment of one component (`controller` or `hub`). */
const deploymentOf = (objs: Obj[], component = 'controller'): V1Deployment => {
  const d = objs.find(
    (o) => o.kind === 'Deployment' && o.metadata.labels?.['app.kubernetes.io/component'] === component,
  );
  if (!d) throw new Error(`no ${component} Deployment in ${objs.map((x) => x.kind).join(', ')}`);
  return d as unknown as V1Deployment;
};
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
/** `Kind name` of every object, sorted. */
const names = (objs: Obj[]): string[] => objs.map((o) => `${o.kind} ${o.metadata.name}`).sort();
const HUB_SA = { kind: 'ServiceAccount', name: 'hotupgrade-hub', namespace: 'hotupgrade-system' };
const ACCESS_SA = { kind: 'ServiceAccount', name: 'hotupgrade-hub-access', namespace: 'hotupgrade-system' };
/** The roles bound to a subject: `Kind name` of each binding's roleRef. */
const rolesOf = (objs: Obj[], subject: object): string[] =>
  objs
    .filter((o): o is Binding => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding')
    .filter((b) => b.subjects.some((x) => JSON.stringify(x) === JSON.stringify(subject)))
    .map((b) => `${b.roleRef.kind} ${b.roleRef.name}`)
    .sort();
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
    const sm = find(objs, 'ServiceMonitor', 'hotupgrade-controller') as Obj & {
      spec: { endpoints: Record<string, unknown>[] };
    };
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

describe.skipIf(missing.length > 0)('hub mode (hub.enabled)', () => {
  let defaults: Obj[];
  let objs: Obj[];
  beforeAll(async () => {
    [defaults, objs] = await Promise.all([render(), render({ set: { 'hub.enabled': true } })]);
  });
  const hub = (): V1Deployment => deploymentOf(objs, 'hub');
  const hubContainer = (): V1Container => {
    const c = hub().spec?.template.spec?.containers[0];
    if (!c) throw new Error('the hub Deployment has no container');
    return c;
  };

  it('adds the hub: its Deployment, ServiceAccount, RBAC, metrics Service and PDB, and changes nothing else', () => {
    const added = names(objs).filter((n) => !names(defaults).includes(n));
    expect(added).toEqual(
      [
        'Deployment hotupgrade-hub',
        'ServiceAccount hotupgrade-hub',
        'ClusterRole hotupgrade-hub',
        'ClusterRoleBinding hotupgrade-hub',
        'Role hotupgrade-hub-secrets',
        'RoleBinding hotupgrade-hub-secrets',
        'Role hotupgrade-hub-leader-election',
        'RoleBinding hotupgrade-hub-leader-election',
        'Service hotupgrade-hub-metrics',
        'PodDisruptionBudget hotupgrade-hub',
      ].sort(),
    );
    expect(names(objs)).toEqual([...names(defaults), ...added].sort());
    // The member controller stays as it was: this cluster can be a member of its own hub.
    expect(deploymentOf(objs)).toEqual(deploymentOf(defaults));
    for (const o of objs.filter((x) => added.includes(`${x.kind} ${x.metadata.name}`))) {
      expect(o.metadata.labels, `${o.kind} ${o.metadata.name}`).toMatchObject({
        'app.kubernetes.io/instance': 'hotupgrade',
        'app.kubernetes.io/component': 'hub',
        'app.kubernetes.io/managed-by': 'Helm',
      });
    }
  });

  it('runs node /app/hub/main.ts from the controller image, 2 replicas, with the env the hub reads for its flags', () => {
    const d = hub();
    expect(d.spec?.replicas).toBe(2);
    expect(d.spec?.selector.matchLabels).toEqual({
      'app.kubernetes.io/name': 'hotupgrade',
      'app.kubernetes.io/instance': 'hotupgrade',
      'app.kubernetes.io/component': 'hub',
    });
    expect(d.spec?.strategy?.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    const c = hubContainer();
    expect(c.image).toBe(containerOf(objs).image);
    expect(c.command).toEqual(['node', '/app/hub/main.ts']);
    expect(c.args).toBeUndefined();
    expect(d.spec?.template.spec?.serviceAccountName).toBe('hotupgrade-hub');
    const env = Object.fromEntries(
      (c.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom?.fieldRef?.fieldPath]),
    );
    expect(env).toEqual({
      POD_NAME: 'metadata.name',
      POD_NAMESPACE: 'metadata.namespace',
      HOTUPGRADE_LEADER_ELECT: 'true',
      HOTUPGRADE_HUB_LEASE_NAME: 'hotupgrade-hub',
      HOTUPGRADE_HUB_PORT: '8081',
      HOTUPGRADE_HUB_PROBE_SECONDS: '30',
      HOTUPGRADE_HUB_POLL_SECONDS: '2',
      HOTUPGRADE_HUB_MEMBER_TIMEOUT_SECONDS: '10',
      LOG_LEVEL: 'info',
      NODE_OPTIONS: '--max-old-space-size=128 --max-semi-space-size=8',
    });
  });

  it('probes /healthz and /readyz on its port and runs as restricted as the controller, with resources of its own', () => {
    const c = hubContainer();
    expect(c.ports).toEqual([{ name: 'metrics', containerPort: 8081, protocol: 'TCP' }]);
    expect(c.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(c.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(c.securityContext).toEqual(containerOf(objs).securityContext);
    expect(hub().spec?.template.spec?.securityContext).toEqual(
      deploymentOf(objs).spec?.template.spec?.securityContext,
    );
    expect(c.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    expect(c.resources).toEqual({ requests: { cpu: '50m', memory: '192Mi' }, limits: { memory: '256Mi' } });
    const oldSpace = Number(
      /--max-old-space-size=(\d+)/.exec(c.env?.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '')?.[1],
    );
    expect(oldSpace + 3 * 8).toBeLessThan(mib(String(c.resources?.limits?.memory)));
    const affinity = hub().spec?.template.spec?.affinity?.podAntiAffinity;
    expect(
      affinity?.preferredDuringSchedulingIgnoredDuringExecution?.[0]?.podAffinityTerm.labelSelector,
    ).toEqual({
      matchLabels: hub().spec?.selector.matchLabels,
    });
    expect(hub().spec?.template.spec?.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
  });

  it('gives the hub exactly its verbs on the hub cluster: MemberClusters, HotReleases, their status, events', () => {
    expect((find(objs, 'ClusterRole', 'hotupgrade-hub') as Rbac).rules).toEqual(HUB_RULES);
    expect(rolesOf(objs, HUB_SA)).toEqual([
      'ClusterRole hotupgrade-hub',
      'Role hotupgrade-hub-leader-election',
      'Role hotupgrade-hub-secrets',
    ]);
    const crb = find(objs, 'ClusterRoleBinding', 'hotupgrade-hub') as Binding;
    expect(crb.subjects).toEqual([HUB_SA]);
    // No member rights without memberAccess, and the controller gains nothing.
    expect(
      rolesOf(objs, { kind: 'ServiceAccount', name: 'hotupgrade', namespace: 'hotupgrade-system' }),
    ).toEqual(
      rolesOf(defaults, { kind: 'ServiceAccount', name: 'hotupgrade', namespace: 'hotupgrade-system' }),
    );
  });

  it('lets the hub get Secrets in the release namespace only (the member kubeconfigs), nothing else on them', () => {
    const role = find(objs, 'Role', 'hotupgrade-hub-secrets') as Rbac;
    expect(role.metadata.namespace).toBe('hotupgrade-system');
    expect(role.rules).toEqual([{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }]);
    const secretRules = objs
      .filter((o): o is Rbac => o.kind === 'Role' || o.kind === 'ClusterRole')
      .filter((r) => (r.rules ?? []).some((x) => x.resources?.includes('secrets')));
    expect(secretRules.map((r) => r.metadata.name)).toEqual(['hotupgrade-hub-secrets']);
  });

  it("elects the hub's leader on its own Lease, apart from the controller's", () => {
    const role = find(objs, 'Role', 'hotupgrade-hub-leader-election') as Rbac;
    expect(role.metadata.namespace).toBe('hotupgrade-system');
    expect(role.rules).toEqual(leaseRules('hotupgrade-hub'));
    expect((find(objs, 'Role', 'hotupgrade-leader-election') as Rbac).rules).toEqual(
      leaseRules('hotupgrade-controller'),
    );
  });

  it('keeps one hub replica through node drains, and has no PDB with one replica', async () => {
    const pdb = find(objs, 'PodDisruptionBudget', 'hotupgrade-hub') as Obj & {
      spec: Record<string, unknown>;
    };
    expect(pdb.spec).toEqual({
      minAvailable: 1,
      selector: { matchLabels: hub().spec?.selector.matchLabels },
    });
    const one = await render({ set: { 'hub.enabled': true, 'hub.replicas': 1 } });
    expect(names(one)).not.toContain('PodDisruptionBudget hotupgrade-hub');
    expect(names(one)).toContain('PodDisruptionBudget hotupgrade-controller');
  });

  it('serves its metrics through its own Service (port `metrics`), scraped by its own ServiceMonitor', async () => {
    const svc = find(objs, 'Service', 'hotupgrade-hub-metrics') as Obj & {
      spec: { selector: object; ports: object[] };
    };
    expect(svc.spec.selector).toEqual(hub().spec?.selector.matchLabels);
    expect(svc.spec.ports).toEqual([{ name: 'metrics', port: 8081, targetPort: 'metrics', protocol: 'TCP' }]);
    const mon = await render({ set: { 'hub.enabled': true }, apiVersions: MONITORING_API_VERSIONS });
    type Sm = Obj & { spec: { selector: { matchLabels: Record<string, string> }; endpoints: object[] } };
    const sm = find(mon, 'ServiceMonitor', 'hotupgrade-hub') as Sm;
    const selects = (m: Sm, o: Obj): boolean =>
      Object.entries(m.spec.selector.matchLabels).every(([k, v]) => o.metadata.labels?.[k] === v);
    const services = mon.filter((o) => o.kind === 'Service');
    expect(services.filter((o) => selects(sm, o)).map((o) => o.metadata.name)).toEqual([
      'hotupgrade-hub-metrics',
    ]);
    const controllerSm = find(mon, 'ServiceMonitor', 'hotupgrade-controller') as Sm;
    expect(services.filter((o) => selects(controllerSm, o)).map((o) => o.metadata.name)).toEqual([
      'hotupgrade-controller-metrics',
    ]);
    expect(sm.spec.endpoints).toEqual([
      { port: 'metrics', path: '/metrics', honorLabels: true, interval: '30s' },
    ]);
    const without = await render({ set: { 'hub.enabled': true } });
    expect(kinds(without)).not.toContain('ServiceMonitor');
  });

  it('passes every hub value through', async () => {
    const set = await render({
      set: {
        'hub.enabled': true,
        'hub.replicas': 3,
        'hub.leaseName': 'hub-leader',
        'hub.port': 9443,
        'hub.probeSeconds': 60,
        'hub.pollSeconds': 5,
        'hub.memberTimeoutSeconds': 20,
        'hub.logLevel': 'debug',
        'hub.nodeOptions': '',
        'hub.resources.limits.memory': '1Gi',
        'hub.nodeSelector.pool': 'control',
        'hub.tolerations[0].key': 'dedicated',
        'hub.tolerations[0].operator': 'Exists',
        'hub.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key':
          'pool',
        'hub.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator':
          'Exists',
      },
    });
    const d = deploymentOf(set, 'hub');
    const c = d.spec?.template.spec?.containers[0];
    expect(d.spec?.replicas).toBe(3);
    expect(Object.fromEntries((c?.env ?? []).map((e) => [e.name, e.value]))).toMatchObject({
      HOTUPGRADE_HUB_LEASE_NAME: 'hub-leader',
      HOTUPGRADE_HUB_PORT: '9443',
      HOTUPGRADE_HUB_PROBE_SECONDS: '60',
      HOTUPGRADE_HUB_POLL_SECONDS: '5',
      HOTUPGRADE_HUB_MEMBER_TIMEOUT_SECONDS: '20',
      LOG_LEVEL: 'debug',
    });
    expect(c?.env?.map((e) => e.name)).not.toContain('NODE_OPTIONS');
    expect(c?.ports?.[0]?.containerPort).toBe(9443);
    expect(c?.resources?.limits).toEqual({ memory: '1Gi' });
    expect(d.spec?.template.spec?.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux', pool: 'control' });
    expect(d.spec?.template.spec?.tolerations).toEqual([{ key: 'dedicated', operator: 'Exists' }]);
    expect(d.spec?.template.spec?.affinity?.podAntiAffinity).toBeUndefined();
    expect(d.spec?.template.spec?.affinity?.nodeAffinity).toBeDefined();
    expect((find(set, 'Role', 'hotupgrade-hub-leader-election') as Rbac).rules).toEqual(
      leaseRules('hub-leader'),
    );
    const svc = find(set, 'Service', 'hotupgrade-hub-metrics') as Obj & {
      spec: { ports: { port: number }[] };
    };
    expect(svc.spec.ports[0]?.port).toBe(9443);
    // The controller keeps its own scheduling.
    expect(deploymentOf(set).spec?.template.spec?.tolerations).toBeUndefined();
  });

  it('with rbac.create=false, runs the hub without creating roles (bind them yourself)', async () => {
    const off = await render({ set: { 'hub.enabled': true, 'rbac.create': false } });
    expect(names(off)).toEqual(
      expect.arrayContaining(['Deployment hotupgrade-hub', 'ServiceAccount hotupgrade-hub']),
    );
    expect(kinds(off).filter((k) => /Role/.test(k))).toEqual([]);
  });
});

describe.skipIf(missing.length > 0)('member access (memberAccess.enabled)', () => {
  it('adds an account for the hub with exactly the verbs a hub uses in a member, and its long-lived token', async () => {
    const [defaults, objs] = await Promise.all([render(), render({ set: { 'memberAccess.enabled': true } })]);
    expect(names(objs).filter((n) => !names(defaults).includes(n))).toEqual([
      'ClusterRole hotupgrade-hub-access',
      'ClusterRoleBinding hotupgrade-hub-access',
      'Secret hotupgrade-hub-access-token',
      'ServiceAccount hotupgrade-hub-access',
    ]);
    expect((find(objs, 'ClusterRole', 'hotupgrade-hub-access') as Rbac).rules).toEqual(MEMBER_ACCESS_RULES);
    expect(rolesOf(objs, ACCESS_SA)).toEqual(['ClusterRole hotupgrade-hub-access']);
    expect((find(objs, 'ClusterRoleBinding', 'hotupgrade-hub-access') as Binding).subjects).toEqual([
      ACCESS_SA,
    ]);
    const secret = find(objs, 'Secret', 'hotupgrade-hub-access-token') as Obj & {
      type: string;
      data?: unknown;
    };
    expect(secret.type).toBe('kubernetes.io/service-account-token');
    expect(secret.metadata.namespace).toBe('hotupgrade-system');
    expect(secret.metadata.annotations).toEqual({
      'kubernetes.io/service-account.name': 'hotupgrade-hub-access',
    });
    expect(secret.data).toBeUndefined(); // the API server's token controller fills it in
    expect(find(objs, 'ServiceAccount', 'hotupgrade-hub-access')).toMatchObject({
      automountServiceAccountToken: false,
    });
  });

  it("with hub.enabled too, binds the hub's own account as well (a MemberCluster with inCluster: true)", async () => {
    const objs = await render({ set: { 'hub.enabled': true, 'memberAccess.enabled': true } });
    expect((find(objs, 'ClusterRoleBinding', 'hotupgrade-hub-access') as Binding).subjects).toEqual([
      ACCESS_SA,
      HUB_SA,
    ]);
    expect(rolesOf(objs, HUB_SA)).toEqual([
      'ClusterRole hotupgrade-hub',
      'ClusterRole hotupgrade-hub-access',
      'Role hotupgrade-hub-leader-election',
      'Role hotupgrade-hub-secrets',
    ]);
  });
});
