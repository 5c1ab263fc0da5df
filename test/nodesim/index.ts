// A kubelet-like node simulator for the controller's tests and benchmarks: registers a
// Node, binds unscheduled pods to it (optionally), runs their containers (real processes
// or timers) and reports their status as the kubelet would. See README.md.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { Binder } from './binder.ts';
import type { Backoff } from './containers.ts';
import { runInformer } from './informer.ts';
import { clientFromKubeconfig, type KubeClient } from './kube.ts';
import { Kubelet, type Counters } from './kubelet.ts';
import { NodeKeeper } from './node.ts';
import { processRuntime } from './processRuntime.ts';
import { fakeRuntime, type ImageBehaviour, type Runtime } from './runtime.ts';
import { TimerQueue } from './timers.ts';
import type { Pod } from './wire.ts';

export type { ImageBehaviour } from './runtime.ts';
export type { Backoff } from './containers.ts';

export interface NodeSimOptions {
  kubeconfig: string;
  /** The Node's name (a DNS subdomain). */
  nodeName: string;
  /** fake: timers only (benchmarks, thousands of pods); process: real processes (small suites). */
  mode: 'fake' | 'process';
  /** What each image does; an image not listed cannot be pulled (there is no registry). */
  images: Record<string, ImageBehaviour>;
  /** Act as the scheduler for pods with no node (one simulator per cluster should). */
  bindUnscheduled: boolean;
  /** Namespaces to watch (default: all). */
  namespaces?: string[];
  /** Pods of this scheduler are bound (default: default-scheduler). */
  schedulerName?: string;
  /** Fake mode: a container (re)start becomes running and ready after this long, in ms (default 100). */
  startDelayMs?: number;
  /** A `crash` image runs this long before it exits 1, in ms (default 500). */
  crashAfterMs?: number;
  /** ErrImagePull retries (the kubelet: 10 s doubling to 300 s). */
  pullBackoff?: Backoff;
  /** CrashLoopBackOff restarts (the kubelet: 10 s doubling to 300 s). */
  crashBackoff?: Backoff;
  /** Status writes, binds and deletes in flight at most, each (default 32). */
  concurrency?: number;
  /** Cap on a container's kill grace period, in ms (default 10,000). */
  maxKillGraceMs?: number;
  /** Leave the Node object when stopping (default false: it is deleted). */
  keepNode?: boolean;
  /** The node's InternalIP and the pods' hostIP (default 127.0.0.1). */
  hostIP?: string;
  /** Node capacity in pods (default 20,000). */
  maxPods?: number;
  /** Extra Node labels. */
  labels?: Record<string, string>;
  /** Second octet of pod addresses: 127.<n>.x.y (process) or 198.18-19.x.y (fake). Default: from the node name. */
  ipOctet?: number;
  /** Process mode: root of pod dirs and logs (default: a new temp dir, removed on stop). */
  dir?: string;
  /** Keep the dir (logs) after stop (default: false, or NODESIM_KEEP=1). */
  keepDir?: boolean;
  /** Lease renewal and Ready heartbeat period, in ms (default 10,000). */
  heartbeatMs?: number;
  log?: Logger;
  /** Level of the default logger (default: NODESIM_LOG_LEVEL or info). */
  logLevel?: string;
}

export interface NodeSimStats {
  /** Status subresource writes that succeeded. */
  statusWrites: number;
  statusWriteFailures: number;
  binds: number;
  /** Pods removed after their deletion (DELETE with grace 0). */
  podDeletes: number;
  /** Pods bound to this node that the simulator runs now. */
  podsManaged: number;
  /** Container instances started (first starts and restarts), since start. */
  containersStarted: number;
  containersRunning: number;
  /** Status writes waiting in the queue. */
  statusQueueDepth: number;
  relists: number;
  rewatches: number;
}

export interface NodeSim {
  nodeName: string;
  /** Process mode: where pods' dirs and the containers' logs (logs/<ns>_<pod>_<container>_<restart>.log) are. */
  dir: string | undefined;
  stats(): NodeSimStats;
  /** Process mode: the process ids of the containers that run now. */
  pids(): number[];
  /** Waits (at most timeoutMs) until no status write is queued or in flight. */
  settled(timeoutMs?: number): Promise<void>;
  /** Stops everything it started; deletes the Node unless keepNode. Safe to call twice. */
  stop(): Promise<void>;
}

function octetFor(name: string): number {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return 20 + (h % 200);
}

function validate(o: NodeSimOptions): void {
  if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(o.nodeName)) {
    throw new Error(
      `nodeName ${JSON.stringify(o.nodeName)} is not a DNS subdomain: use lower case letters, digits, - and .`,
    );
  }
  if (o.mode !== 'fake' && o.mode !== 'process')
    throw new Error(`mode must be "fake" or "process", got ${JSON.stringify(o.mode)}`);
  if (o.ipOctet !== undefined && !(Number.isInteger(o.ipOctet) && o.ipOctet >= 1 && o.ipOctet <= 254)) {
    throw new Error(`ipOctet must be an integer from 1 to 254, got ${o.ipOctet}`);
  }
  for (const [image, b] of Object.entries(o.images)) {
    if ('run' in b && (!Array.isArray(b.run.argv) || b.run.argv.length === 0)) {
      throw new Error(
        `images[${JSON.stringify(image)}].run.argv must name a program, e.g. ["node", "/path/server.ts"]`,
      );
    }
  }
}

async function kubeVersion(client: KubeClient): Promise<string> {
  const v = await client.call<{ gitVersion: string }>('GET', '/version', { timeoutMs: 10_000 });
  return v.ok ? v.value.gitVersion : 'v0.0.0-nodesim';
}

