// The chart on a real API server (test/cluster's control plane: etcd, kube-apiserver,
// kube-controller-manager; no kubelet, so the chart's own controller pods stay Pending):
// - every rendered object passes the API server's strict validation (`kubectl apply
//   --dry-run=server --validate=strict`: each field checked against the server's OpenAPI
//   schema), the monitoring kinds against the Prometheus Operator's own CRDs;
// - `helm install --dry-run=server` renders the monitoring objects only once those CRDs exist;
// - a real `helm install`, then the controller (run here from controller/main.ts) with the
//   chart's ServiceAccount token and nothing else, through a hot upgrade, an automatic
//   rollback and a scale-down: the API server refuses none of its requests; with
//   watchNamespace it is confined to that namespace;
// - hub mode: the hub's ServiceAccount may do exactly what the hub does on the hub cluster;
//   the commands NOTES.txt gives for memberAccess turn its token into a kubeconfig Secret and
//   a MemberCluster, and that kubeconfig may do exactly what a hub does in a member; the hub
//   itself (hub/main.ts, with the env the chart gives it) probes both kinds of member;
// - the CRD upgrade the docs describe, and what `helm uninstall` leaves behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import type { V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSamples } from '../../bench/prom.ts';
import { KubeClient, loadKubeConfig } from '../../controller/kube/client.ts';
import { freePort } from '../../demo/ports.ts';
import { checkTier, startControlPlane, type ControlPlane } from '../cluster/harness.ts';
import { demoImage, hdPath, IMAGES, until } from '../controller/env.ts';
import {
  condition,
  createHd,
  events,
  fakeCatalog,
  rolledOut,
  rolloutHd,
  setImage,
  waitHd,
} from '../controller/fixtures.ts';
import { startNodeSim, type NodeSim } from '../nodesim/index.ts';
import {
  ALL_FEATURES,
  CHART_DIR,
  HELM,
  KUBECTL,
  MONITORING_API_VERSIONS,
  exec,
  find,
  missingChartFiles,
  mustExec,
  prometheusOperatorCrds,
  REPO,
  render,
  renderText,
  type RenderOptions,
} from './chart.ts';

const skip = checkTier('control-plane');
const missing = missingChartFiles();
if (missing.length) console.warn(`[chart] skipping: the chart lacks ${missing.join(', ')} (monitoring work)`);

const RELEASE = 'hotupgrade';
const NS = 'hotupgrade-system';
const APPS = 'apps';
const SA = `system:serviceaccount:${NS}:hotupgrade`;
const HUB_SA = `system:serviceaccount:${NS}:hotupgrade-hub`;
const ACCESS_SA = `system:serviceaccount:${NS}:hotupgrade-hub-access`;
const HUB_VALUES = { 'hub.enabled': true, 'memberAccess.enabled': true };
const LEASE = `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/hotupgrade-controller`;

interface Controller {
  port: number;
  child: ChildProcess;
  log: string;
  exited: Promise<void>;
}

