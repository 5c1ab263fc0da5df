// `npm run bench:e2e -- [--pods 10] [--rate 200] [--sessions 500] [--json] [--kubeconfig FILE]
//    [--hot-max-unavailable 100%] [--rolling-max-surge 25%] [--rolling-max-unavailable 25%]`
//
// The same demo server, the same replica count and the same load through a Service,
// upgraded v1 -> v2 once as a plain Deployment with a RollingUpdate and once as a
// HotDeployment, on a real kubelet (the single node of test/cluster, or your cluster).
// The Deployment is set up the way a careful user would: a readiness probe every second,
// a preStop sleep so that kube-proxy stops sending before SIGTERM, the default
// maxSurge/maxUnavailable of 25% (flags change them). The clock runs from the image change until every pod
// runs v2 and is ready (and, for the Deployment, no old pod is left).
// Progress goes to stderr; the last line on stdout is one JSON object.
import { parseArgs } from 'node:util';
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { sessionsLostWith, type LoadReport } from '../demo/loadgen.ts';
import { until } from '../test/cluster/harness.ts';
import { rolledOut, setImage, waitHd } from '../test/controller/fixtures.ts';
import { demoImage, startE2E, type E2E } from '../test/e2e/env.ts';
import { serviceLoad } from '../test/e2e/load.ts';
import { RESTRICTED, demoHotDeployment, exposeDemo, waitEndpoints } from '../test/e2e/workload.ts';

