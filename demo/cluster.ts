// `npm run demo`: the product as a new user meets it. Brings up the local single node
// Kubernetes (or uses your cluster with --kubeconfig / KUBECONFIG_E2E), builds the images
// from the Dockerfile and loads them, `helm install`s the operator, deploys the demo
// server as a HotDeployment of 3 pods behind a Service, puts it under load through the
// Service and hot-upgrades it v1 -> v2, showing live progress; then prints what the
// clients noticed. `npm run demo:local` is the same handover without Kubernetes.
//
//   npm run demo [-- --kubeconfig FILE] [-- --keep]   (KUBECONFIG_E2E or KUBECONFIG count as --kubeconfig)
//     --keep   leave the cluster and the demo running (stop it with npm run cluster:down -- demo)
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import type { V1Pod } from '@kubernetes/client-node';
import type { HotDeployment } from '../controller/api/types.ts';
import { ANNOTATIONS } from '../controller/constants.ts';
import { CLUSTER_DIR } from '../test/cluster/config.ts';
import { externalKubeconfig } from '../test/cluster/harness.ts';
import { condition, listPods, setImage } from '../test/controller/fixtures.ts';
import { demoImage, startE2E, type E2E } from '../test/e2e/env.ts';
import { serviceLoad } from '../test/e2e/load.ts';
import { demoHotDeployment, exposeDemo, waitEndpoints } from '../test/e2e/workload.ts';
import { sessionsLostWith } from './loadgen.ts';

