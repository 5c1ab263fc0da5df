// The process runtime: each container is a real process in its own process group, each
// pod a loopback address 127.<octet>.x.y (Linux routes all of 127/8 to lo) and a temp dir
// per emptyDir volume. There is no mount namespace, so the container's view of its
// volumes is given through the environment (docs/controller.md's variables) and paths
// in the spec's env that fall inside a mount are rewritten to the host dir.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ENV } from '../../sdk/constants.ts';
import { NAMES, POD_DEFAULTS } from '../../controller/constants.ts';
import { SIDECAR_ENV } from '../../sidecar/config.ts';
import { expand, hostPath, resolveEnv } from './env.ts';
import type { Instance, InstanceEvents, Runtime, Sandbox, StartSpec } from './runtime.ts';
import type { Pod } from './wire.ts';

export interface ProcessRuntimeOptions {
  /** Root of this simulator's files: pods/<pod>/ (volumes) and logs/. */
  dir: string;
  /** Root of memory-backed volumes and each sandbox's /dev/shm, under /dev/shm. */
  shmRoot: string;
  /** Second octet of the pod addresses 127.<octet>.x.y. */
  octet: number;
  log: Logger;
}

/** Default port of a business server with no containerPort (the SDK's default). */
const DEFAULT_LISTEN_PORT = 8080;

/** Variables a real container has that a server may need. */
function baseEnv(home: string, hostname: string): Record<string, string> {
  const env: Record<string, string> = { HOME: home, HOSTNAME: hostname };
  for (const k of ['PATH', 'LANG', 'TZ', 'TMPDIR']) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  return env;
}

function podKey(pod: Pod): string {
  return `${pod.metadata.namespace ?? 'default'}_${pod.metadata.name}_${pod.metadata.uid.slice(0, 8)}`;
}

/** The port a business server of this container listens on: its own, else the pod's, else 8080. */
export function listenPort(pod: Pod, containerName: string): number {
  const own = pod.spec.containers.find((c) => c.name === containerName)?.ports?.[0]?.containerPort;
  if (own) return own;
  for (const c of pod.spec.containers) {
    if (c.name !== NAMES.sidecar && c.ports?.[0]) return c.ports[0].containerPort;
  }
  return DEFAULT_LISTEN_PORT;
}

/** The environment and argv a container's process gets. Pure but for process.env/execPath. */
export function processEnv(spec: StartSpec): {
  env: Record<string, string>;
  argv: string[];
  unsupported: string[];
} {
  const { pod, container, sandbox } = spec;
  const mounts: { mountPath: string; hostDir: string; volume: string }[] = [];
  for (const m of container.volumeMounts ?? []) {
    const hostDir = sandbox.volumes.get(m.name);
    if (hostDir) mounts.push({ mountPath: m.mountPath, hostDir, volume: m.name });
  }
  // The sandbox's /dev/shm, unless a volume is mounted over it.
  const withShm = [...mounts, { mountPath: POD_DEFAULTS.shmDir, hostDir: sandbox.shmDir, volume: '' }];
  const resolved = resolveEnv(container, {
    pod,
    podIP: sandbox.podIP,
    hostIP: spec.hostIP,
    nodeName: spec.nodeName,
  });
  const env = baseEnv(sandbox.dir, pod.metadata.name);
  for (const [k, v] of Object.entries(resolved.env)) env[k] = hostPath(v, withShm) ?? v;
  env[ENV.shmDir] ??= sandbox.shmDir;
  for (const m of mounts) {
    if (m.volume === NAMES.sharedVolume) env[ENV.dir] = m.hostDir;
    if (m.volume === NAMES.shmVolume) env[ENV.shmDir] = m.hostDir;
  }
  if (container.name === NAMES.sidecar) {
    const port =
      container.ports?.find((p) => p.name === NAMES.sidecarPortName)?.containerPort ??
      container.ports?.[0]?.containerPort ??
      POD_DEFAULTS.sidecarPort;
    env[SIDECAR_ENV.host] = sandbox.podIP;
    env[SIDECAR_ENV.port] = String(port);
  } else {
    env[ENV.listen] = `${sandbox.podIP}:${listenPort(pod, container.name)}`;
  }
  for (const [k, v] of Object.entries(spec.run.env ?? {})) env[k] = expand(v, env);
  const argv = spec.run.argv.map((a) => expand(a, env));
  if (argv[0] === 'node') argv[0] = process.execPath;
  return { env, argv, unsupported: resolved.unsupported };
}

function signalNumber(signal: NodeJS.Signals | null): number {
  const n: Record<string, number> = {
    SIGHUP: 1,
    SIGINT: 2,
    SIGQUIT: 3,
    SIGABRT: 6,
    SIGKILL: 9,
    SIGSEGV: 11,
    SIGTERM: 15,
  };
  return signal ? (n[signal] ?? 15) : 0;
}

/** Signals a process group we started; false when it is gone. */
function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

