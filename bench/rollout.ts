// `npm run bench:rollout -- [--pods 10000] [--batches 10] [--start-delay-ms 1000] [--json]`
//
// A hot upgrade of N pods on a real API server (etcd + kube-apiserver built from the
// upstream modules) with the node simulator in fake mode: a container (re)start takes a
// fixed simulated time and then shows ready, as the real slot readiness probe would. The
// controller runs as its own process, as in a cluster. The pods are created and ready
// before the clock starts; the clock runs from the image change to RolloutComplete.
// floorSeconds is what the simulated starts alone cost: each batch waits for its new
// slots to start, then for the old slots' placeholders to start again.
// Progress goes to stderr; the last line on stdout is one JSON object.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { parseArgs } from 'node:util';
import pino from 'pino';
import type { HotDeployment } from '../controller/api/types.ts';
import { KubeClient, loadKubeConfig } from '../controller/kube/client.ts';
import { freePort } from '../demo/ports.ts';
import { startControlPlane } from '../test/cluster/harness.ts';
import { controllerArgv, installCrd } from '../test/controller/env.ts';
import { PROJECT_IMAGES, projectCatalog } from '../test/nodesim/catalog.ts';
import { startNodeSim } from '../test/nodesim/index.ts';
import { cpuSeconds, rssMb } from './procstat.ts';
import { buckets, quantileBetween, sample, sumSamples } from './prom.ts';