describe.skipIf(!!skip || missing.length > 0)('the chart on a real API server', () => {
  let cp: ControlPlane;
  let client: KubeClient;
  let dir: string;
  let sim: NodeSim | undefined;
  const controllers: Controller[] = [];
  const kubectl = (args: string[], input?: string): Promise<string> =>
    mustExec(KUBECTL, [`--kubeconfig=${cp.kubeconfig}`, ...args], input === undefined ? {} : { input });
  const helm = (args: string[]): Promise<string> =>
    mustExec(HELM, ['--kubeconfig', cp.kubeconfig, ...args], { timeoutMs: 180_000 });
  /** `kubectl auth can-i` as a ServiceAccount (the controller's by default). */
  const can = async (args: string[], as = SA): Promise<boolean> =>
    (
      await exec(KUBECTL, [`--kubeconfig=${cp.kubeconfig}`, 'auth', 'can-i', `--as=${as}`, ...args])
    ).stdout.trim() === 'yes';

  beforeAll(async () => {
    const t0 = Date.now();
    [cp] = await Promise.all([startControlPlane({ name: 'chart' }), prometheusOperatorCrds()]);
    client = await KubeClient.fromKubeConfig(loadKubeConfig(cp.kubeconfig), { qps: 0 });
    dir = mkdtempSync(join(tmpdir(), 'hotupgrade-chart-'));
    for (const ns of [NS, APPS, 'monitoring']) await kubectl(['create', 'namespace', ns]);
    console.log(`[chart] control plane ready in ${Date.now() - t0} ms`);
  }, 180_000);

  afterAll(async () => {
    for (const c of controllers) c.child.kill('SIGKILL');
    await Promise.all(controllers.map((c) => c.exited));
    await sim?.stop();
    await client?.close();
    await cp?.stop();
  });

  /** kubectl's answer to a strict server-side dry run of a render: one line per object. */
  async function validate(o: RenderOptions): Promise<string[]> {
    const manifest = await renderText({ apiVersions: MONITORING_API_VERSIONS, ...o });
    const out = await kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], manifest);
    return out.trim().split('\n');
  }

  it('without the Prometheus Operator CRDs, helm install --dry-run=server renders no monitoring objects and says so', async () => {
    const out = await helm(['install', RELEASE, CHART_DIR, '-n', NS, '--dry-run=server']);
    expect(out).toMatch(/kind: Deployment/);
    expect(out).not.toMatch(/kind: (ServiceMonitor|PodMonitor|PrometheusRule)/);
    expect(out).toMatch(/the cluster has no Prometheus Operator CRDs/);
  });

  it('passes strict server-side validation: the defaults, every feature on, one watched namespace', async () => {
    const t0 = Date.now();
    await kubectl(['apply', '--server-side', ...(await prometheusOperatorCrds()).flatMap((f) => ['-f', f])]);
    const kinds = ['servicemonitors', 'podmonitors', 'prometheusrules'];
    await kubectl([
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      ...kinds.map((k) => `crd/${k}.monitoring.coreos.com`),
    ]);
    const defaults = await validate({});
    expect(defaults).toEqual(
      expect.arrayContaining([
        'deployment.apps/hotupgrade-controller created (server dry run)',
        'servicemonitor.monitoring.coreos.com/hotupgrade-controller created (server dry run)',
        'podmonitor.monitoring.coreos.com/hotupgrade-sidecars created (server dry run)',
        'prometheusrule.monitoring.coreos.com/hotupgrade created (server dry run)',
        'configmap/hotupgrade-dashboard created (server dry run)',
      ]),
    );
    expect(defaults).toHaveLength(14);
    const all = await validate({ valuesFiles: [ALL_FEATURES] });
    expect(all).toHaveLength(29); // 14, the hub's 11 and member access's 4
    const hub = await validate({ set: HUB_VALUES });
    expect(hub).toEqual(
      expect.arrayContaining(
        [
          'deployment.apps/hotupgrade-hub',
          'serviceaccount/hotupgrade-hub',
          'clusterrole.rbac.authorization.k8s.io/hotupgrade-hub',
          'clusterrolebinding.rbac.authorization.k8s.io/hotupgrade-hub',
          'role.rbac.authorization.k8s.io/hotupgrade-hub-secrets',
          'rolebinding.rbac.authorization.k8s.io/hotupgrade-hub-secrets',
          'role.rbac.authorization.k8s.io/hotupgrade-hub-leader-election',
          'rolebinding.rbac.authorization.k8s.io/hotupgrade-hub-leader-election',
          'service/hotupgrade-hub-metrics',
          'poddisruptionbudget.policy/hotupgrade-hub',
          'servicemonitor.monitoring.coreos.com/hotupgrade-hub',
          'serviceaccount/hotupgrade-hub-access',
          'secret/hotupgrade-hub-access-token',
          'clusterrole.rbac.authorization.k8s.io/hotupgrade-hub-access',
          'clusterrolebinding.rbac.authorization.k8s.io/hotupgrade-hub-access',
        ].map((o) => `${o} created (server dry run)`),
      ),
    );
    expect(hub).toHaveLength(29);
    const one = await validate({ set: { watchNamespace: APPS } });
    expect(one).toContain('role.rbac.authorization.k8s.io/hotupgrade-controller created (server dry run)');
    // The check is real: a field the schema does not know fails the dry run.
    const broken = (await renderText({})).replace(
      'enableServiceLinks: false',
      'enableServiceLinks: false\n      bogusField: 1',
    );
    const r = await exec(
      KUBECTL,
      [`--kubeconfig=${cp.kubeconfig}`, 'apply', '--dry-run=server', '--validate=strict', '-f', '-'],
      {
        input: broken,
      },
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/unknown field "spec.template.spec.bogusField"/);
    console.log(`[chart] 4 renders validated in ${Date.now() - t0} ms`);
  });

  it('with the CRDs, helm install --dry-run=server renders the ServiceMonitor, PodMonitor and PrometheusRule', async () => {
    const out = await helm(['install', RELEASE, CHART_DIR, '-n', NS, '--dry-run=server']);
    for (const kind of ['ServiceMonitor', 'PodMonitor', 'PrometheusRule'])
      expect(out).toMatch(`kind: ${kind}\n`);
    expect(out).not.toMatch(/no Prometheus Operator CRDs/);
  });

  it('helm install creates the CRD, the controller, its RBAC, Service and monitoring; view and edit aggregate HotDeployments', async () => {
    const notes = await helm(['install', RELEASE, CHART_DIR, '-n', NS]);
    expect(notes).toMatch(/STATUS: deployed/);
    expect(notes).toMatch(/kubectl -n hotupgrade-system rollout status deployment\/hotupgrade-controller/);
    const got = await kubectl([
      'get',
      '-n',
      NS,
      'deployment,serviceaccount,service,poddisruptionbudget,role,rolebinding,configmap,servicemonitor,podmonitor,prometheusrule',
      '-l',
      `app.kubernetes.io/instance=${RELEASE}`,
      '-o',
      'name',
    ]);
    expect(got.trim().split('\n').sort()).toEqual(
      [
        'configmap/hotupgrade-dashboard',
        'deployment.apps/hotupgrade-controller',
        'poddisruptionbudget.policy/hotupgrade-controller',
        'podmonitor.monitoring.coreos.com/hotupgrade-sidecars',
        'prometheusrule.monitoring.coreos.com/hotupgrade',
        'role.rbac.authorization.k8s.io/hotupgrade-leader-election',
        'rolebinding.rbac.authorization.k8s.io/hotupgrade-leader-election',
        'service/hotupgrade-controller-metrics',
        'serviceaccount/hotupgrade',
        'servicemonitor.monitoring.coreos.com/hotupgrade-controller',
      ].sort(),
    );
    await kubectl(['get', 'crd', 'hotdeployments.hotupgrade.io']);
    await kubectl(['get', 'clusterrole/hotupgrade-controller', 'clusterrolebinding/hotupgrade-controller']);
    // The Deployment made its pods (they stay Pending: no kubelet here).
    const pods = await until('the controller pods', 30_000, async () => {
      const out = await kubectl([
        'get',
        'pods',
        '-n',
        NS,
        '-l',
        'app.kubernetes.io/component=controller',
        '-o',
        'name',
      ]);
      return out.trim().split('\n').filter(Boolean).length === 2 ? out : undefined;
    });
    expect(pods).toMatch(/pod\/hotupgrade-controller-/);
    // kube-controller-manager aggregates the chart's roles into the built-in ones.
    const verbsOn = async (role: string): Promise<string[]> => {
      const r = await client.get<{ rules?: { resources?: string[]; verbs: string[] }[] }>(
        `/apis/rbac.authorization.k8s.io/v1/clusterroles/${role}`,
      );
      return (r.ok ? (r.body.rules ?? []) : [])
        .filter((x) => x.resources?.includes('hotdeployments'))
        .flatMap((x) => x.verbs);
    };
    await until('view and edit to include hotdeployments', 30_000, async () =>
      (await verbsOn('view')).includes('list') && (await verbsOn('edit')).includes('create')
        ? true
        : undefined,
    );
    expect(await verbsOn('view')).not.toContain('create');
    expect(await can(['list', 'secrets', '-A'])).toBe(false);
    expect(await can(['get', 'secrets', '-n', NS])).toBe(false);
    expect(await can(['create', 'deployments', '-n', APPS])).toBe(false);
    expect(await can(['patch', 'pods', '-n', APPS])).toBe(true);
    expect(await can(['update', 'leases/hotupgrade-controller', '-n', NS])).toBe(true);
    expect(await can(['update', 'leases/someone-else', '-n', NS])).toBe(false);
    expect(await can(['create', 'leases', '-n', APPS])).toBe(false);
  });

  /** A kubeconfig that authenticates as one of the chart's ServiceAccounts, with a token from the TokenRequest API. */
  async function serviceAccountKubeconfig(account = 'hotupgrade'): Promise<string> {
    const token = (await kubectl(['create', 'token', account, '-n', NS, '--duration=1h'])).trim();
    const admin = JSON.parse(await kubectl(['config', 'view', '--raw', '--minify', '-o', 'json'])) as {
      clusters: { cluster: Record<string, string> }[];
    };
    const cluster = admin.clusters[0]?.cluster ?? {};
    const file = join(dir, `${account}.kubeconfig`);
    const config = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'c',
          cluster: {
            server: cluster.server,
            'certificate-authority': cluster['certificate-authority'],
            'certificate-authority-data': cluster['certificate-authority-data'],
          },
        },
      ],
      users: [{ name: account, user: { token } }],
      contexts: [{ name: 'c', context: { cluster: 'c', user: account } }],
      'current-context': 'c',
    };
    writeFileSync(file, JSON.stringify(config));
    return file;
  }

  async function startController(identity: string, args: string[] = []): Promise<Controller> {
    const port = await freePort();
    const log = join(dir, `${identity}.log`);
    const child = spawn(
      process.execPath,
      [
        'controller/main.ts',
        '--kubeconfig',
        await serviceAccountKubeconfig(),
        '--placeholder-image',
        IMAGES.placeholder,
        '--sidecar-image',
        IMAGES.sidecar,
        // What the chart's env says: the Lease in the release namespace, the pod's name.
        '--lease-namespace',
        NS,
        '--lease-name',
        'hotupgrade-controller',
        '--identity',
        identity,
        '--port',
        String(port),
        '--host',
        '127.0.0.1',
        // The node simulator fakes containers, not sidecars: slots prove handovers with a probe.
        '--completion-signal',
        'probe',
        ...args,
      ],
      { cwd: join(CHART_DIR, '..', '..'), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const out = createWriteStream(log);
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const c = { port, child, log, exited };
    controllers.push(c);
    await until(`${identity} to be ready (see ${log})`, 60_000, async () => {
      const r = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
      return r?.status === 200 ? true : undefined;
    });
    await until(`${identity} to hold the Lease`, 60_000, async () => {
      const r = await client.get<{ spec?: { holderIdentity?: string } }>(LEASE);
      return r.ok && r.body.spec?.holderIdentity === identity ? true : undefined;
    });
    return c;
  }

  /** The controller's API requests by status code, from rest_client_requests_total. */
  async function requestsByCode(c: Controller): Promise<Record<string, Record<string, number>>> {
    const text = await (await fetch(`http://127.0.0.1:${c.port}/metrics`)).text();
    const out: Record<string, Record<string, number>> = {};
    for (const s of parseSamples(text).filter((x) => x.name === 'rest_client_requests_total')) {
      const code = s.labels.code ?? '?';
      const method = s.labels.method ?? '?';
      out[code] = { ...out[code], [method]: (out[code]?.[method] ?? 0) + s.value };
    }
    return out;
  }

  async function stopController(c: Controller): Promise<void> {
    c.child.kill('SIGTERM');
    await c.exited;
  }

  it('the controller does its whole job with nothing but the chart RBAC: hot upgrade, rollback, scale-down', async () => {
    const t0 = Date.now();
    sim = await startNodeSim({
      kubeconfig: cp.kubeconfig,
      nodeName: 'chart-node',
      mode: 'fake',
      images: fakeCatalog(),
      bindUnscheduled: true,
      namespaces: [APPS], // the chart's own controller pods stay Pending: their image is not here
      startDelayMs: 200,
      logLevel: 'warn',
    });
    const c = await startController('chart-0');
    try {
      const name = 'web';
      await createHd(
        client,
        rolloutHd(name, APPS, { replicas: 3, autoRollback: true, handoverDeadlineSeconds: 5 }),
      );
      await waitHd(client, APPS, name, '3 pods at v1', rolledOut(demoImage('v1'), 3), 60_000);
      await setImage(client, APPS, name, demoImage('v2')); // pods patched in place
      await waitHd(client, APPS, name, 'v2 everywhere', rolledOut(demoImage('v2'), 3), 60_000);
      await setImage(client, APPS, name, demoImage('crash')); // the controller patches the spec back
      await waitHd(
        client,
        APPS,
        name,
        'rolled back to v2',
        (h) => condition(h, 'Degraded') === 'True/RolledBack' && rolledOut(demoImage('v2'), 3)(h),
        60_000,
      );
      const r = await client.patch(
        hdPath(APPS, name),
        [{ op: 'replace', path: '/spec/replicas', value: 1 }],
        'json',
      );
      expect(r.ok).toBe(true);
      await waitHd(client, APPS, name, 'scaled down to 1', (h) => h.status?.replicas === 1, 60_000);

      const codes = await requestsByCode(c);
      console.log(
        `[chart] controller with the chart's RBAC, ${Date.now() - t0} ms: requests by code ${JSON.stringify(codes)}`,
      );
      expect(codes['403'] ?? {}).toEqual({});
      for (const method of ['POST', 'PATCH', 'DELETE', 'PUT', 'GET']) {
        expect(
          Object.entries(codes).some(([code, m]) => code.startsWith('2') && (m[method] ?? 0) > 0),
          method,
        ).toBe(true);
      }
      expect(readFileSync(c.log, 'utf8')).not.toMatch(/forbidden/i);
      const reasons = new Set((await events(client, APPS)).map((e) => e.reason));
      expect([...reasons]).toEqual(
        expect.arrayContaining(['RolloutComplete', 'HandoverFailed', 'RolledBack']),
      );
    } finally {
      await stopController(c);
    }
  });

  it('with watchNamespace, the controller is confined to that namespace and still does its job there', async () => {
    await helm([
      'upgrade',
      RELEASE,
      CHART_DIR,
      '-n',
      NS,
      '--reuse-values',
      '--set',
      `watchNamespace=${APPS}`,
    ]);
    expect(
      (await exec(KUBECTL, [`--kubeconfig=${cp.kubeconfig}`, 'get', 'clusterrole', 'hotupgrade-controller']))
        .code,
    ).not.toBe(0);
    await kubectl(['get', '-n', APPS, 'role/hotupgrade-controller', 'rolebinding/hotupgrade-controller']);
    expect(await can(['list', 'pods', '-n', APPS])).toBe(true);
    expect(await can(['list', 'pods', '-n', 'default'])).toBe(false);
    expect(await can(['list', 'pods', '-A'])).toBe(false);
    expect(await can(['list', 'hotdeployments.hotupgrade.io', '-A'])).toBe(false);

    const c = await startController('chart-1', ['--namespace', APPS]);
    try {
      const r = await client.patch(
        hdPath(APPS, 'web'),
        [{ op: 'replace', path: '/spec/replicas', value: 2 }],
        'json',
      );
      expect(r.ok).toBe(true);
      await waitHd(client, APPS, 'web', '2 ready pods', (h) => h.status?.readyReplicas === 2, 60_000);
      expect((await requestsByCode(c))['403'] ?? {}).toEqual({});
    } finally {
      await stopController(c);
    }
  });

  it("hub mode: the hub's account may do exactly what the hub does on the hub cluster, and member access what a hub does in a member", async () => {
    const notes = await helm([
      'upgrade',
      RELEASE,
      CHART_DIR,
      '-n',
      NS,
      '--reuse-values',
      '--set',
      'hub.enabled=true',
      '--set',
      'memberAccess.enabled=true',
    ]);
    expect(notes).toMatch(/kubectl -n hotupgrade-system rollout status deployment\/hotupgrade-hub/);
    expect(notes).toMatch(/spec\.kubeconfigSecretRef\.namespace must be hotupgrade-system/);
    await kubectl(['get', '-n', NS, 'deployment/hotupgrade-hub', 'serviceaccount/hotupgrade-hub']);
    // [verb and resource, namespace, allowed] for the hub's account, as the API server decides.
    const hub: [string[], boolean][] = [
      [['get', 'memberclusters.hotupgrade.io'], true],
      [['list', 'memberclusters.hotupgrade.io'], true],
      [['watch', 'memberclusters.hotupgrade.io'], true],
      [['update', 'memberclusters.hotupgrade.io', '--subresource=status'], true],
      [['patch', 'memberclusters.hotupgrade.io', '--subresource=status'], true],
      [['patch', 'memberclusters.hotupgrade.io'], false],
      [['create', 'memberclusters.hotupgrade.io'], false],
      [['delete', 'memberclusters.hotupgrade.io'], false],
      [['list', 'hotreleases.hotupgrade.io', '-A'], true],
      [['watch', 'hotreleases.hotupgrade.io', '-A'], true],
      [['get', 'hotreleases.hotupgrade.io', '-n', APPS], true],
      [['patch', 'hotreleases.hotupgrade.io', '-n', APPS, '--subresource=status'], true],
      [['update', 'hotreleases.hotupgrade.io', '-n', APPS, '--subresource=status'], true],
      [['patch', 'hotreleases.hotupgrade.io', '-n', APPS], false],
      [['create', 'events', '-n', APPS], true],
      [['patch', 'events', '-n', 'default'], true],
      [['get', 'secrets', '-n', NS], true],
      [['list', 'secrets', '-n', NS], false],
      [['watch', 'secrets', '-n', NS], false],
      [['get', 'secrets', '-n', APPS], false],
      [['create', 'leases', '-n', NS], true],
      [['update', 'leases/hotupgrade-hub', '-n', NS], true],
      [['update', 'leases/hotupgrade-controller', '-n', NS], false],
      [['create', 'leases', '-n', APPS], false],
      [['list', 'pods', '-n', APPS], false],
      // Member access binds the hub's account too: this cluster can be a member (inCluster).
      [['patch', 'hotdeployments.hotupgrade.io', '-n', APPS], true],
      [['get', 'customresourcedefinitions.apiextensions.k8s.io/hotdeployments.hotupgrade.io'], true],
      [['get', 'customresourcedefinitions.apiextensions.k8s.io/hotreleases.hotupgrade.io'], false],
    ];
    const access: [string[], boolean][] = [
      [['get', 'hotdeployments.hotupgrade.io', '-n', APPS], true],
      [['patch', 'hotdeployments.hotupgrade.io', '-n', APPS], true],
      [['list', 'hotdeployments.hotupgrade.io', '-n', APPS], false],
      [['update', 'hotdeployments.hotupgrade.io', '-n', APPS], false],
      [['patch', 'hotdeployments.hotupgrade.io', '-n', APPS, '--subresource=status'], false],
      [['delete', 'hotdeployments.hotupgrade.io', '-n', APPS], false],
      [['get', 'customresourcedefinitions.apiextensions.k8s.io/hotdeployments.hotupgrade.io'], true],
      [['list', 'customresourcedefinitions.apiextensions.k8s.io'], false],
      [['get', '/version'], true],
      [['get', 'pods', '-n', APPS], false],
      [['get', 'secrets', '-n', NS], false],
      [['get', 'memberclusters.hotupgrade.io'], false],
    ];
    const decide = async (as: string, rows: [string[], boolean][]): Promise<[string, boolean][]> =>
      Promise.all(rows.map(async ([args]) => [args.join(' '), await can(args, as)] as [string, boolean]));
    const asRows = (rows: [string[], boolean][]): [string, boolean][] =>
      rows.map(([a, ok]) => [a.join(' '), ok]);
    expect(await decide(HUB_SA, hub)).toEqual(asRows(hub));
    expect(await decide(ACCESS_SA, access)).toEqual(asRows(access));
    // The controller gains nothing from hub mode.
    expect(await can(['get', 'secrets', '-n', NS])).toBe(false);
    expect(await can(['list', 'hotreleases.hotupgrade.io', '-A'])).toBe(false);
  });

  it("memberAccess: the NOTES' commands make the hub's kubeconfig Secret and MemberCluster; the kubeconfig does a hub's work in the member and nothing else", async () => {
    const notes = await helm(['status', RELEASE, '-n', NS]);
    // The token controller fills the Secret in shortly after the install.
    await until('the hub-access token', 30_000, async () => {
      const r = await client.get<{ data?: Record<string, string> }>(
        `/api/v1/namespaces/${NS}/secrets/hotupgrade-hub-access-token`,
      );
      return r.ok && r.body.data?.token && r.body.data['ca.crt'] ? true : undefined;
    });
    // The two blocks of commands, as a user copies them (without the notes' indentation).
    const block = (first: RegExp): string => {
      const lines = notes.split('\n');
      const start = lines.findIndex((l) => first.test(l));
      expect(start, `NOTES.txt has a line ${first}`).toBeGreaterThan(0);
      const end = lines.findIndex((l, i) => i > start && l.trim() === '');
      return lines
        .slice(start, end)
        .map((l) => l.replace(/^ {2}/, ''))
        .join('\n');
    };
    const script = [block(/^ {2}MEMBER=/), block(/^ {2}HUB_NS=/)]
      .join('\n')
      .replace("MEMBER=<this cluster's name on the hub>", 'MEMBER=member-a');
    expect(script).toMatch(/^HUB_NS=hotupgrade-system$/m);
    const work = mkdtempSync(join(dir, 'notes-'));
    const path = [isAbsolute(KUBECTL) ? dirname(KUBECTL) : '', process.env.PATH ?? '']
      .filter(Boolean)
      .join(':');
    const r = await exec('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: work,
      env: { ...process.env, PATH: path, KUBECONFIG: cp.kubeconfig },
    });
    expect(r.code, `${script}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/membercluster\.hotupgrade\.io\/member-a created/);
    expect(r.stdout).toMatch(/^member-a\s/m); // kubectl get membercluster
    const mc = JSON.parse(await kubectl(['get', 'membercluster', 'member-a', '-o', 'json'])) as {
      spec: unknown;
    };
    expect(mc.spec).toEqual({
      kubeconfigSecretRef: { namespace: NS, name: 'member-a-kubeconfig', key: 'kubeconfig' },
    });

    // The kubeconfig the hub reads from that Secret, with the hub's own client.
    const secret = JSON.parse(
      await kubectl(['get', 'secret', '-n', NS, 'member-a-kubeconfig', '-o', 'json']),
    ) as {
      data: Record<string, string>;
    };
    const file = join(dir, 'member-a.kubeconfig');
    writeFileSync(file, Buffer.from(secret.data.kubeconfig ?? '', 'base64'));
    const member = await KubeClient.fromKubeConfig(loadKubeConfig(file), { qps: 0 });
    try {
      const version = await member.get<{ gitVersion?: string }>('/version');
      expect(version.ok && version.body.gitVersion).toMatch(/^v1\.\d+\./);
      const crd = await member.get<{ metadata: { annotations?: Record<string, string> } }>(
        '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/hotdeployments.hotupgrade.io',
      );
      expect(crd.ok && crd.body.metadata.annotations?.['hotupgrade.io/version']).toBe('0.1.0');
      const hd = await member.get<{ metadata: { annotations?: Record<string, string> } }>(
        hdPath(APPS, 'web'),
      );
      expect(hd.ok).toBe(true);
      // A JSON patch guarded by a test op, as the hub writes (here an annotation nobody reads).
      const patched = await member.patch(
        hdPath(APPS, 'web'),
        [
          { op: 'test', path: '/metadata/name', value: 'web' },
          { op: 'add', path: '/metadata/annotations', value: { 'example.com/hub-check': 'ok' } },
        ],
        'json',
      );
      expect(patched.ok, JSON.stringify(patched)).toBe(true);
      const refused = await Promise.all([
        member.get(`/api/v1/namespaces/${APPS}/pods`),
        member.get(`/api/v1/namespaces/${NS}/secrets/member-a-kubeconfig`),
        member.get('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/hotreleases.hotupgrade.io'),
        member.get(`/apis/hotupgrade.io/v1alpha1/namespaces/${APPS}/hotdeployments`),
        member.patch(`${hdPath(APPS, 'web')}/status`, { status: {} }, 'merge'),
      ]);
      expect(refused.map((x) => x.status)).toEqual([403, 403, 403, 403, 403]);
    } finally {
      await member.close();
    }
  });

  it.skipIf(!existsSync(join(REPO, 'hub/main.ts')))(
    "the hub, with the chart's env and nothing but its RBAC, leads and reaches both members (kubeconfig and inCluster)",
    async () => {
      await kubectl(
        ['apply', '-f', '-'],
        JSON.stringify({
          apiVersion: 'hotupgrade.io/v1alpha1',
          kind: 'MemberCluster',
          metadata: { name: 'hub-self' },
          spec: { inCluster: true },
        }),
      );
      // The env the chart gives the hub container, with the pod's fields filled in.
      const deployment = find(
        await render({ set: HUB_VALUES }),
        'Deployment',
        'hotupgrade-hub',
      ) as unknown as V1Deployment;
      const fields: Record<string, string> = { 'metadata.name': 'hub-0', 'metadata.namespace': NS };
      const env: Record<string, string> = {};
      for (const e of deployment.spec?.template.spec?.containers[0]?.env ?? []) {
        env[e.name] = e.value ?? fields[e.valueFrom?.fieldRef?.fieldPath ?? ''] ?? '';
      }
      const port = await freePort();
      const log = join(dir, 'hub-0.log');
      const child = spawn(process.execPath, ['hub/main.ts'], {
        cwd: REPO,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          PATH: process.env.PATH,
          ...env,
          // Outside a pod: the hub's account through a kubeconfig, a port of its own here.
          KUBECONFIG: await serviceAccountKubeconfig('hotupgrade-hub'),
          HOTUPGRADE_HUB_PORT: String(port),
          HOTUPGRADE_HUB_HOST: '127.0.0.1',
        },
      });
      const out = createWriteStream(log);
      child.stdout?.pipe(out);
      child.stderr?.pipe(out);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      controllers.push({ port, child, log, exited: exited.then(() => undefined) });
      try {
        await until(`the hub to hold the Lease (see ${log})`, 60_000, async () => {
          const r = await client.get<{ spec?: { holderIdentity?: string } }>(
            `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/hotupgrade-hub`,
          );
          return r.ok && r.body.spec?.holderIdentity === 'hub-0' ? true : undefined;
        });
        type Mc = {
          status?: {
            kubernetesVersion?: string;
            operatorVersion?: string;
            conditions?: { type: string; status: string; reason: string; message: string }[];
          };
        };
        for (const name of ['member-a', 'hub-self']) {
          const mc = await until(`MemberCluster ${name} to be Reachable (see ${log})`, 60_000, async () => {
            const r = await client.get<Mc>(`/apis/hotupgrade.io/v1alpha1/memberclusters/${name}`);
            const c = r.ok ? r.body.status?.conditions?.find((x) => x.type === 'Reachable') : undefined;
            return c?.status === 'True' ? r.ok && r.body : undefined;
          });
          expect(mc && mc.status).toMatchObject({
            kubernetesVersion: expect.stringMatching(/^v1\./),
            operatorVersion: '0.1.0',
          });
        }
        const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
        expect(ready.status).toBe(200);
        expect(readFileSync(log, 'utf8')).not.toMatch(/forbidden/i);
      } finally {
        child.kill('SIGTERM');
      }
      expect(await exited).toBe(0);
    },
  );

  it('the CRD upgrades with kubectl apply --server-side --force-conflicts (helm upgrade leaves it alone)', async () => {
    const original = await mustExec(HELM, ['show', 'crds', CHART_DIR]);
    const changed = original.replace(
      'description: Desired pods.',
      'description: Desired pods (v2 of the CRD).',
    );
    expect(changed).not.toBe(original);
    // helm created it, so its fields belong to the manager "helm": a plain apply conflicts.
    const conflict = await exec(
      KUBECTL,
      [`--kubeconfig=${cp.kubeconfig}`, 'apply', '--server-side', '-f', '-'],
      {
        input: changed,
      },
    );
    expect(conflict.stderr).toMatch(/conflict with "helm"/);
    await kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], changed);
    const crd = await kubectl(['get', 'crd', 'hotdeployments.hotupgrade.io', '-o', 'json']);
    expect(crd).toMatch(/Desired pods \(v2 of the CRD\)\./);
    // From then on kubectl owns it: the next apply needs no force.
    await kubectl(['apply', '--server-side', '-f', '-'], original);
    // helm upgrade does not bring the chart's version back.
    await kubectl(['apply', '--server-side', '-f', '-'], changed);
    await helm(['upgrade', RELEASE, CHART_DIR, '-n', NS, '--reuse-values']);
    expect(await kubectl(['get', 'crd', 'hotdeployments.hotupgrade.io', '-o', 'json'])).toMatch(
      /v2 of the CRD/,
    );
    await kubectl(['apply', '--server-side', '-f', '-'], original);
  });

  it('helm uninstall removes the release and leaves the CRD, the HotDeployments with their pods, and the Lease', async () => {
    await helm(['uninstall', RELEASE, '-n', NS, '--wait']);
    const left = await kubectl([
      'get',
      '-A',
      'deployment,serviceaccount,secret,service,poddisruptionbudget,role,rolebinding,configmap,servicemonitor,podmonitor,prometheusrule',
      '-l',
      `app.kubernetes.io/instance=${RELEASE}`,
      '-o',
      'name',
    ]);
    expect(left.trim()).toBe('');
    // The token a hub held is revoked with its Secret.
    expect(await can(['get', 'hotdeployments', '-n', APPS], ACCESS_SA)).toBe(false);
    const clusterWide = await kubectl(['get', 'clusterrole,clusterrolebinding', '-o', 'name']);
    expect(clusterWide).not.toMatch(/hotupgrade/);
    // What stays: the CRD (helm never deletes crds/), users' HotDeployments and their pods,
    // the Lease the controller created at run time, and the namespace.
    await kubectl(['get', 'crd', 'hotdeployments.hotupgrade.io']);
    expect(await kubectl(['get', 'hotdeployments', '-n', APPS, '-o', 'name'])).toMatch(
      'hotdeployment.hotupgrade.io/web',
    );
    expect((await kubectl(['get', 'pods', '-n', APPS, '-o', 'name'])).trim().split('\n')).toHaveLength(2);
    expect(await kubectl(['get', 'lease', '-n', NS, '-o', 'name'])).toMatch(
      'lease.coordination.k8s.io/hotupgrade-controller',
    );
    await kubectl(['get', 'namespace', NS]);
  });
});