export function processRuntime(o: ProcessRuntimeOptions): Runtime {
  const groups = new Set<number>();
  const used = new Set<number>();
  const byIP = new Map<string, number>();
  let next = 1;
  const logs = join(o.dir, 'logs');
  mkdirSync(logs, { recursive: true });
  mkdirSync(o.shmRoot, { recursive: true });
  // Even when a test fails hard, the children do not outlive us.
  const onExit = (): void => {
    for (const g of groups) killGroup(g, 'SIGKILL');
  };
  process.on('exit', onExit);

  function allocate(): string {
    // .0 and .255 are avoided so every address looks ordinary; 64,516 addresses per sim.
    for (let tries = 0; tries < 65_536; tries++) {
      const n = next;
      next = next >= 65_535 ? 1 : next + 1;
      const x = n >> 8;
      const y = n & 255;
      if (y === 0 || y === 255 || x === 255 || used.has(n)) continue;
      used.add(n);
      const ip = `127.${o.octet}.${x}.${y}`;
      byIP.set(ip, n);
      return ip;
    }
    throw new Error(`no free loopback address left in 127.${o.octet}.0.0/16`);
  }

  function createSandbox(pod: Pod): Sandbox {
    const key = podKey(pod);
    const dir = join(o.dir, 'pods', key);
    const shmDir = join(o.shmRoot, key, 'dev-shm');
    mkdirSync(shmDir, { recursive: true });
    const volumes = new Map<string, string>();
    for (const v of pod.spec.volumes ?? []) {
      if (!v.emptyDir) continue;
      const d = v.emptyDir.medium === 'Memory' ? join(o.shmRoot, key, v.name) : join(dir, 'volumes', v.name);
      mkdirSync(d, { recursive: true });
      volumes.set(v.name, d);
    }
    mkdirSync(dir, { recursive: true });
    return { podIP: allocate(), volumes, shmDir, dir };
  }

  function removeSandbox(s: Sandbox): void {
    const n = byIP.get(s.podIP);
    if (n !== undefined) used.delete(n);
    byIP.delete(s.podIP);
    rmSync(s.dir, { recursive: true, force: true });
    rmSync(join(s.shmDir, '..'), { recursive: true, force: true });
  }

  function start(spec: StartSpec, events: InstanceEvents): Instance {
    const { env, argv, unsupported } = processEnv(spec);
    const ns = spec.pod.metadata.namespace ?? 'default';
    if (unsupported.length) {
      o.log.warn(
        { namespace: ns, name: spec.pod.metadata.name, env: unsupported },
        'env not simulated: set to ""',
      );
    }
    const logFile = join(
      logs,
      `${ns}_${spec.pod.metadata.name}_${spec.container.name}_${spec.restartCount}.log`,
    );
    const fd = openSync(logFile, 'a');
    writeSync(fd, `# nodesim ${new Date().toISOString()} image ${spec.container.image}: ${argv.join(' ')}\n`);
    const [exe = process.execPath, ...args] = argv;
    const child = spawn(exe, args, { cwd: spec.sandbox.dir, env, detached: true, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const pgid = child.pid;
    if (pgid !== undefined) groups.add(pgid);
    let exitCode: number | undefined;
    let killing = false;
    const exited = new Promise<number>((resolve) => {
      child.once('error', (err) => {
        o.log.warn(
          { namespace: ns, name: spec.pod.metadata.name, container: spec.container.name, err },
          'start failed',
        );
        exitCode = 128;
        resolve(128);
        if (!killing) events.exited(128, 'StartError');
      });
      child.once('exit', (code, signal) => {
        // The container's init died: the rest of its process group goes with it.
        if (pgid !== undefined) {
          killGroup(pgid, 'SIGKILL');
          groups.delete(pgid);
        }
        exitCode = code ?? 128 + signalNumber(signal);
        resolve(exitCode);
        if (!killing) events.exited(exitCode, exitCode === 0 ? 'Completed' : 'Error');
      });
    });
    child.once('spawn', () => {
      if (!killing) events.running();
    });
    return {
      kill: async (graceMs) => {
        killing = true;
        if (exitCode !== undefined || pgid === undefined) return exitCode ?? 128;
        killGroup(pgid, 'SIGTERM');
        const hard = setTimeout(() => killGroup(pgid, 'SIGKILL'), graceMs);
        // Bounded even if the exit event never comes (it always should after SIGKILL).
        const giveUp = new Promise<number>((r) => setTimeout(() => r(137), graceMs + 5_000).unref());
        const code = await Promise.race([exited, giveUp]);
        clearTimeout(hard);
        return code;
      },
    };
  }

  return {
    mode: 'process',
    createSandbox,
    removeSandbox,
    start,
    pids: () => [...groups],
    close: async () => {
      for (const g of groups) killGroup(g, 'SIGKILL');
      groups.clear();
      process.off('exit', onExit);
      rmSync(o.shmRoot, { recursive: true, force: true });
    },
  };
}