const { values } = parseArgs({
  options: {
    kubeconfig: { type: 'string' },
    keep: { type: 'boolean', default: false },
    replicas: { type: 'string', default: '3' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(
    'usage: npm run demo [-- --kubeconfig FILE] [-- --keep] [-- --replicas N]\n' +
      '  Brings up a local single node cluster (or uses FILE), installs the operator with helm,\n' +
      '  deploys the demo server and hot-upgrades it under load, printing what happens.\n' +
      '  --keep leaves everything running afterwards (npm run cluster:down -- demo stops it).',
  );
  process.exit(0);
}
const REPLICAS = Number(values.replicas);
if (!Number.isInteger(REPLICAS) || REPLICAS < 2 || REPLICAS > 20) {
  console.error('--replicas must be an integer from 2 to 20');
  process.exit(2);
}
const NS = 'demo';
const NAME = 'demo';
const t0 = Date.now();
const say = (line: string): void =>
  void process.stdout.write(`${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s  ${line}\n`);

/** One line per pod: which slot serves which version. */
function podLine(p: V1Pod): string {
  const a = p.metadata?.annotations ?? {};
  const active = a[ANNOTATIONS.activeSlot] ?? 'a';
  const version = a[ANNOTATIONS.version(active === 'b' ? 'b' : 'a')] || '?';
  const upgrading = a[ANNOTATIONS.upgrade] ? ' (upgrading)' : '';
  const ready = p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
    ? ''
    : ' not ready';
  return `${p.metadata?.name}: slot ${active} ${version}${upgrading}${ready}`;
}

function statusLine(hd: HotDeployment): string {
  const s = hd.status;
  const batch = s?.batch ? ` batch ${s.batch.number}/${s.batch.total} ${s.batch.state}` : '';
  return `${condition(hd, 'Progressing')}${batch}, updated ${s?.updatedReplicas ?? 0}/${hd.spec.replicas}, ready ${s?.readyReplicas ?? 0}`;
}

async function main(env: E2E): Promise<boolean> {
  say('helm install charts/hotupgrade (the operator: 2 controller replicas, leader election)');
  await env.install();
  await env.namespace(NS);
  say(`creating HotDeployment ${NS}/${NAME} (${REPLICAS} pods of ${demoImage('v1')}) and its Service`);
  const hd = demoHotDeployment(NAME, NS, {
    replicas: REPLICAS,
    strategy: { maxUnavailable: 1 },
  });
  const created = await env.client.create(`/apis/hotupgrade.io/v1alpha1/namespaces/${NS}/hotdeployments`, hd);
  if (!created.ok && created.reason !== 'AlreadyExists') throw new Error(`create: ${created.message}`);
  const url = await exposeDemo(env.client, NAME, NS);
  await follow(
    env,
    (h) => h.status?.readyReplicas === REPLICAS && h.status.updateImage === demoImage('v1'),
    300,
  );
  await waitEndpoints(env.client, NAME, NS, REPLICAS);
  const before = await listPods(env.client, NS, NAME);

  say(`load: 200 requests/s over 300 sessions through the Service (${url}), half on keep-alive connections`);
  const load = serviceLoad(url);
  await new Promise((r) => setTimeout(r, 2_000));
  say(`hot upgrade: kubectl -n ${NS} set image hotdeployment/${NAME} app=${demoImage('v2')}`);
  const started = Date.now();
  await setImage(env.client, NS, NAME, demoImage('v2'));
  await follow(
    env,
    (h) =>
      condition(h, 'Progressing') === 'True/RolloutComplete' && h.status?.updateImage === demoImage('v2'),
    300,
    load,
  );
  const seconds = (Date.now() - started) / 1000;
  await new Promise((r) => setTimeout(r, 1_500));
  const report = await load.stop();
  const after = await listPods(env.client, NS, NAME);
  const samePods =
    after.length === before.length &&
    after.every(
      (p, i) => p.metadata?.uid === before[i]?.metadata?.uid && p.status?.podIP === before[i]?.status?.podIP,
    );
  const lost = sessionsLostWith(
    report,
    after.map((p) => p.metadata?.name ?? ''),
  );

  console.log('\nWhat happened');
  console.log(`  versions:        v1 -> v2 on ${REPLICAS} pods, in ${seconds.toFixed(1)} s`);
  console.log(
    `  pods:            ${samePods ? 'the same pods (same UIDs and IPs), upgraded in place' : 'pods changed!'}`,
  );
  console.log(`  requests:        ${report.ok + report.failed} through the Service, ${report.failed} failed`);
  console.log(`  sessions:        ${report.sessionsSeen} sessions, ${lost} lost their state`);
  console.log(
    `  longest gap:     ${report.maxGapMs.toFixed(0)} ms between two answers; p99 latency ${report.latencyMs.p99} ms`,
  );
  console.log(
    `  answers:         ${Object.entries(report.versions)
      .map(([v, n]) => `${n} from ${v}`)
      .join(', ')}`,
  );
  console.log(`\n  kubectl --kubeconfig ${env.kubeconfig} -n ${NS} get hotdeployment,pods`);
  return report.failed === 0 && lost === 0 && samePods;
}

/** Prints the rollout and every pod whenever something changes, until `done` (bounded). */
async function follow(
  env: E2E,
  done: (hd: HotDeployment) => boolean,
  timeoutS: number,
  load?: ReturnType<typeof serviceLoad>,
): Promise<void> {
  const deadline = Date.now() + timeoutS * 1000;
  let last = '';
  while (Date.now() < deadline) {
    const hd = await env.getHd(NS, NAME).catch(() => undefined);
    const pods = await listPods(env.client, NS, NAME).catch(() => []);
    const snap = load?.snapshot();
    const line = hd
      ? `${statusLine(hd)} | ${pods.map(podLine).join(' | ')}`
      : 'waiting for the HotDeployment';
    if (line !== last) {
      say(line + (snap ? `   [load: ${snap.ok} ok, ${snap.failed} failed]` : ''));
      last = line;
    }
    if (hd && hd.status?.observedGeneration === hd.metadata.generation && done(hd)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`not done within ${timeoutS} s`);
}

if (!values.kubeconfig && !externalKubeconfig()) {
  say('building Kubernetes, etcd and helm from their Go modules if missing (cold: ~20 min, then cached)');
  const b = spawnSync('bash', [`${CLUSTER_DIR}/build.sh`], { stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}
const env = await startE2E({
  name: 'demo',
  ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}),
  log: say,
});
let ok = false;
try {
  ok = await main(env);
} catch (err) {
  console.error(`demo failed: ${(err as Error).message}`);
} finally {
  if (values.keep) {
    console.log(
      `\nleft running: export KUBECONFIG=${env.kubeconfig}; stop it with npm run cluster:down -- demo`,
    );
    await env.client.close();
  } else {
    say('stopping the cluster (use --keep to leave it running)');
    await env.stop();
  }
}
process.exitCode = ok ? 0 : 1;