const { values } = parseArgs({
  options: {
    pods: { type: 'string', default: '10' },
    rate: { type: 'string', default: '200' },
    sessions: { type: 'string', default: '500' },
    // Pods stay Ready through a hot upgrade (the old version serves until the new one took
    // over), so every pod may upgrade at once; a Deployment cannot take them all down.
    'hot-max-unavailable': { type: 'string', default: '100%' },
    'rolling-max-surge': { type: 'string', default: '25%' },
    'rolling-max-unavailable': { type: 'string', default: '25%' },
    json: { type: 'boolean', default: false },
    kubeconfig: { type: 'string' },
    'timeout-s': { type: 'string', default: '600' },
  },
});
const PODS = Number(values.pods);
const RATE = Number(values.rate);
const SESSIONS = Number(values.sessions);
const TIMEOUT_MS = Number(values['timeout-s']) * 1000;
for (const [flag, v, min] of [
  ['--pods', PODS, 2],
  ['--rate', RATE, 1],
  ['--sessions', SESSIONS, 1],
  ['--timeout-s', TIMEOUT_MS / 1000, 10],
] as const) {
  if (!Number.isInteger(v) || v < min) {
    console.error(`${flag} must be an integer >= ${min}`);
    process.exit(2);
  }
}
const NS = 'bench-e2e';
const intOrPercent = (v: string): string | number => (/^\d+$/.test(v) ? Number(v) : v);
const progress = (line: string): void => void process.stderr.write(`[bench:e2e] ${line}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The demo server alone, as a plain Deployment: one process per pod, its own volume. */
function rollingDeployment(name: string, version: string): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS },
    spec: {
      replicas: PODS,
      selector: { matchLabels: { app: name } },
      strategy: {
        type: 'RollingUpdate',
        rollingUpdate: {
          maxSurge: intOrPercent(values['rolling-max-surge']),
          maxUnavailable: intOrPercent(values['rolling-max-unavailable']),
        },
      },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 30,
          volumes: [{ name: 'hotupgrade', emptyDir: {} }],
          containers: [
            {
              name: 'app',
              image: demoImage(version),
              ports: [{ name: 'http', containerPort: 8080 }],
              env: [
                { name: 'HOTUPGRADE_SLOT', value: 'a' },
                { name: 'HOTUPGRADE_ACTIVE_SLOT', value: 'a' },
                { name: 'HOTUPGRADE_VERSION', value: version },
                { name: 'DEMO_SESSIONS', value: '4096' },
              ],
              volumeMounts: [{ name: 'hotupgrade', mountPath: '/hotupgrade' }],
              readinessProbe: { httpGet: { path: '/version', port: 'http' }, periodSeconds: 1 },
              // kube-proxy stops routing new connections before the process hears SIGTERM.
              lifecycle: { preStop: { sleep: { seconds: 5 } } },
              securityContext: RESTRICTED,
              resources: { requests: { cpu: '20m', memory: '48Mi' }, limits: { memory: '192Mi' } },
            },
          ],
        },
      },
    },
  };
}

interface Run {
  seconds: number;
  report: LoadReport;
  sessionsLost: number;
}

async function livePods(env: E2E, app: string): Promise<string[]> {
  const r = await env.client.list<V1Pod>(`/api/v1/namespaces/${NS}/pods`, { labelSelector: `app=${app}` });
  if (!r.ok) throw new Error(`list pods: ${r.message}`);
  return r.body.items.filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.metadata?.name ?? '');
}

/** Load through `url`; `upgrade` changes the version and returns once it is complete. */
async function measure(env: E2E, app: string, url: string, upgrade: () => Promise<void>): Promise<Run> {
  const load = serviceLoad(url, { rate: RATE, sessions: SESSIONS });
  try {
    await sleep(3_000);
    const t0 = performance.now();
    await upgrade();
    const seconds = (performance.now() - t0) / 1000;
    await sleep(2_000);
    const report = await load.stop();
    return { seconds, report, sessionsLost: sessionsLostWith(report, await livePods(env, app)) };
  } catch (err) {
    await load.stop();
    throw err;
  }
}

async function rolling(env: E2E): Promise<Run> {
  const name = 'rolling';
  const path = `/apis/apps/v1/namespaces/${NS}/deployments`;
  const c = await env.client.create(path, rollingDeployment(name, 'v1'));
  if (!c.ok) throw new Error(`create deployment: ${c.message}`);
  const url = await exposeDemo(env.client, name, NS);
  const done = (version: string) => async (): Promise<true | undefined> => {
    const g = await env.client.get<V1Deployment>(`${path}/${name}`);
    if (!g.ok) return undefined;
    const d = g.body;
    const s = d.status;
    const image = d.spec?.template.spec?.containers[0]?.image;
    const pods = await livePods(env, name);
    return image === demoImage(version) &&
      s?.observedGeneration === d.metadata?.generation &&
      s?.updatedReplicas === PODS &&
      s.availableReplicas === PODS &&
      s.replicas === PODS &&
      pods.length === PODS
      ? true
      : undefined;
  };
  await until('the Deployment at v1', done('v1'), TIMEOUT_MS, 250);
  await waitEndpoints(env.client, name, NS, PODS);
  progress(`Deployment: ${PODS} pods ready at v1; upgrading to v2 under load`);
  return measure(env, name, url, async () => {
    const next = rollingDeployment(name, 'v2').spec?.template;
    const p = await env.client.patch(`${path}/${name}`, { spec: { template: next } }, 'merge');
    if (!p.ok) throw new Error(`patch deployment: ${p.message}`);
    await until('the Deployment at v2', done('v2'), TIMEOUT_MS, 100);
  });
}

async function hot(env: E2E): Promise<Run> {
  const name = 'hot';
  const hd = demoHotDeployment(name, NS, {
    replicas: PODS,
    strategy: { maxUnavailable: values['hot-max-unavailable'] },
  });
  const c = await env.client.create(`/apis/hotupgrade.io/v1alpha1/namespaces/${NS}/hotdeployments`, hd);
  if (!c.ok) throw new Error(`create hotdeployment: ${c.message}`);
  const url = await exposeDemo(env.client, name, NS);
  await waitHd(env.client, NS, name, 'the HotDeployment at v1', rolledOut(demoImage('v1'), PODS), TIMEOUT_MS);
  await waitEndpoints(env.client, name, NS, PODS);
  progress(`HotDeployment: ${PODS} pods ready at v1; upgrading to v2 under load`);
  return measure(env, name, url, async () => {
    await setImage(env.client, NS, name, demoImage('v2'));
    await waitHd(
      env.client,
      NS,
      name,
      'the HotDeployment at v2',
      rolledOut(demoImage('v2'), PODS),
      TIMEOUT_MS,
    );
  });
}

const env = await startE2E({
  name: 'bench-e2e',
  ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}),
  log: progress,
});
let failed = false;
try {
  progress('helm install');
  await env.install();
  await env.namespace(NS);
  const r = await rolling(env);
  progress(
    `Deployment: ${r.seconds.toFixed(1)} s, ${r.report.failed} failed, ${r.sessionsLost} sessions lost, max gap ${r.report.maxGapMs.toFixed(0)} ms`,
  );
  // The Deployment's pods go first, so that both runs have the machine to themselves.
  await env.client.delete(`/apis/apps/v1/namespaces/${NS}/deployments/rolling`);
  await until(
    'the Deployment pods to go',
    async () => ((await livePods(env, 'rolling')).length === 0 ? true : undefined),
    120_000,
    500,
  );
  await sleep(6_000);
  const h = await hot(env);
  progress(
    `HotDeployment: ${h.seconds.toFixed(1)} s, ${h.report.failed} failed, ${h.sessionsLost} sessions lost, max gap ${h.report.maxGapMs.toFixed(0)} ms`,
  );
  const result = {
    pods: PODS,
    rate: RATE,
    sessions: SESSIONS,
    hotMaxUnavailable: values['hot-max-unavailable'],
    rollingMaxSurge: values['rolling-max-surge'],
    rollingMaxUnavailable: values['rolling-max-unavailable'],
    hotSeconds: Math.round(h.seconds * 100) / 100,
    rollingSeconds: Math.round(r.seconds * 100) / 100,
    speedup: Math.round((r.seconds / h.seconds) * 100) / 100,
    hotFailed: h.report.failed,
    rollingFailed: r.report.failed,
    hotSessionsLost: h.sessionsLost,
    rollingSessionsLost: r.sessionsLost,
    hotMaxGapMs: Math.round(h.report.maxGapMs),
    rollingMaxGapMs: Math.round(r.report.maxGapMs),
    hotRequests: h.report.ok + h.report.failed,
    rollingRequests: r.report.ok + r.report.failed,
    hotP99Ms: h.report.latencyMs.p99,
    rollingP99Ms: r.report.latencyMs.p99,
    hotFailureReasons: h.report.failureReasons,
    rollingFailureReasons: r.report.failureReasons,
  };
  if (!values.json) {
    console.log(
      `\n${PODS} pods, ${RATE} req/s over ${SESSIONS} sessions through a Service\n` +
        `  RollingUpdate: ${result.rollingSeconds} s, ${result.rollingFailed} failed, ${result.rollingSessionsLost} sessions lost, max gap ${result.rollingMaxGapMs} ms\n` +
        `  HotDeployment: ${result.hotSeconds} s, ${result.hotFailed} failed, ${result.hotSessionsLost} sessions lost, max gap ${result.hotMaxGapMs} ms\n` +
        `  hot upgrade ${result.speedup}x faster\n`,
    );
  }
  console.log(JSON.stringify(result));
} catch (err) {
  failed = true;
  console.error(`bench:e2e failed: ${(err as Error).stack ?? String(err)}`);
} finally {
  await env.stop();
}
process.exitCode = failed ? 1 : 0;
