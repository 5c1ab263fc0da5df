// A hub test environment (issue #6): a hub control plane with the HotRelease, MemberCluster
// and HotDeployment CRDs, and per member cluster a control plane of its own with the
// HotDeployment CRD, the node simulator (fake mode) and a member controller process
// (test/controller/env.ts). Each member is registered on the hub as the user would: its
// admin kubeconfig in a Secret of hotupgrade-system and a MemberCluster naming it. The hub
// process (hub/main.ts) is started, SIGKILLed and started again by the tests; a member can
// be cut off (its kube-apiserver stopped) and brought back. Every wait is bounded; stop()
// ends everything by PID.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dumpYaml, loadYaml, type V1Pod } from '@kubernetes/client-node';
import { hotDeploymentCrdManifest } from '../../controller/api/crd.ts';
import { ANNOTATIONS } from '../../controller/constants.ts';
import type { CrdManifest } from '../../controller/api/schema.ts';
import type { HotDeployment } from '../../controller/api/types.ts';
import { KubeClient, loadKubeConfig } from '../../controller/kube/client.ts';
import { freePort } from '../../demo/ports.ts';
import { hotReleaseCrdManifest, memberClusterCrdManifest } from '../../hub/api/crd.ts';
import type { HotRelease, MemberCluster } from '../../hub/api/types.ts';
import { DEFAULT_KUBECONFIG_KEY, HOT_RELEASE, MEMBER_CLUSTER } from '../../hub/constants.ts';
import { pauseApiServer, stopApiServer } from '../cluster/controlplane.ts';
import { startControlPlane, type ControlPlane } from '../cluster/harness.ts';
import {
  demoImage,
  hdPath,
  podPath,
  spawnNode,
  startEnv,
  until,
  type Env,
  type NodeProc,
} from '../controller/env.ts';
import { createHd, fakeCatalog, listPods, rolledOut, rolloutHd, waitHd } from '../controller/fixtures.ts';

export { demoImage, until };

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const BASE = '/apis/hotupgrade.io/v1alpha1';
const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

/** Where the member kubeconfig Secrets live on the hub (the chart's namespace). */
export const HUB_NAMESPACE = 'hotupgrade-system';
/** The hub's flags in these tests: fast probes and polls, a short member timeout. */
export const HUB_ARGS = [
  '--lease-namespace',
  'default',
  '--probe-seconds',
  '1',
  '--poll-seconds',
  '1',
  '--member-timeout-seconds',
  '2',
];

export const releasePath = (ns: string, name = ''): string =>
  `${BASE}/namespaces/${ns}/${HOT_RELEASE.plural}${name ? `/${name}` : ''}`;
export const memberClusterPath = (name = ''): string =>
  `${BASE}/${MEMBER_CLUSTER.plural}${name ? `/${name}` : ''}`;

export interface Member {
  name: string;
  /** The member's own control plane, sim and controller (test/controller/env.ts). */
  env: Env;
  controlPlane: ControlPlane;
  client: KubeClient;
  /** Stops its kube-apiserver (SIGKILL: at once); etcd and the member's processes keep running. */
  cutOff(): Promise<void>;
  /** Starts the kube-apiserver cutOff stopped, with the same flags and port; resolves when ready. */
  restore(): Promise<void>;
  /** Freezes its kube-apiserver (SIGSTOP): connections hang. Returns what thaws it. */
  freeze(): () => void;
  getHd(ns: string, name: string): Promise<HotDeployment>;
  pods(ns: string, name: string): Promise<V1Pod[]>;
}

export type HubProc = NodeProc;

export interface HubEventRecord {
  reason: string;
  message: string;
  type: string;
  count: number;
  firstTimestamp?: string;
}

