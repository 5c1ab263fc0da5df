// The Prometheus harness (prometheus.ts) against a real API server, without a kubelet:
// pods are created and given a Running status and a pod IP of 127.0.0.1 by hand, and
// each "pod" is a small exporter on the host serving the real metric code of the
// controller (controller/metrics.ts, controller/kube/) or of a sidecar (sidecar/metrics.ts).
// So discovery, relabelling, honor_labels, the rule file and every dashboard and alert
// query run for real; only the rollout is staged.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HotDeploymentStatus } from '../../controller/api/types.ts';
import { cond, UPGRADING } from '../../controller/fixtures.ts';
import { controllerMetrics, counter, gauge } from '../../controller/kube/metrics.ts';
import { WorkQueue } from '../../controller/kube/workqueue.ts';
import { createDomainMetrics, PHASES } from '../../controller/metrics.ts';
import { CONTROLLER, LEASE } from '../../monitoring/selectors.ts';
import { allQueries } from '../../monitoring/queries.ts';
import { summarize } from '../../sdk/handover.ts';
import { diff, EMPTY_MEMORY, type Memory } from '../../sidecar/diff.ts';
import { live, makeFile, makeHandover, makeView } from '../../sidecar/fixtures.ts';
import { createMetrics } from '../../sidecar/metrics.ts';
import { checkTier, kubectl, startControlPlane, until, type TestCluster } from '../cluster/harness.ts';
import { JOBS, PROMETHEUS_BIN, startPrometheus, type Prometheus } from './prometheus.ts';

const skip = !existsSync(PROMETHEUS_BIN)
  ? `${PROMETHEUS_BIN} is missing (apt-get install prometheus)`
  : checkTier('control-plane');
if (skip && !existsSync(PROMETHEUS_BIN)) console.warn(`\nSKIPPING the Prometheus harness test: ${skip}\n`);

const rolling: HotDeploymentStatus = {
  replicas: 3,
  readyReplicas: 3,
  updatedReplicas: 1,
  upgradingReplicas: 1,
  batch: { number: 1, total: 2, target: 2, updated: 1, state: 'Upgrading' },
  conditions: UPGRADING,
};

const stuck: HotDeploymentStatus = {
  ...rolling,
  conditions: [
    cond('Available', 'True', 'MinimumReplicasAvailable'),
    cond('Progressing', 'False', 'ProgressDeadlineExceeded'),
    cond('Paused', 'False', 'NotPaused'),
    cond('Degraded', 'True', 'ProgressDeadlineExceeded'),
  ],
};

/** The controller's registry, fed by its real metric code as during a rollout of shop/cart. */
function controllerRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const reconciles = controllerMetrics(registry, CONTROLLER, 4);
  reconciles.observeReconcile('success', 0.02);
  new WorkQueue<string>({ name: CONTROLLER, registry }).add('shop/cart');
  gauge(registry, 'leader_election_master_status', 'leader', ['name']).set({ name: LEASE }, 1);
  counter(registry, 'rest_client_requests_total', 'requests', ['code', 'method', 'host']).inc({
    code: '200',
    method: 'GET',
    host: 'api',
  });
  const domain = createDomainMetrics(registry);
  domain.observe(
    'shop',
    'cart',
    rolling,
    new Map([
      ['v1', 2],
      ['v2', 1],
    ]),
  );
  domain.handover('shop', 'cart', { result: 'succeeded', durationMs: 1200 });
  domain.observe('shop', 'stuck', stuck, new Map([['v1', 3]]));
  return registry;
}

/** A sidecar's registry after a handover from v1 (slot a) to v2 (slot b). */
function sidecarRegistry(): Registry {
  const registry = new Registry();
  const metrics = createMetrics(registry);
  const a1 = makeFile({ slot: 'a', version: 'v1' });
  const b2 = makeFile({
    slot: 'b',
    version: 'v2',
    state: 'waiting',
    role: 'successor',
    announcedAtMs: 9_000,
  });
  const b2serving = { ...b2, state: 'serving' as const, lockAcquiredAtMs: 9_990, handover: makeHandover() };
  let memory: Memory = EMPTY_MEMORY;
  for (const view of [
    makeView(true, live(a1), live(b2)),
    makeView(true, live({ ...a1, state: 'idle' }), live(b2serving)),
  ]) {
    const r = diff(memory, view, 0);
    memory = r.memory;
    metrics.record(r.transitions, view, summarize(view));
  }
  return registry;
}

