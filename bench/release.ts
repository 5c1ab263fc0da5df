// `npm run bench:release -- [--pods 10000] [--clusters 3] [--steps 10] [--start-delay-ms 1000] [--json]`
//
// One HotRelease over member clusters, each a real etcd + kube-apiserver (built from the
// upstream modules) with the node simulator in fake mode (a container (re)start takes a
// fixed simulated time) and its own hotupgrade controller process; the hub controller
// runs as its own process against a hub control plane. The pods (split evenly over the
// members) are created and ready before the clock starts; the clock runs from the
// HotRelease's creation to phase Succeeded. Steps: upgrade 1/steps of every cluster's
// pods each, no pauses, no gates.
//
// floorSeconds is what the simulated starts alone cost: each step waits for its new
// slots to start, then for the old slots' placeholders to start again (2 starts per step;
// the members work in parallel).
//
// Side by side, in the same run: the same rollout without the hub (each member's own
// HotDeployment batches, the same 10 steps, started in every member at once), v2 -> v3.
// The difference is what the hub adds.
//
// Progress goes to stderr; the last line on stdout is one JSON object.
import { spawn, type ChildProcess } from 'node:child_process';
import { loadavg, cpus } from 'node:os';
import { openSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { HotDeployment } from '../controller/api/types.ts';
import { KubeClient, loadKubeConfig } from '../controller/kube/client.ts';
import { OPERATOR_VERSION } from '../controller/version.ts';
import { hdPath } from '../controller/writer.ts';
import { freePort } from '../demo/ports.ts';
import { hotReleaseCrdManifest, memberClusterCrdManifest } from '../hub/api/crd.ts';
import type { HotRelease } from '../hub/api/types.ts';
import { startControlPlane, type ControlPlane } from '../test/cluster/harness.ts';
import { startEnv, type Env } from '../test/controller/env.ts';
import { selfContainedKubeconfig } from '../test/hub/env.ts';
import { PROJECT_IMAGES } from '../test/nodesim/catalog.ts';
import { cpuSeconds, rssMb } from './procstat.ts';

const progress = (line: string): void => void process.stderr.write(`[bench:release] ${line}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const { values } = parseArgs({
  options: {
    pods: { type: 'string', default: '10000' },
    clusters: { type: 'string', default: '3' },
    steps: { type: 'string', default: '10' },
    'start-delay-ms': { type: 'string', default: '1000' },
    'poll-seconds': { type: 'string', default: '2' },
    qps: { type: 'string', default: '5000' },
    'timeout-s': { type: 'string', default: '3600' },
    'skip-baseline': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const PODS = Number(values.pods);
const CLUSTERS = Number(values.clusters);
const STEPS = Number(values.steps);
const START_DELAY_MS = Number(values['start-delay-ms']);
const POLL_S = Number(values['poll-seconds']);
const QPS = Number(values.qps);
const TIMEOUT_MS = Number(values['timeout-s']) * 1000;
for (const [flag, v, min] of [
  ['--pods', PODS, 1],
  ['--clusters', CLUSTERS, 1],
  ['--steps', STEPS, 1],
  ['--start-delay-ms', START_DELAY_MS, 0],
  ['--poll-seconds', POLL_S, 1],
  ['--qps', QPS, 1],
] as const) {
  if (!Number.isInteger(v) || v < min) {
    console.error(`${flag} must be an integer >= ${min}`);
    process.exit(2);
  }
}
if (PODS < CLUSTERS) {
  console.error('--pods must be at least --clusters (every member runs at least one pod)');
  process.exit(2);
}

const NS = 'bench';
const NAME = 'fleet';
const HUB_NS = 'hotupgrade-system';
const demo = (v: string): string => `${PROJECT_IMAGES.demo}:${v}`;
const pct = (i: number): string => `${Math.round((100 * i) / STEPS)}%`;
const names = Array.from({ length: CLUSTERS }, (_, i) => `m${i + 1}`);
/** Pods per member: the remainder goes to the first ones. */
const share = (i: number): number => Math.floor(PODS / CLUSTERS) + (i < PODS % CLUSTERS ? 1 : 0);

function hotDeployment(replicas: number): HotDeployment {
  return {
    apiVersion: 'hotupgrade.io/v1alpha1',
    kind: 'HotDeployment',
    metadata: { name: NAME, namespace: NS },
    spec: {
      replicas,
      selector: { matchLabels: { app: NAME } },
      template: {
        metadata: { labels: { app: NAME } },
        spec: { containers: [{ name: 'app', image: demo('v1'), ports: [{ containerPort: 8080 }] }] },
      },
      hotContainer: 'app',
      // Each step's pods start at once, as in bench:rollout.
      updateStrategy: { maxUnavailable: '100%', progressDeadlineSeconds: 3600 },
    },
  };
}

function release(): HotRelease {
  return {
    apiVersion: 'hotupgrade.io/v1alpha1',
    kind: 'HotRelease',
    metadata: { name: 'fleet-v2', namespace: NS },
    spec: {
      target: { name: NAME },
      image: demo('v2'),
      clusters: { names },
      progressDeadlineSeconds: 3600,
      steps: Array.from({ length: STEPS }, (_, i) => ({ upgrade: { replicas: pct(i + 1) } })),
    },
  };
}

interface Member {
  name: string;
  env: Env;
  replicas: number;
}

const done =
  (image: string, replicas: number) =>
  (hd: HotDeployment | undefined): boolean =>
    hd?.status?.observedGeneration === hd?.metadata.generation &&
    hd?.status?.updateImage === image &&
    hd.status.updatedReplicas === replicas &&
    hd.status.readyReplicas === replicas &&
    (hd.status.upgradingReplicas ?? 0) === 0;

async function getHd(client: KubeClient): Promise<HotDeployment | undefined> {
  const r = await client.get<HotDeployment>(hdPath(NS, NAME));
  return r.ok ? r.body : undefined;
}

/** Waits until every member satisfies `ok`; logs progress every 10 s. */
async function waitMembers(what: string, members: Member[], image: string): Promise<number> {
  const t0 = Date.now();
  let lastLog = 0;
  while (Date.now() - t0 < TIMEOUT_MS) {
    for (const m of members) {
      const c = m.env.controllers[0]?.child;
      if (c && (c.exitCode !== null || c.signalCode !== null))
        throw new Error(
          `${m.name}: the controller exited (${c.exitCode ?? c.signalCode}) while waiting for ${what}; log ${m.env.controllers[0]?.log}`,
        );
    }
    const hds = await Promise.all(members.map((m) => getHd(m.env.client)));
    if (hds.every((hd, i) => done(image, members[i]?.replicas ?? 0)(hd))) return Date.now() - t0;
    if (Date.now() - lastLog > 10_000) {
      lastLog = Date.now();
      progress(
        `${what}: ${((Date.now() - t0) / 1000).toFixed(0)} s, ${hds
          .map(
            (hd, i) =>
              `${members[i]?.name} ${hd?.status?.updatedReplicas ?? 0}/${members[i]?.replicas} at ${hd?.status?.updateImage?.split(':').pop() ?? '?'}`,
          )
          .join(', ')}`,
      );
    }
    await sleep(250);
  }
  throw new Error(`timed out after ${TIMEOUT_MS / 1000} s waiting for ${what}`);
}

async function main(): Promise<void> {
  progress(
    `${PODS} pods over ${CLUSTERS} member clusters, ${STEPS} steps, simulated container start ${START_DELAY_MS} ms`,
  );
  let hubCp: ControlPlane | undefined;
  const members: Member[] = [];
  let hub: ChildProcess | undefined;
  let hubExit: string | undefined;
  let hubClient: KubeClient | undefined;
  try {
    // In parallel: the control planes are the slow part of the set-up.
    const [cp, ...envs] = await Promise.all([
      startControlPlane({ name: 'bench-hub', log: progress }),
      ...names.map((n) =>
        startEnv(`bench-${n}`, { mode: 'fake', startDelayMs: START_DELAY_MS, concurrency: 64 }),
      ),
    ]);
    hubCp = cp;
    envs.forEach((env, i) => members.push({ name: names[i] ?? '', env, replicas: share(i) }));
    hubClient = await KubeClient.fromKubeConfig(loadKubeConfig(cp.kubeconfig), { qps: 0 });
    for (const crd of [memberClusterCrdManifest(), hotReleaseCrdManifest()]) {
      const r = await hubClient.create('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
      if (!r.ok) throw new Error(`hub CRD: ${r.message}`);
    }
    for (const ns of [NS, HUB_NS]) await hubClient.create('/api/v1/namespaces', { metadata: { name: ns } });
    for (const m of members) {
      await m.env.namespace(NS);
      await m.env.startController({
        identity: `controller-${m.name}`,
        // One replica per member: no election (a starved Lease renewal would stop it, and
        // nobody restarts a process here the way a kubelet restarts a container).
        args: ['--qps', String(QPS), '--write-concurrency', '64', '--leader-elect', 'false'],
      });
      const r = await m.env.client.create(hdPath(NS), hotDeployment(m.replicas));
      if (!r.ok) throw new Error(`${m.name}: create HotDeployment: ${r.message}`);
    }
    const setupMs = await waitMembers('creating the pods', members, demo('v1'));
    progress(`${PODS} pods ready at v1 after ${(setupMs / 1000).toFixed(1)} s`);

    // The members, registered on the hub; CRDs established by now.
    for (const m of members) {
      const secret = {
        metadata: { name: `${m.name}-kubeconfig`, namespace: HUB_NS },
        data: { kubeconfig: Buffer.from(selfContainedKubeconfig(m.env.kubeconfig)).toString('base64') },
      };
      const s = await hubClient.create(`/api/v1/namespaces/${HUB_NS}/secrets`, secret);
      if (!s.ok) throw new Error(`secret: ${s.message}`);
      const mc = await hubClient.create('/apis/hotupgrade.io/v1alpha1/memberclusters', {
        apiVersion: 'hotupgrade.io/v1alpha1',
        kind: 'MemberCluster',
        metadata: { name: m.name },
        spec: { kubeconfigSecretRef: { namespace: HUB_NS, name: `${m.name}-kubeconfig` } },
      });
      if (!mc.ok) throw new Error(`MemberCluster: ${mc.message}`);
    }
    const port = await freePort();
    const hubLog = join(members[0]?.env.dir ?? '/tmp', 'hub.log');
    const hubOut = openSync(hubLog, 'a');
    hub = spawn(
      process.execPath,
      [
        'hub/main.ts',
        '--kubeconfig',
        cp.kubeconfig,
        '--port',
        String(port),
        '--host',
        '127.0.0.1',
        '--lease-namespace',
        'default',
        '--poll-seconds',
        String(POLL_S),
        '--leader-elect',
        'false',
      ],
      { stdio: ['ignore', hubOut, hubOut], env: { ...process.env, LOG_LEVEL: 'info' } },
    );
    progress(`hub log: ${hubLog}`);
    hub.once('exit', (code, signal) => (hubExit = `code ${code}, signal ${signal}`));
    const hubPid = hub.pid ?? 0;
    const ctlPids = members.map((m) => m.env.controllers[0]?.child.pid ?? 0);
    for (let i = 0; i < 100; i++) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) break;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    await sleep(2000);

    // ---- the release -------------------------------------------------------------------
    let hubRss = rssMb(hubPid);
    let ctlRss = Math.max(...ctlPids.map(rssMb));
    const rssTimer = setInterval(() => {
      hubRss = Math.max(hubRss, rssMb(hubPid));
      ctlRss = Math.max(ctlRss, ...ctlPids.map(rssMb));
    }, 250);
    const hubCpu0 = cpuSeconds(hubPid);
    const t0 = Date.now();
    const created = await hubClient.create(
      `/apis/hotupgrade.io/v1alpha1/namespaces/${NS}/hotreleases`,
      release(),
    );
    if (!created.ok) throw new Error(`create HotRelease: ${created.message}`);
    let phase = '';
    let lastLog = 0;
    while (Date.now() - t0 < TIMEOUT_MS) {
      if (hubExit) throw new Error(`the hub exited (${hubExit})`);
      const r = await hubClient.get<HotRelease>(
        `/apis/hotupgrade.io/v1alpha1/namespaces/${NS}/hotreleases/fleet-v2`,
      );
      phase = r.ok ? (r.body.status?.phase ?? '') : '';
      if (['Succeeded', 'Failed', 'RolledBack', 'Aborted'].includes(phase)) break;
      if (Date.now() - lastLog > 10_000 && r.ok) {
        lastLog = Date.now();
        const s = r.body.status;
        progress(
          `release: ${((Date.now() - t0) / 1000).toFixed(0)} s, ${s?.phase ?? '-'} step ${s?.currentStep ?? '-'}/${STEPS}, ${(s?.clusters ?? []).map((c) => `${c.name} ${c.updated ?? 0}/${c.target ?? 0}`).join(', ')}`,
        );
      }
      await sleep(200);
    }
    const seconds = (Date.now() - t0) / 1000;
    const hubCpu = cpuSeconds(hubPid) - hubCpu0;
    clearInterval(rssTimer);
    if (phase !== 'Succeeded') throw new Error(`the release ended ${phase || 'nowhere'} after ${seconds} s`);
    progress(`release Succeeded in ${seconds.toFixed(1)} s`);

    // ---- the same steps without the hub: each member's own batches, v2 -> v3 -------------
    let baselineSeconds: number | undefined;
    if (!values['skip-baseline']) {
      const t1 = Date.now();
      await Promise.all(
        members.map(async (m) => {
          const r = await m.env.client.patch(
            hdPath(NS, NAME),
            [
              {
                op: 'replace',
                path: '/spec/updateStrategy',
                value: {
                  maxUnavailable: '100%',
                  progressDeadlineSeconds: 3600,
                  partition: 0,
                  batches: Array.from({ length: STEPS }, (_, i) => ({ replicas: pct(i + 1) })),
                },
              },
              { op: 'replace', path: '/spec/template/spec/containers/0/image', value: demo('v3') },
            ],
            'json',
          );
          if (!r.ok) throw new Error(`${m.name}: baseline patch: ${r.message}`);
        }),
      );
      await waitMembers('the baseline (members alone)', members, demo('v3'));
      baselineSeconds = (Date.now() - t1) / 1000;
      progress(`baseline: members alone in ${baselineSeconds.toFixed(1)} s`);
    }

    const floorSeconds = (STEPS * 2 * START_DELAY_MS) / 1000;
    const result = {
      pods: PODS,
      clusters: CLUSTERS,
      steps: STEPS,
      startDelayMs: START_DELAY_MS,
      pollSeconds: POLL_S,
      seconds: Number(seconds.toFixed(1)),
      floorSeconds,
      overheadSeconds: Number((seconds - floorSeconds).toFixed(1)),
      ...(baselineSeconds !== undefined
        ? {
            membersAloneSeconds: Number(baselineSeconds.toFixed(1)),
            hubAddedSeconds: Number((seconds - baselineSeconds).toFixed(1)),
            ratioToMembersAlone: Number((seconds / baselineSeconds).toFixed(2)),
          }
        : {}),
      hubRssMb: Number(hubRss.toFixed(1)),
      hubCpuSeconds: Number(hubCpu.toFixed(1)),
      memberControllerRssMb: Number(ctlRss.toFixed(1)),
      loadavg: loadavg().map((x) => Number(x.toFixed(2))),
      cores: cpus().length,
      version: OPERATOR_VERSION,
    };
    progress(
      `done: ${result.seconds} s (floor ${floorSeconds} s, overhead ${result.overheadSeconds} s${baselineSeconds !== undefined ? `; members alone ${result.membersAloneSeconds} s` : ''}), hub RSS ${result.hubRssMb} MB, member controller RSS ${result.memberControllerRssMb} MB`,
    );
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    hub?.kill('SIGKILL');
    await hubClient?.close();
    await Promise.all(members.map((m) => m.env.stop().catch(() => undefined)));
    await hubCp?.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error('bench:release failed:', err);
    process.exit(1);
  },
);