export interface HubEnv {
  dir: string;
  hub: { controlPlane: ControlPlane; kubeconfig: string; client: KubeClient };
  members: Record<string, Member>;
  /** The hub processes started so far, the running one last. */
  hubs: HubProc[];
  /** Starts hub/main.ts on `--port` hubPort (the env's, fixed, so a Prometheus can scrape every hub it starts). */
  startHub(args?: string[]): Promise<HubProc>;
  /** The port every hub process of this env listens on. */
  hubPort: number;
  /** Stops the running hub process with `signal` (default SIGKILL). */
  killHub(signal?: NodeJS.Signals): Promise<void>;
  /** The last lines of every hub log, each under its file name. */
  hubLogTail(lines?: number): string;
  /** Creates a namespace on the hub and in every member. */
  namespace(ns: string): Promise<void>;
  /** The same HotDeployment (the demo template) in every member; resolves when each runs `replicas` pods at `image`. */
  createHdEverywhere(ns: string, name: string, o: { replicas: number; image: string }): Promise<void>;
  /** A Secret holding the member's kubeconfig and the MemberCluster naming it. */
  registerMember(name: string): Promise<void>;
  createMemberCluster(mc: MemberCluster): Promise<void>;
  getMemberCluster(name: string): Promise<MemberCluster>;
  createRelease(hr: HotRelease): Promise<HotRelease>;
  getRelease(ns: string, name: string): Promise<HotRelease>;
  patchRelease(ns: string, name: string, merge: object): Promise<void>;
  /** Polls the release until `ok`; the timeout error carries its last status and the hub's log tail. */
  waitRelease(
    ns: string,
    name: string,
    what: string,
    ok: (hr: HotRelease) => boolean,
    timeoutMs?: number,
  ): Promise<HotRelease>;
  /** The hub's Events about a HotRelease, oldest first. */
  releaseEvents(ns: string, name: string): Promise<HubEventRecord[]>;
  stop(): Promise<void>;
}

export interface HubEnvOptions {
  /** Member cluster names (also their control plane names, prefixed). */
  members: string[];
  /** Prefix of the control plane names (state dirs under /tmp/hotupgrade-cluster); default "hubt". */
  prefix?: string;
  /** Fake containers start after this long, in ms; default 100. */
  startDelayMs?: number;
  /** Register every member on the hub (Secret + MemberCluster); default true. */
  register?: boolean;
}

/**
 * The kubeconfig at `path` with every certificate and key inlined (`*-data`), as one
 * self-contained document another machine (the hub) can use. The control plane writes
 * them inline already; this keeps working if that changes.
 */
export function selfContainedKubeconfig(path: string): string {
  const doc = loadYaml<{
    clusters?: { cluster: Record<string, string> }[];
    users?: { user: Record<string, string> }[];
  }>(readFileSync(path, 'utf8'));
  const FILES: Record<string, string> = {
    'certificate-authority': 'certificate-authority-data',
    'client-certificate': 'client-certificate-data',
    'client-key': 'client-key-data',
  };
  const inline = (o: Record<string, string>): Record<string, string> =>
    Object.fromEntries(
      Object.entries(o).map(([k, v]) => {
        const data = FILES[k];
        return data ? [data, readFileSync(v).toString('base64')] : [k, v];
      }),
    );
  for (const c of doc.clusters ?? []) c.cluster = inline(c.cluster);
  for (const u of doc.users ?? []) u.user = inline(u.user);
  return dumpYaml(doc, { lineWidth: -1 });
}

async function installCrds(client: KubeClient, crds: CrdManifest[]): Promise<void> {
  for (const crd of crds) {
    const r = await client.create(CRDS, crd);
    if (!r.ok && r.reason !== 'AlreadyExists') throw new Error(`CRD ${crd.metadata.name}: ${r.message}`);
  }
  for (const crd of crds) {
    await until(`CRD ${crd.metadata.name} to be Established`, 30_000, async () => {
      const g = await client.get<{ status?: { conditions?: { type: string; status: string }[] } }>(
        `${CRDS}/${crd.metadata.name}`,
      );
      return g.ok && g.body.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')
        ? true
        : undefined;
    });
  }
}

async function ensureNamespace(client: KubeClient, ns: string): Promise<void> {
  const r = await client.create('/api/v1/namespaces', { metadata: { name: ns } });
  if (!r.ok && r.reason !== 'AlreadyExists') throw new Error(`namespace ${ns}: ${r.message}`);
  await until(`serviceaccount default in ${ns}`, 30_000, async () =>
    (await client.get(`/api/v1/namespaces/${ns}/serviceaccounts/default`)).ok ? true : undefined,
  );
}

function tail(file: string, lines: number): string {
  return existsSync(file) ? readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') : '';
}