async function serve(registry: Registry): Promise<{ port: number; server: Server }> {
  const server = createServer((_req, res) => {
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, server };
}

const pod = (
  ns: string,
  name: string,
  labels: Record<string, string>,
  containers: { name: string; port: number; portName: string }[],
): string =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace: ns, name, labels },
    spec: {
      automountServiceAccountToken: false,
      containers: containers.map((c) => ({
        name: c.name,
        image: 'hotupgrade.local/never-pulled:0',
        ports: [{ name: c.portName, containerPort: c.port }],
      })),
    },
  });

describe.skipIf(skip)('the e2e Prometheus harness', () => {
  let cp: TestCluster;
  let stopCp: () => Promise<void> = async () => undefined;
  let prom: Prometheus | undefined;
  const servers: Server[] = [];

  beforeAll(async () => {
    const started = await startControlPlane({ name: 'prom-harness' });
    stopCp = () => started.stop();
    cp = { kubeconfig: started.kubeconfig, ours: true, stop: stopCp };
    const controller = await serve(controllerRegistry());
    const sidecar = await serve(sidecarRegistry());
    servers.push(controller.server, sidecar.server);
    await kubectl(cp, ['create', 'namespace', 'hotupgrade-system']);
    await kubectl(cp, ['create', 'namespace', 'shop']);
    const manifests = [
      pod(
        'hotupgrade-system',
        'hotupgrade-controller-0',
        { 'app.kubernetes.io/name': 'hotupgrade', 'app.kubernetes.io/component': 'controller' },
        [{ name: 'controller', port: controller.port, portName: 'metrics' }],
      ),
      pod('shop', 'cart-0', { 'hotupgrade.io/hotdeployment': 'cart' }, [
        { name: 'app-a', port: 8080, portName: 'http' },
        { name: 'hotupgrade-sidecar', port: sidecar.port, portName: 'hu-sidecar' },
      ]),
      // Never gets an IP: must not become a target.
      pod('shop', 'cart-1', { 'hotupgrade.io/hotdeployment': 'cart' }, [
        { name: 'hotupgrade-sidecar', port: 9901, portName: 'hu-sidecar' },
      ]),
    ];
    // Pods wait for the namespace's default ServiceAccount, which the controller manager creates.
    await until(
      'the pods to be created',
      async () => {
        await kubectl(
          cp,
          ['apply', '-f', '-'],
          `{"apiVersion":"v1","kind":"List","items":[${manifests.join(',')}]}`,
        );
        return true;
      },
      60_000,
      500,
    );
    const running = JSON.stringify({
      status: { phase: 'Running', podIP: '127.0.0.1', podIPs: [{ ip: '127.0.0.1' }] },
    });
    for (const [ns, name] of [
      ['hotupgrade-system', 'hotupgrade-controller-0'],
      ['shop', 'cart-0'],
    ] as const) {
      await kubectl(cp, [
        'patch',
        'pod',
        name,
        '-n',
        ns,
        '--subresource=status',
        '--type=merge',
        '-p',
        running,
      ]);
    }
    prom = await startPrometheus({ kubeconfig: cp.kubeconfig, scrapeIntervalMs: 1000 });
  });

  afterAll(async () => {
    await prom?.stop();
    for (const s of servers) s.close();
    await stopCp();
  });

  it('discovers the controller and the sidecars as kubernetes_sd would, and scrapes them', async () => {
    const p = prom as Prometheus;
    const [ctrl] = await p.waitForTargets({ job: JOBS.controller, timeoutMs: 30_000 });
    expect(ctrl?.labels).toMatchObject({ namespace: 'hotupgrade-system', pod: 'hotupgrade-controller-0' });
    const [side] = await p.waitForTargets({ job: JOBS.sidecars, timeoutMs: 30_000 });
    expect(side?.labels).toMatchObject({ namespace: 'shop', pod: 'cart-0', hotdeployment: 'cart' });
    // Only the named ports of Running pods with an IP.
    const all = await p.targets();
    expect(all.map((t) => `${t.scrapePool} ${t.labels.pod}`).sort()).toEqual([
      `${JOBS.controller} hotupgrade-controller-0`,
      `${JOBS.sidecars} cart-0`,
    ]);
  });

  it("keeps the HotDeployment's namespace on controller series (honor_labels) and the pod's on generic ones", async () => {
    const p = prom as Prometheus;
    const [phase] = await p.waitForData('hotupgrade_rollout_phase{name="cart", phase="HotUpgrading"}');
    expect(phase?.metric).toMatchObject({ namespace: 'shop', name: 'cart', pod: 'hotupgrade-controller-0' });
    const [depth] = await p.waitForData(`workqueue_depth{name="${CONTROLLER}"}`);
    expect(depth?.metric).toMatchObject({ namespace: 'hotupgrade-system', pod: 'hotupgrade-controller-0' });
  });

  it('shows the phase of each HotDeployment as its code, and the batch progress as a fraction', async () => {
    const p = prom as Prometheus;
    const expr = (id: string): string => allQueries().find((q) => q.id === id)?.expr ?? `no query ${id}`;
    const byName = async (id: string): Promise<Record<string, number>> =>
      Object.fromEntries((await p.waitForData(expr(id))).map((s) => [s.metric.name, Number(s.value[1])]));
    expect(await byName('dashboard/rollout-phase/A')).toEqual({
      cart: PHASES.indexOf('HotUpgrading') + 1,
      stuck: PHASES.indexOf('Degraded') + 1,
    });
    expect(await byName('dashboard/batch-progress/A')).toEqual({ cart: 0.5, stuck: 0.5 });
  });

  it('answers every dashboard query and every alert base query with data', async () => {
    const p = prom as Prometheus;
    // Rates need two scrapes inside their window; histograms a handover in it.
    const deadline = Date.now() + 30_000;
    let empty: string[] = [];
    do {
      empty = [];
      for (const q of allQueries()) if ((await p.query(q.expr)).length === 0) empty.push(q.id);
      if (empty.length) await new Promise((r) => setTimeout(r, 1_000));
    } while (empty.length && Date.now() < deadline);
    expect(empty).toEqual([]);
  });

  it('loads the rules, evaluates them without error, and an alert goes pending for the stuck rollout', async () => {
    const p = prom as Prometheus;
    const rules = await until(
      'every rule evaluated',
      async () => {
        const r = await p.rules();
        return r.length > 0 && r.every((x) => x.health !== 'unknown') ? r : undefined;
      },
      30_000,
    );
    expect(rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.lastError}`)).toEqual([]);
    const stuckAlert = await until(
      'HotDeploymentRolloutStuck to be pending',
      async () => {
        const r = (await p.rules()).find((x) => x.name === 'HotDeploymentRolloutStuck');
        return r?.alerts?.length ? r.alerts : undefined;
      },
      30_000,
    );
    expect(stuckAlert.map((a) => ({ ...a.labels, state: a.state }))).toEqual([
      expect.objectContaining({ namespace: 'shop', name: 'stuck', state: 'pending', severity: 'warning' }),
    ]);
    const quiet = (await p.rules()).filter((r) => r.name !== 'HotDeploymentRolloutStuck');
    expect(quiet.map((r) => `${r.name} ${r.state}`)).toEqual(quiet.map((r) => `${r.name} inactive`));
  });

  it('stops Prometheus by PID and removes its directory', async () => {
    const p = prom as Prometheus;
    await p.stop();
    expect(existsSync(p.dir)).toBe(false);
    expect(() => process.kill(p.pid, 0)).toThrow();
  });
});