export async function startNodeSim(opts: NodeSimOptions): Promise<NodeSim> {
  validate(opts);
  const log = (
    opts.log ?? pino({ name: 'nodesim', level: opts.logLevel ?? process.env.NODESIM_LOG_LEVEL ?? 'info' })
  ).child({
    node: opts.nodeName,
  });
  const concurrency = opts.concurrency ?? 32;
  const client = await clientFromKubeconfig(opts.kubeconfig, { connections: concurrency * 3 + 16 });
  const version = await kubeVersion(client);
  const hostIP = opts.hostIP ?? '127.0.0.1';
  const octet = opts.ipOctet ?? octetFor(opts.nodeName);
  const timers = new TimerQueue({ onError: (err) => log.error({ err }, 'timer callback failed') });
  const counters: Counters = {
    statusWrites: 0,
    statusWriteFailures: 0,
    binds: 0,
    podDeletes: 0,
    containersStarted: 0,
    relists: 0,
    rewatches: 0,
  };
  const startDelayMs = opts.startDelayMs ?? 100;
  let dir: string | undefined;
  let runtime: Runtime;
  if (opts.mode === 'process') {
    dir = opts.dir ?? mkdtempSync(join(tmpdir(), `nodesim-${opts.nodeName}-`));
    runtime = processRuntime({
      dir,
      shmRoot: join('/dev/shm', `nodesim-${opts.nodeName}-${process.pid}`),
      octet,
      log,
    });
  } else {
    runtime = fakeRuntime(timers, startDelayMs, octet);
  }
  const kubelet = new Kubelet({
    client,
    runtime,
    timers,
    hostIP,
    concurrency,
    maxKillGraceMs: opts.maxKillGraceMs ?? 10_000,
    log,
    counters,
    containers: {
      runtime,
      timers,
      images: opts.images,
      nodeName: opts.nodeName,
      hostIP,
      kubeVersion: version,
      probes: opts.mode === 'process',
      crashAfterMs: opts.crashAfterMs ?? 500,
      crashStartDelayMs: opts.mode === 'fake' ? startDelayMs : 50,
      pullBackoff: opts.pullBackoff ?? { initialMs: 10_000, maxMs: 300_000 },
      crashBackoff: opts.crashBackoff ?? { initialMs: 10_000, maxMs: 300_000 },
      log,
    },
  });
  const node = new NodeKeeper({
    client,
    nodeName: opts.nodeName,
    hostIP,
    maxPods: opts.maxPods ?? 20_000,
    labels: { 'hotupgrade.io/node-simulator': opts.mode, ...opts.labels },
    kubeVersion: version,
    heartbeatMs: opts.heartbeatMs ?? 10_000,
    log,
  });
  const abort = new AbortController();
  const loops: Promise<void>[] = [];
  const binder = opts.bindUnscheduled
    ? new Binder({
        client,
        nodeName: opts.nodeName,
        schedulerName: opts.schedulerName ?? 'default-scheduler',
        timers,
        concurrency,
        log,
        onBound: () => void counters.binds++,
      })
    : undefined;

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      abort.abort();
      binder?.stop();
      await kubelet.stop(1_000);
      await node.stop(!opts.keepNode).catch((err: unknown) => log.warn({ err }, 'node stop failed'));
      timers.stop();
      await Promise.race([Promise.all(loops), new Promise((r) => setTimeout(r, 5_000))]);
      await runtime.close();
      await client.close().catch(() => undefined);
      if (dir && !opts.dir && !(opts.keepDir ?? process.env.NODESIM_KEEP === '1')) {
        rmSync(dir, { recursive: true, force: true });
      }
      log.info({ ...counters }, 'node simulator stopped');
    })());

  try {
    await node.register();
    node.start();
    const namespaces: (string | undefined)[] = opts.namespaces?.length ? opts.namespaces : [undefined];
    const ready: Promise<void>[] = [];
    const onRestart = (kind: 'relist' | 'rewatch'): void => {
      if (kind === 'relist') counters.relists++;
      else counters.rewatches++;
    };
    // One supervised list+watch per namespace and role: the kubelet's pods (bound to this
    // node) and, when binding, the unscheduled ones.
    const watch = (ns: string | undefined, fieldSelector: string, to: Kubelet | Binder): void => {
      const path = ns ? `/api/v1/namespaces/${encodeURIComponent(ns)}/pods` : '/api/v1/pods';
      ready.push(
        new Promise<void>((resolve) => {
          loops.push(
            runInformer<Pod>(
              {
                client,
                path,
                fieldSelector,
                log,
                signal: abort.signal,
                replace: (pods) => to.replace(ns, pods),
                event: (type, pod) => to.event(type, pod),
                onRestart,
              },
              resolve,
            ),
          );
        }),
      );
    };
    for (const ns of namespaces) {
      watch(ns, `spec.nodeName=${opts.nodeName}`, kubelet);
      if (binder) watch(ns, 'spec.nodeName=', binder);
    }
    // The first lists tell us the pods that exist; a start that cannot list in 60 s is broken.
    const listed = await Promise.race([
      Promise.all(ready).then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), 60_000).unref()),
    ]);
    if (!listed) throw new Error(`node simulator ${opts.nodeName}: could not list pods within 60 s`);
  } catch (err) {
    await stop();
    throw err;
  }
  log.info(
    { mode: opts.mode, namespaces: opts.namespaces ?? 'all', bind: opts.bindUnscheduled, dir },
    'node simulator started',
  );
  return {
    nodeName: opts.nodeName,
    dir,
    stats: () => ({ ...counters, ...kubelet.stats() }),
    pids: () => runtime.pids(),
    settled: (timeoutMs = 30_000) => kubelet.settled(timeoutMs),
    stop,
  };
}
