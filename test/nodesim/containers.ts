// One container's life as the kubelet drives it: pull (or fail to), start, run, become
// ready, exit and back off, or be killed for a new image. Every transition edits the
// container's reported status and calls `changed()`; timers and runtime callbacks carry
// the epoch they were armed in, so a superseded one does nothing.
import { randomBytes, createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { startProber, type Prober } from './prober.ts';
import { timerInstance, type ImageBehaviour, type Instance, type Runtime, type Sandbox } from './runtime.ts';
import type { TimerHandle, TimerQueue } from './timers.ts';
import { rfc3339, type Container, type ContainerStatus, type Pod } from './wire.ts';

export interface Backoff {
  /** First delay, in ms; doubled after each failure up to maxMs. */
  initialMs: number;
  maxMs: number;
}

export interface ContainerEnv {
  runtime: Runtime;
  timers: TimerQueue;
  images: Record<string, ImageBehaviour>;
  nodeName: string;
  hostIP: string;
  kubeVersion: string;
  /** Run readiness probes for real (process mode); otherwise ready means running. */
  probes: boolean;
  /** How long a crash image runs before it exits 1, in ms. */
  crashAfterMs: number;
  /** How long a crash image takes to start, in ms. */
  crashStartDelayMs: number;
  pullBackoff: Backoff;
  crashBackoff: Backoff;
  log: Logger;
  onStarted(): void;
}

/** The pod a container belongs to, as the container machine needs it. */
export interface PodRef {
  pod: Pod;
  sandbox: Sandbox;
  /** The pod's status must be written again. */
  changed(): void;
  /** False once the pod is being deleted or is gone: nothing is started any more. */
  live(): boolean;
}

export interface ContainerSlot {
  spec: Container;
  status: ContainerStatus;
  instance: Instance | undefined;
  runningSinceMs: number | undefined;
  epoch: number;
  timer: TimerHandle | undefined;
  prober: Prober | undefined;
  pullBackoffMs: number;
  crashBackoffMs: number;
  killing: boolean;
}

export function newSlot(spec: Container): ContainerSlot {
  return {
    spec,
    status: {
      name: spec.name,
      image: spec.image,
      imageID: '',
      restartCount: 0,
      started: false,
      ready: false,
      state: { waiting: { reason: 'ContainerCreating' } },
      lastState: {},
    },
    instance: undefined,
    runningSinceMs: undefined,
    epoch: 0,
    timer: undefined,
    prober: undefined,
    pullBackoffMs: 0,
    crashBackoffMs: 0,
    killing: false,
  };
}

const imageIDs = new Map<string, string>();

/** A stable digest-like id per image name (one string per image, shared by every status). */
export function imageID(image: string): string {
  let id = imageIDs.get(image);
  if (!id) {
    id = `sim://sha256:${createHash('sha256').update(image).digest('hex')}`;
    if (imageIDs.size < 10_000) imageIDs.set(image, id);
  }
  return id;
}

function newContainerID(): string {
  return `sim://${randomBytes(16).toString('hex')}`;
}

function seconds(ms: number): string {
  return ms % 60_000 === 0
    ? `${ms / 60_000}m0s`
    : ms >= 60_000
      ? `${Math.floor(ms / 60_000)}m${(ms % 60_000) / 1000}s`
      : `${ms / 1000}s`;
}

/** Voids every pending timer, probe and callback of the slot's current epoch. */
export function quiesce(s: ContainerSlot): void {
  s.epoch++;
  s.timer?.cancel();
  s.timer = undefined;
  s.prober?.stop();
  s.prober = undefined;
}

function nextBackoff(current: number, b: Backoff): number {
  return current ? Math.min(current * 2, b.maxMs) : b.initialMs;
}

/** Pulls and starts the slot's spec image (a fresh attempt). */
export function startContainer(env: ContainerEnv, p: PodRef, s: ContainerSlot): void {
  quiesce(s);
  const epoch = s.epoch;
  const image = s.spec.image;
  const b = env.images[image];
  s.status.image = image;
  s.status.ready = false;
  s.status.started = false;
  if (!b || 'missing' in b) {
    pullFailed(env, p, s, epoch);
    return;
  }
  s.status.imageID = imageID(image);
  s.status.state = { waiting: { reason: 'ContainerCreating' } };
  p.changed();
  const current = (): boolean => s.epoch === epoch && p.live();
  const events = {
    running: () => current() && onRunning(env, p, s, 'crash' in b),
    exited: (code: number, reason: string) => current() && onExited(env, p, s, code, reason),
  };
  env.onStarted();
  try {
    s.instance =
      'crash' in b
        ? timerInstance(env.timers, events, env.crashStartDelayMs, { afterMs: env.crashAfterMs, exitCode: 1 })
        : env.runtime.start(
            {
              pod: p.pod,
              container: s.spec,
              run: b.run,
              sandbox: p.sandbox,
              hostIP: env.hostIP,
              nodeName: env.nodeName,
              restartCount: s.status.restartCount,
            },
            events,
          );
  } catch (err) {
    env.log.warn({ err, container: s.spec.name, name: p.pod.metadata.name }, 'container start failed');
    s.instance = undefined;
    onExited(env, p, s, 128, 'StartError');
  }
}

function pullFailed(env: ContainerEnv, p: PodRef, s: ContainerSlot, epoch: number): void {
  const image = s.spec.image;
  const backoff = (s.pullBackoffMs = nextBackoff(s.pullBackoffMs, env.pullBackoff));
  // containerd's words for an image no registry has.
  const why = `rpc error: code = NotFound desc = failed to pull and unpack image "${image}": failed to resolve reference "${image}": ${image}: not found`;
  s.status.imageID = '';
  s.status.state = { waiting: { reason: 'ErrImagePull', message: why } };
  p.changed();
  // The kubelet shows ErrImagePull after the attempt, ImagePullBackOff at its next sync
  // inside the backoff window, and pulls again when the window ends.
  const showBackoffAfter = Math.min(1_000, Math.floor(backoff / 2));
  s.timer = env.timers.after(showBackoffAfter, () => {
    if (s.epoch !== epoch || !p.live()) return;
    s.status.state = {
      waiting: {
        reason: 'ImagePullBackOff',
        message: `Back-off pulling image "${image}": ErrImagePull: ${why}`,
      },
    };
    p.changed();
    s.timer = env.timers.after(backoff - showBackoffAfter, () => {
      if (s.epoch === epoch && p.live()) startContainer(env, p, s);
    });
  });
}

function onRunning(env: ContainerEnv, p: PodRef, s: ContainerSlot, crashes: boolean): void {
  const now = Date.now();
  s.runningSinceMs = now;
  s.status.containerID = newContainerID();
  s.status.state = { running: { startedAt: rfc3339(now) } };
  s.status.started = true;
  const probe = s.spec.readinessProbe;
  // A crashing image never passes a probe; without probes, ready means running.
  s.status.ready = !crashes && !(env.probes && probe);
  if (env.probes && probe && !crashes) {
    const epoch = s.epoch;
    const ports = [...(s.spec.ports ?? []), ...p.pod.spec.containers.flatMap((c) => c.ports ?? [])];
    s.prober = startProber({
      probe,
      podIP: p.sandbox.podIP,
      ports,
      timers: env.timers,
      kubeVersion: env.kubeVersion,
      onChange: (ready) => {
        if (s.epoch !== epoch || !p.live()) return;
        s.status.ready = ready;
        p.changed();
      },
      onUnsupported: (why) => {
        env.log.warn(
          { name: p.pod.metadata.name, container: s.spec.name, why },
          'readiness probe not simulated',
        );
        s.status.ready = true;
      },
    });
  }
  p.changed();
}

function onExited(env: ContainerEnv, p: PodRef, s: ContainerSlot, exitCode: number, reason: string): void {
  const now = Date.now();
  quiesce(s);
  const epoch = s.epoch;
  s.instance = undefined;
  const terminated = {
    exitCode,
    reason,
    startedAt: s.status.state.running?.startedAt ?? rfc3339(now),
    finishedAt: rfc3339(now),
    ...(s.status.containerID ? { containerID: s.status.containerID } : {}),
  };
  s.status.ready = false;
  s.status.started = false;
  const policy = p.pod.spec.restartPolicy ?? 'Always';
  if (policy === 'Never' || (policy === 'OnFailure' && exitCode === 0)) {
    s.status.state = { terminated };
    p.changed();
    return;
  }
  // A container that ran long enough starts its backoff over (the kubelet: twice the cap).
  if (s.runningSinceMs !== undefined && now - s.runningSinceMs > 2 * env.crashBackoff.maxMs)
    s.crashBackoffMs = 0;
  const backoff = (s.crashBackoffMs = nextBackoff(s.crashBackoffMs, env.crashBackoff));
  const pod = p.pod.metadata;
  s.status.lastState = { terminated };
  s.status.restartCount++;
  s.status.state = {
    waiting: {
      reason: 'CrashLoopBackOff',
      message: `back-off ${seconds(backoff)} restarting failed container=${s.spec.name} pod=${pod.name}_${pod.namespace ?? 'default'}(${pod.uid})`,
    },
  };
  p.changed();
  s.timer = env.timers.after(backoff, () => {
    if (s.epoch === epoch && p.live()) startContainer(env, p, s);
  });
}

/**
 * The spec asks for another image: kill the running instance (if any), record its end
 * in lastState, count the restart, start the image the spec names once the kill is over
 * (`currentSpec()`, so a spec that changed again meanwhile is honoured) with a fresh
 * backoff.
 */
export function changeImage(
  env: ContainerEnv,
  p: PodRef,
  s: ContainerSlot,
  currentSpec: () => Container | undefined,
  graceMs: number,
): void {
  if (s.killing) return;
  quiesce(s);
  const restart = (): void => {
    const spec = currentSpec();
    if (!spec) return;
    s.spec = spec;
    s.pullBackoffMs = 0;
    s.crashBackoffMs = 0;
    startContainer(env, p, s);
  };
  const inst = s.instance;
  if (!inst) {
    restart();
    return;
  }
  s.killing = true;
  s.status.ready = false;
  p.changed();
  const ran = s.status.state.running !== undefined;
  void inst.kill(graceMs).then((exitCode) => {
    s.killing = false;
    s.instance = undefined;
    if (!p.live()) return;
    if (ran) {
      s.status.lastState = {
        terminated: {
          exitCode,
          reason: exitCode === 0 ? 'Completed' : 'Error',
          startedAt: s.status.state.running?.startedAt ?? rfc3339(Date.now()),
          finishedAt: rfc3339(Date.now()),
          ...(s.status.containerID ? { containerID: s.status.containerID } : {}),
        },
      };
      s.status.restartCount++;
    }
    restart();
  });
}
