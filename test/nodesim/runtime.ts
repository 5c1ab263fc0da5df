// What the kubelet part asks of a container runtime: a sandbox per pod (its IP and
// volumes) and container instances that start, run and exit. Two runtimes: fake (timers
// only, for benchmarks) and process (real processes, processRuntime.ts).
import type { TimerQueue } from './timers.ts';
import type { Container, Pod } from './wire.ts';

/** The images the node "has": what a container of that image does. */
export type ImageBehaviour =
  /** Runs argv (process mode); in fake mode it only means the image starts fine. */
  | { run: { argv: string[]; env?: Record<string, string> } }
  /** Cannot be pulled: ErrImagePull, then ImagePullBackOff, retried with backoff. */
  | { missing: true }
  /** Starts, then exits 1 after crashAfterMs: CrashLoopBackOff. */
  | { crash: true };

export interface Sandbox {
  podIP: string;
  /** Host dirs of the pod's emptyDir volumes, by volume name (process mode). */
  volumes: Map<string, string>;
  /** The sandbox's own /dev/shm (process mode). */
  shmDir: string;
  /** The pod's working dir (process mode). */
  dir: string;
}

export interface StartSpec {
  /** The pod as it is now: downward-API env is resolved from it. */
  pod: Pod;
  container: Container;
  run: { argv: string[]; env?: Record<string, string> };
  sandbox: Sandbox;
  hostIP: string;
  nodeName: string;
  restartCount: number;
}

export interface InstanceEvents {
  /** The container runs (its process was spawned, or the fake start delay passed). */
  running(): void;
  /** It ended on its own (not through kill()). */
  exited(exitCode: number, reason: string): void;
}

export interface Instance {
  /** SIGTERM, SIGKILL after graceMs; resolves with the exit code once it is gone. */
  kill(graceMs: number): Promise<number>;
}

export interface Runtime {
  readonly mode: 'fake' | 'process';
  createSandbox(pod: Pod): Sandbox;
  removeSandbox(sandbox: Sandbox): void;
  start(spec: StartSpec, events: InstanceEvents): Instance;
  /** Process ids of the containers that run now (process mode; empty in fake mode). */
  pids(): number[];
  /** Kills whatever still runs and removes what the runtime created. */
  close(): Promise<void>;
}

/** An instance made of timers: runs after startDelayMs, exits with exitCode after runMs (if given). */
export function timerInstance(
  timers: TimerQueue,
  events: InstanceEvents,
  startDelayMs: number,
  exit?: { afterMs: number; exitCode: number },
): Instance {
  let gone = false;
  let t = timers.after(startDelayMs, () => {
    if (gone) return;
    events.running();
    if (exit) {
      t = timers.after(exit.afterMs, () => {
        if (gone) return;
        gone = true;
        events.exited(exit.exitCode, exit.exitCode === 0 ? 'Completed' : 'Error');
      });
    }
  });
  return {
    kill: async () => {
      gone = true;
      t.cancel();
      return 0;
    },
  };
}

/** The fake runtime: no processes, an address per pod from 198.18.0.0/15 (the benchmark range; never routed). */
export function fakeRuntime(timers: TimerQueue, startDelayMs: number, octet: number): Runtime {
  let next = 1;
  return {
    mode: 'fake',
    createSandbox: () => {
      const n = next++;
      return {
        podIP: `198.${18 + (octet & 1)}.${(n >> 8) & 255}.${n & 255}`,
        volumes: new Map(),
        shmDir: '',
        dir: '',
      };
    },
    removeSandbox: () => undefined,
    start: (_spec, events) => timerInstance(timers, events, startDelayMs),
    pids: () => [],
    close: async () => undefined,
  };
}
