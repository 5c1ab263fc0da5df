// A controller test environment: a real control plane (or the user's cluster), the
// HotDeployment CRD, the node simulator, and controller processes started from
// controller/main.ts, each stoppable with any signal (the reliability suites SIGKILL them).
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { hotDeploymentCrdManifest } from '../../controller/api/crd.ts';
import type { HotDeployment } from '../../controller/api/types.ts';
import { KubeClient, loadKubeConfig } from '../../controller/kube/client.ts';
import { hdPath, podPath } from '../../controller/writer.ts';
import { freePort } from '../../demo/ports.ts';
import {
  externalKubeconfig,
  startControlPlane,
  until as clusterUntil,
  useControlPlane,
  type ControlPlane,
  type TestCluster,
} from '../cluster/harness.ts';
import { PROJECT_IMAGES, projectCatalog } from '../nodesim/catalog.ts';
import { startNodeSim, type NodeSim, type NodeSimOptions } from '../nodesim/index.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const IMAGES = PROJECT_IMAGES;
export const demoImage = (v: string): string => `${PROJECT_IMAGES.demo}:${v}`;

/** A Node process of the project (controller, hub) with its output in a log file. */
export interface NodeProc {
  port: number;
  child: ChildProcess;
  log: string;
  exited: Promise<number | null>;
  /** Sends `signal` (default SIGTERM), SIGKILL after 15 s; resolves with the exit code. */
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface ControllerProc extends NodeProc {
  identity: string;
  /** When it was spawned, ms since the epoch. */
  startedAt: number;
}

/** Spawns `node argv...` with stdout and stderr into `log`. */
export function spawnNode(argv: string[], port: number, log: string, env: NodeJS.ProcessEnv): NodeProc {
  const out = createWriteStream(log);
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'], env });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    port,
    child,
    log,
    exited,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

export interface Env {
  cluster: TestCluster;
  /** The control plane this suite started; undefined on the user's cluster (KUBECONFIG_E2E). */
  controlPlane: ControlPlane | undefined;
  kubeconfig: string;
  client: KubeClient;
  sim: NodeSim | undefined;
  dir: string;
  controllers: ControllerProc[];
  startController(opts?: { identity?: string; args?: string[] }): Promise<ControllerProc>;
  startSim(o: Partial<NodeSimOptions>): Promise<NodeSim>;
  namespace(name: string): Promise<void>;
  getHd(ns: string, name: string): Promise<HotDeployment>;
  stop(): Promise<void>;
}

/** The command line of a controller process for the project's images, on 127.0.0.1:port. */
export function controllerArgv(o: {
  kubeconfig: string;
  port: number;
  identity?: string;
  args?: string[];
}): string[] {
  return [
    join(REPO, 'controller/main.ts'),
    '--kubeconfig',
    o.kubeconfig,
    '--placeholder-image',
    PROJECT_IMAGES.placeholder,
    '--sidecar-image',
    PROJECT_IMAGES.sidecar,
    '--lease-namespace',
    'default',
    ...(o.identity ? ['--identity', o.identity] : []),
    '--port',
    String(o.port),
    '--host',
    '127.0.0.1',
    ...(o.args ?? []),
  ];
}

/** The cluster harness's poll (every 100 ms here), with the timeout before the probe. */
export function until<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>): Promise<T> {
  return clusterUntil(what, fn, timeoutMs, 100);
}

export async function installCrd(client: KubeClient): Promise<void> {
  const crd = hotDeploymentCrdManifest();
  const path = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
  const r = await client.create(path, crd);
  if (!r.ok && r.reason !== 'AlreadyExists') throw new Error(`CRD: ${r.message}`);
  await until('the CRD to be Established', 30_000, async () => {
    const g = await client.get<{ status?: { conditions?: { type: string; status: string }[] } }>(
      `${path}/${crd.metadata?.name ?? ''}`,
    );
    return g.ok && g.body.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')
      ? true
      : undefined;
  });
}

export async function startEnv(name: string, sim?: Partial<NodeSimOptions>): Promise<Env> {
  // What useControlPlane does, keeping the ControlPlane so that a suite can restart its
  // kube-apiserver (test/cluster/controlplane.ts stopApiServer).
  const controlPlane = externalKubeconfig() ? undefined : await startControlPlane({ name });
  const cluster: TestCluster = controlPlane
    ? { kubeconfig: controlPlane.kubeconfig, ours: true, stop: () => controlPlane.stop() }
    : await useControlPlane(name);
  const client = await KubeClient.fromKubeConfig(loadKubeConfig(cluster.kubeconfig), { qps: 0 });
  await installCrd(client);
  const dir = mkdtempSync(join(tmpdir(), `hotupgrade-${name}-`));
  // Fake containers have no sidecar to ask: there the slots prove handovers with a probe.
  let simMode: NodeSimOptions['mode'] | undefined;
  const env: Env = {
    cluster,
    controlPlane,
    kubeconfig: cluster.kubeconfig,
    client,
    sim: undefined,
    dir,
    controllers: [],
    async startSim(o) {
      simMode = o.mode ?? 'process';
      env.sim = await startNodeSim({
        kubeconfig: cluster.kubeconfig,
        nodeName: `${name}-node`,
        mode: 'process',
        images: projectCatalog(),
        bindUnscheduled: true,
        log: pino({ level: process.env.NODESIM_LOG_LEVEL ?? 'warn' }),
        ...o,
      });
      return env.sim;
    },
    async startController(opts = {}) {
      const identity = opts.identity ?? `controller-${env.controllers.length}`;
      const port = await freePort();
      const log = join(dir, `${identity}-${Date.now()}.log`);
      const proc: ControllerProc = {
        ...spawnNode(
          controllerArgv({
            kubeconfig: cluster.kubeconfig,
            port,
            identity,
            args: [...(simMode === 'fake' ? ['--completion-signal', 'probe'] : []), ...(opts.args ?? [])],
          }),
          port,
          log,
          { ...process.env, LOG_LEVEL: process.env.CONTROLLER_LOG_LEVEL ?? 'info' },
        ),
        identity,
        startedAt: Date.now(),
      };
      env.controllers.push(proc);
      return proc;
    },
    async namespace(ns) {
      const r = await client.create('/api/v1/namespaces', { metadata: { name: ns } });
      if (!r.ok && r.reason !== 'AlreadyExists') throw new Error(`namespace ${ns}: ${r.message}`);
      // The ServiceAccount admission plugin refuses pods until the namespace has its default account.
      await until(`serviceaccount default in ${ns}`, 30_000, async () => {
        const g = await client.get(`/api/v1/namespaces/${ns}/serviceaccounts/default`);
        return g.ok ? true : undefined;
      });
    },
    async getHd(ns, n) {
      const r = await client.get<HotDeployment>(hdPath(ns, n));
      if (!r.ok) throw new Error(`get hotdeployment ${ns}/${n}: ${r.message}`);
      return r.body;
    },
    async stop() {
      await Promise.all(env.controllers.map((c) => c.kill('SIGKILL')));
      await env.sim?.stop();
      await client.close();
      await cluster.stop();
    },
  };
  if (sim) await env.startSim(sim);
  return env;
}

export { hdPath, podPath };