async function startMember(cpName: string, name: string, startDelayMs: number): Promise<Member> {
  const env = await startEnv(cpName, { mode: 'fake', images: fakeCatalog(), startDelayMs });
  if (!env.controlPlane) throw new Error('the hub suite needs control planes of its own (unset KUBECONFIG)');
  const controlPlane = env.controlPlane;
  await env.startController({ identity: `controller-${name}` });
  let stopped: { start(): Promise<void> } | undefined;
  return {
    name,
    env,
    controlPlane,
    client: env.client,
    async cutOff() {
      if (stopped) throw new Error(`member ${name} is already cut off`);
      stopped = await stopApiServer(controlPlane, { crash: true });
    },
    async restore() {
      if (!stopped) throw new Error(`member ${name} is not cut off`);
      const s = stopped;
      stopped = undefined;
      await s.start();
    },
    freeze: () => pauseApiServer(controlPlane),
    getHd: (ns, n) => env.getHd(ns, n),
    pods: (ns, n) => listPods(env.client, ns, n),
  };
}

export async function startHubEnv(o: HubEnvOptions): Promise<HubEnv> {
  const prefix = o.prefix ?? 'hubt';
  const dir = mkdtempSync(join(tmpdir(), 'hotupgrade-hub-'));
  // In parallel: on 2 cores three control planes start in about the time of two in a row.
  const started = await Promise.allSettled([
    startControlPlane({ name: `${prefix}-hub` }),
    ...o.members.map((m) => startMember(`${prefix}-${m}`, m, o.startDelayMs ?? 100)),
  ]);
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await Promise.all(
      started.map((s) =>
        s.status !== 'fulfilled' ? undefined : 'env' in s.value ? s.value.env.stop() : s.value.stop(),
      ),
    );
    throw failed.reason;
  }
  const values = started.map((s) => (s as PromiseFulfilledResult<ControlPlane | Member>).value);
  const hubCp = values[0] as ControlPlane;
  const members: Record<string, Member> = {};
  for (const m of values.slice(1) as Member[]) members[m.name] = m;

  const client = await KubeClient.fromKubeConfig(loadKubeConfig(hubCp.kubeconfig), { qps: 0 });
  const hubs: HubProc[] = [];
  const hubPort = await freePort();

  const env: HubEnv = {
    dir,
    hub: { controlPlane: hubCp, kubeconfig: hubCp.kubeconfig, client },
    members,
    hubs,
    hubPort,
    async startHub(args = []) {
      const running = hubs.at(-1);
      if (running && running.child.exitCode === null && running.child.signalCode === null) {
        throw new Error('a hub process runs already: killHub() first');
      }
      const port = env.hubPort;
      const log = join(dir, `hub-${hubs.length}.log`);
      const proc: HubProc = spawnNode(
        [
          join(REPO, 'hub/main.ts'),
          '--kubeconfig',
          hubCp.kubeconfig,
          '--port',
          String(port),
          '--host',
          '127.0.0.1',
          '--identity',
          'hub',
          ...HUB_ARGS,
          ...args,
        ],
        port,
        log,
        { ...process.env, LOG_LEVEL: process.env.HUB_LOG_LEVEL ?? 'debug' },
      );
      const { child } = proc;
      hubs.push(proc);
      // Up when /healthz answers; an exit first fails with the log.
      await until(`the hub process to answer /healthz (log ${log})`, 30_000, async () => {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(
            `hub exited (${child.exitCode ?? child.signalCode}) before /healthz answered:\n${tail(log, 40)}`,
          );
        }
        try {
          const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) });
          return res.ok ? true : undefined;
        } catch {
          return undefined;
        }
      }).catch((e: unknown) => {
        child.kill('SIGKILL');
        throw e;
      });
      return proc;
    },
    async killHub(signal = 'SIGKILL') {
      await hubs.at(-1)?.kill(signal);
    },
    hubLogTail(lines = 60) {
      return hubs.map((h) => `--- ${h.log} ---\n${tail(h.log, lines)}`).join('\n');
    },
    async namespace(ns) {
      await Promise.all([
        ensureNamespace(client, ns),
        ...Object.values(members).map((m) => m.env.namespace(ns)),
      ]);
    },
    async createHdEverywhere(ns, name, { replicas, image }) {
      await Promise.all(
        Object.values(members).map(async (m) => {
          await createHd(m.client, rolloutHd(name, ns, { replicas, image }));
          await waitHd(
            m.client,
            ns,
            name,
            `${m.name}: ${replicas} pods at ${image}`,
            rolledOut(image, replicas),
            60_000,
          );
        }),
      );
    },
    async registerMember(name) {
      const m = members[name];
      if (!m) throw new Error(`no member ${name}`);
      const secret = {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: `${name}-kubeconfig`, namespace: HUB_NAMESPACE },
        type: 'Opaque',
        data: {
          [DEFAULT_KUBECONFIG_KEY]: Buffer.from(selfContainedKubeconfig(m.env.kubeconfig)).toString('base64'),
        },
      };
      const s = await client.create(`/api/v1/namespaces/${HUB_NAMESPACE}/secrets`, secret);
      if (!s.ok && s.reason !== 'AlreadyExists') throw new Error(`secret ${name}-kubeconfig: ${s.message}`);
      await env.createMemberCluster({
        apiVersion: 'hotupgrade.io/v1alpha1',
        kind: 'MemberCluster',
        metadata: { name, labels: { 'hotupgrade.test/member': 'true' } },
        spec: {
          kubeconfigSecretRef: {
            namespace: HUB_NAMESPACE,
            name: `${name}-kubeconfig`,
            key: DEFAULT_KUBECONFIG_KEY,
          },
        },
      });
    },
    async createMemberCluster(mc) {
      const r = await client.create(memberClusterPath(), mc);
      if (!r.ok && r.reason !== 'AlreadyExists')
        throw new Error(`membercluster ${mc.metadata.name}: ${r.message}`);
    },
    async getMemberCluster(name) {
      const r = await client.get<MemberCluster>(memberClusterPath(name));
      if (!r.ok) throw new Error(`get membercluster ${name}: ${r.message}`);
      return r.body;
    },
    async createRelease(hr) {
      const ns = hr.metadata.namespace ?? 'default';
      const r = await client.create<HotRelease>(releasePath(ns), hr);
      if (!r.ok) throw new Error(`create hotrelease ${ns}/${hr.metadata.name ?? ''}: ${r.message}`);
      return r.body;
    },
    async getRelease(ns, name) {
      const r = await client.get<HotRelease>(releasePath(ns, name));
      if (!r.ok) throw new Error(`get hotrelease ${ns}/${name}: ${r.message}`);
      return r.body;
    },
    async patchRelease(ns, name, merge) {
      const r = await client.patch(releasePath(ns, name), merge, 'merge');
      if (!r.ok) throw new Error(`patch hotrelease ${ns}/${name}: ${r.message}`);
    },
    async waitRelease(ns, name, what, ok, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      let last: HotRelease | undefined;
      while (Date.now() < deadline) {
        const r = await client.get<HotRelease>(releasePath(ns, name));
        if (r.ok) {
          last = r.body;
          if (ok(last)) return last;
        }
        await new Promise((res) => setTimeout(res, 100));
      }
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${ns}/${name}: ${what}\n` +
          `last status: ${JSON.stringify(last?.status ?? null, null, 1)}\n${env.hubLogTail(40)}`,
      );
    },
    async releaseEvents(ns, name) {
      const r = await client.list<{
        reason?: string;
        message?: string;
        type?: string;
        count?: number;
        series?: { count?: number };
        firstTimestamp?: string;
        eventTime?: string;
        metadata?: { creationTimestamp?: string };
      }>(`/api/v1/namespaces/${ns}/events`, {
        fieldSelector: `involvedObject.kind=${HOT_RELEASE.kind},involvedObject.name=${name}`,
      });
      if (!r.ok) throw new Error(`list events: ${r.message}`);
      return r.body.items
        .map((e) => ({
          reason: e.reason ?? '',
          message: e.message ?? '',
          type: e.type ?? '',
          count: e.series?.count ?? e.count ?? 1,
          firstTimestamp: e.firstTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp,
        }))
        .sort((x, y) => (x.firstTimestamp ?? '').localeCompare(y.firstTimestamp ?? ''));
    },
    async stop() {
      await Promise.all(hubs.map((h) => h.kill('SIGKILL')));
      await Promise.all(Object.values(members).map((m) => m.env.stop()));
      await client.close();
      await hubCp.stop();
    },
  };

  try {
    await installCrds(client, [
      memberClusterCrdManifest(),
      hotReleaseCrdManifest(),
      hotDeploymentCrdManifest(),
    ]);
    await ensureNamespace(client, HUB_NAMESPACE);
    if (o.register ?? true) for (const m of o.members) await env.registerMember(m);
  } catch (e) {
    await env.stop();
    throw e;
  }
  return env;
}

/** The hot image a pod serves (the controller's annotation). */
export const podImage = (p: V1Pod): string => p.metadata?.annotations?.[ANNOTATIONS.image] ?? '';

/** The hot container's image a HotDeployment asks for (the demo template's first container). */
export const specImage = (hd: HotDeployment): string => hd.spec.template.spec?.containers[0]?.image ?? '';

export { hdPath, podPath };