const progress = (line: string): void => void process.stderr.write(`[bench:rollout] ${line}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const { values } = parseArgs({
  options: {
    pods: { type: 'string', default: '10000' },
    batches: { type: 'string', default: '10' },
    'start-delay-ms': { type: 'string', default: '1000' },
    qps: { type: 'string', default: '5000' },
    json: { type: 'boolean', default: false },
    'timeout-s': { type: 'string', default: '1800' },
    'controller-log': { type: 'string' },
    // The V8 heap settings the chart gives the controller (a 256 MiB container).
    'controller-node-options': {
      type: 'string',
      default: '--max-old-space-size=192 --max-semi-space-size=8',
    },
  },
});
const PODS = Number(values.pods);
const BATCHES = Number(values.batches);
const START_DELAY_MS = Number(values['start-delay-ms']);
const QPS = Number(values.qps);
const TIMEOUT_MS = Number(values['timeout-s']) * 1000;
for (const [flag, v, min] of [
  ['--pods', PODS, 1],
  ['--batches', BATCHES, 1],
  ['--start-delay-ms', START_DELAY_MS, 0],
  ['--qps', QPS, 1],
] as const) {
  if (!Number.isInteger(v) || v < min) {
    console.error(`${flag} must be an integer >= ${min}`);
    process.exit(2);
  }
}
const NS = 'bench';
const NAME = 'fleet';
const demo = (v: string): string => `${PROJECT_IMAGES.demo}:${v}`;

function hotDeployment(): HotDeployment {
  const step = 100 / BATCHES;
  return {
    apiVersion: 'hotupgrade.io/v1alpha1',
    kind: 'HotDeployment',
    metadata: { name: NAME, namespace: NS },
    spec: {
      replicas: PODS,
      selector: { matchLabels: { app: NAME } },
      template: {
        metadata: { labels: { app: NAME } },
        spec: { containers: [{ name: 'app', image: demo('v1'), ports: [{ containerPort: 8080 }] }] },
      },
      hotContainer: 'app',
      updateStrategy: {
        maxUnavailable: '100%',
        progressDeadlineSeconds: 3600,
        batches: Array.from({ length: BATCHES }, (_, i) => ({ replicas: `${Math.round(step * (i + 1))}%` })),
      },
    },
  };
}

async function getHd(client: KubeClient): Promise<HotDeployment | undefined> {
  const r = await client.get<HotDeployment>(
    `/apis/hotupgrade.io/v1alpha1/namespaces/${NS}/hotdeployments/${NAME}`,
  );
  return r.ok ? r.body : undefined;
}

/** Set when the controller process exits: the bench stops instead of waiting for nothing. */
let controllerExit: string | undefined;

async function waitFor(
  what: string,
  client: KubeClient,
  ok: (hd: HotDeployment) => boolean,
  timeoutMs: number,
): Promise<number> {
  const t0 = Date.now();
  let lastLog = 0;
  while (Date.now() - t0 < timeoutMs) {
    if (controllerExit)
      throw new Error(`the controller exited (${controllerExit}) while waiting for ${what}`);
    const hd = await getHd(client);
    if (hd && hd.status?.observedGeneration === hd.metadata.generation && ok(hd)) return Date.now() - t0;
    if (Date.now() - lastLog > 5000) {
      lastLog = Date.now();
      const s = hd?.status;
      progress(
        `${what}: ${((Date.now() - t0) / 1000).toFixed(0)} s, ready ${s?.readyReplicas ?? 0}/${PODS}, updated ${s?.updatedReplicas ?? 0}, batch ${s?.batch?.number ?? '-'}/${s?.batch?.total ?? '-'} ${s?.batch?.state ?? ''}`,
      );
    }
    await sleep(200);
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
}

const complete =
  (image: string) =>
  (hd: HotDeployment): boolean =>
    hd.status?.updateImage === image &&
    hd.status.updatedReplicas === PODS &&
    hd.status.readyReplicas === PODS &&
    hd.status.conditions?.some((c) => c.type === 'Progressing' && c.reason === 'RolloutComplete') === true;

async function scrape(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

async function main(): Promise<void> {
  progress(`${PODS} pods, ${BATCHES} batches, simulated container start ${START_DELAY_MS} ms`);
  const cp = await startControlPlane({ name: 'bench-rollout', log: progress });
  let controller: ChildProcess | undefined;
  let sim: Awaited<ReturnType<typeof startNodeSim>> | undefined;
  const client = await KubeClient.fromKubeConfig(loadKubeConfig(cp.kubeconfig), { qps: 0 });
  try {
    await installCrd(client);
    await client.create('/api/v1/namespaces', { metadata: { name: NS } });
    for (let i = 0; i < 300; i++) {
      if ((await client.get(`/api/v1/namespaces/${NS}/serviceaccounts/default`)).ok) break;
      await sleep(100);
    }
    sim = await startNodeSim({
      kubeconfig: cp.kubeconfig,
      nodeName: 'bench-node',
      mode: 'fake',
      images: projectCatalog(),
      bindUnscheduled: true,
      startDelayMs: START_DELAY_MS,
      concurrency: 64,
      log: pino({ level: 'warn' }),
    });
    const port = await freePort();
    controller = spawn(
      process.execPath,
      controllerArgv({
        kubeconfig: cp.kubeconfig,
        port,
        // Fake containers have no sidecar to ask: the slots prove handovers with a probe,
        // which the node simulator answers (docs/benchmarks.md says what this measures).
        args: ['--qps', String(QPS), '--write-concurrency', '64', '--completion-signal', 'probe'],
      }),
      {
        stdio: ['ignore', values['controller-log'] ? 'pipe' : 'ignore', 'inherit'],
        env: {
          ...process.env,
          LOG_LEVEL: values['controller-log'] ? 'debug' : 'warn',
          NODE_OPTIONS: values['controller-node-options'],
        },
      },
    );
    if (values['controller-log']) controller.stdout?.pipe(createWriteStream(values['controller-log']));
    const pid = controller.pid ?? 0;
    controller.once('exit', (code, signal) => (controllerExit = `code ${code}, signal ${signal}`));
    const created = await client.create(
      `/apis/hotupgrade.io/v1alpha1/namespaces/${NS}/hotdeployments`,
      hotDeployment(),
    );
    if (!created.ok) throw new Error(`create HotDeployment: ${created.message}`);
    const setupMs = await waitFor('creating the pods', client, complete(demo('v1')), TIMEOUT_MS);
    progress(`${PODS} pods ready at v1 after ${(setupMs / 1000).toFixed(1)} s; upgrading to v2`);
    await sleep(2000);

    const before = await scrape(port);
    const apiPid = cp.daemons.find((d) => d.name === 'kube-apiserver')?.pid ?? 0;
    const etcdPid = cp.daemons.find((d) => d.name === 'etcd')?.pid ?? 0;
    const cpu0 = {
      api: cpuSeconds(apiPid),
      etcd: cpuSeconds(etcdPid),
      ctl: cpuSeconds(pid),
      self: process.cpuUsage(),
    };
    const simWrites0 = sim.stats().statusWrites;
    let maxRss = rssMb(pid);
    const rssTimer = setInterval(() => (maxRss = Math.max(maxRss, rssMb(pid))), 250);
    const t0 = Date.now();
    const patched = await client.patch(
      `/apis/hotupgrade.io/v1alpha1/namespaces/${NS}/hotdeployments/${NAME}`,
      [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: demo('v2') }],
      'json',
    );
    if (!patched.ok) throw new Error(`set image: ${patched.message}`);
    await waitFor('the hot upgrade', client, complete(demo('v2')), TIMEOUT_MS);
    const seconds = (Date.now() - t0) / 1000;
    clearInterval(rssTimer);
    const after = await scrape(port);
    const self = process.cpuUsage(cpu0.self);
    const cpu = {
      apiServer: Number((cpuSeconds(apiPid) - cpu0.api).toFixed(1)),
      etcd: Number((cpuSeconds(etcdPid) - cpu0.etcd).toFixed(1)),
      controller: Number((cpuSeconds(pid) - cpu0.ctl).toFixed(1)),
      simulator: Number(((self.user + self.system) / 1e6).toFixed(1)),
    };

    const writes = (text: string): number =>
      sumSamples(text, 'rest_client_requests_total', (l) => WRITES.has(l.method ?? ''));
    const hist = 'controller_runtime_reconcile_time_seconds';
    const b0 = buckets(before, hist);
    const b1 = buckets(after, hist);
    const floorSeconds = (BATCHES * 2 * START_DELAY_MS) / 1000;
    const result = {
      pods: PODS,
      batches: BATCHES,
      startDelayMs: START_DELAY_MS,
      seconds: Number(seconds.toFixed(1)),
      floorSeconds,
      overheadSeconds: Number((seconds - floorSeconds).toFixed(1)),
      writesPerPod: Number(((writes(after) - writes(before)) / PODS).toFixed(2)),
      controllerRssMb: Number(maxRss.toFixed(1)),
      controllerHeapUsedMb: Number(
        ((sample(after, 'nodejs_heap_size_used_bytes') ?? 0) / 2 ** 20).toFixed(1),
      ),
      reconcileP50Ms: Number((quantileBetween(b0, b1, 0.5) * 1000).toFixed(1)),
      reconcileP99Ms: Number((quantileBetween(b0, b1, 0.99) * 1000).toFixed(1)),
      reconciles: Math.round(sumSamples(after, `${hist}_count`) - sumSamples(before, `${hist}_count`)),
      simStatusWrites: sim.stats().statusWrites - simWrites0,
      cpuSeconds: cpu,
      loadavg: (await import('node:os')).loadavg().map((x) => Number(x.toFixed(2))),
      kubernetes: 'v1.36.5',
      cores: (await import('node:os')).cpus().length,
    };
    progress(
      `done: ${result.seconds} s (floor ${floorSeconds} s, overhead ${result.overheadSeconds} s), ${result.writesPerPod} writes/pod, controller RSS ${result.controllerRssMb} MB, reconcile p50 ${result.reconcileP50Ms} ms p99 ${result.reconcileP99Ms} ms`,
    );
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    controller?.kill('SIGKILL');
    await sim?.stop();
    await client.close();
    await cp.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error('bench:rollout failed:', err);
    process.exit(1);
  },
);
