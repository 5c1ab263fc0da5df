// The kubelet part: pods bound to this node get a sandbox and their containers; spec
// image changes restart one container; deletion stops the containers and removes the pod
// object. Status is written through the status subresource, coalesced per pod (the
// queue's worker reads the latest state), and level-triggered: a pod whose observed
// status differs from what we would write is written again, whatever the reason.
import type { Logger } from 'pino';
import {
  changeImage,
  newSlot,
  quiesce,
  startContainer,
  type ContainerEnv,
  type ContainerSlot,
  type PodRef,
} from './containers.ts';
import type { KubeClient } from './kube.ts';
import type { Runtime, Sandbox } from './runtime.ts';
import { fingerprint, podStatus } from './status.ts';
import type { TimerQueue } from './timers.ts';
import { WorkQueue, type WorkResult } from './queue.ts';
import type { Container, Pod, PodCondition, PodStatus } from './wire.ts';

export interface Counters {
  statusWrites: number;
  statusWriteFailures: number;
  binds: number;
  podDeletes: number;
  containersStarted: number;
  relists: number;
  rewatches: number;
}

export interface KubeletOptions {
  client: KubeClient;
  containers: Omit<ContainerEnv, 'onStarted'>;
  runtime: Runtime;
  timers: TimerQueue;
  hostIP: string;
  /** Status writes and deletes in flight at most. */
  concurrency: number;
  /** Cap on the kill grace period, in ms (the pod's own may be 30 s). */
  maxKillGraceMs: number;
  log: Logger;
  counters: Counters;
}

interface PodRecord extends PodRef {
  key: string;
  uid: string;
  startTimeMs: number;
  slots: Map<string, ContainerSlot>;
  /** Conditions as last written (their transition times carry over). */
  conditions: PodCondition[] | undefined;
  /** Conditions others set on the pod (readiness gates). */
  observedConditions: PodCondition[] | undefined;
  /** Fingerprint of the status the API server has, as far as we know. */
  observed: string;
  /** Set once deletion began: resolves when every container is stopped. */
  deleting: Promise<void> | undefined;
  removed: boolean;
}

function keyOf(pod: Pod): string {
  return `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name}`;
}

function podPath(ns: string, name: string): string {
  return `/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(name)}`;
}

/**
 * What the simulator keeps of a pod: 10,000 full pod objects would be most of its
 * memory. Without processes (fake mode) env, ports, probes and volumes serve nothing.
 */
export function trimPod(pod: Pod, forProcesses: boolean): Pod {
  const m = pod.metadata;
  const s = pod.spec;
  const metadata: Pod['metadata'] = {
    name: m.name,
    namespace: m.namespace,
    uid: m.uid,
    deletionTimestamp: m.deletionTimestamp,
    deletionGracePeriodSeconds: m.deletionGracePeriodSeconds,
  };
  const spec: Pod['spec'] = {
    restartPolicy: s.restartPolicy,
    terminationGracePeriodSeconds: s.terminationGracePeriodSeconds,
    readinessGates: s.readinessGates,
    containers: s.containers.map((c) => ({ name: c.name, image: c.image })),
  };
  if (!forProcesses) return { metadata, spec };
  const annotations = m.annotations ? { ...m.annotations } : undefined;
  if (annotations) delete annotations['kubectl.kubernetes.io/last-applied-configuration'];
  return {
    metadata: { ...metadata, labels: m.labels, annotations },
    spec: {
      ...spec,
      nodeName: s.nodeName,
      serviceAccountName: s.serviceAccountName,
      volumes: s.volumes?.map((v) => ({ name: v.name, ...(v.emptyDir ? { emptyDir: v.emptyDir } : {}) })),
      containers: s.containers.map((c) => ({
        name: c.name,
        image: c.image,
        env: c.env,
        ports: c.ports,
        readinessProbe: c.readinessProbe,
        volumeMounts: c.volumeMounts?.map((v) => ({ name: v.name, mountPath: v.mountPath })),
      })),
    },
  };
}

export class Kubelet {
  private readonly pods = new Map<string, PodRecord>();
  private readonly o: KubeletOptions;
  private readonly env: ContainerEnv;
  private readonly statusQueue: WorkQueue;
  private readonly deleteQueue: WorkQueue;
  private readonly teardowns = new Set<Promise<void>>();
  private readonly warned = new Set<string>();

  constructor(o: KubeletOptions) {
    this.o = o;
    this.env = { ...o.containers, onStarted: () => void o.counters.containersStarted++ };
    const onError = (key: string, err: unknown): void => o.log.error({ key, err }, 'worker failed');
    this.statusQueue = new WorkQueue({
      concurrency: o.concurrency,
      timers: o.timers,
      maxAttempts: 10,
      onError,
      work: (key) => this.writeStatus(key),
    });
    this.deleteQueue = new WorkQueue({
      concurrency: o.concurrency,
      timers: o.timers,
      maxAttempts: 10,
      onError,
      work: (key) => this.deletePod(key),
    });
  }

  /** After a (re)list of `namespace` (undefined: all): these pods exist, no others. */
  replace(namespace: string | undefined, pods: Pod[]): void {
    const seen = new Set<string>();
    for (const p of pods) {
      seen.add(keyOf(p));
      this.upsert(p);
    }
    for (const r of [...this.pods.values()]) {
      if ((namespace === undefined || r.pod.metadata.namespace === namespace) && !seen.has(r.key))
        this.remove(r);
    }
  }

  event(type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: Pod): void {
    if (type === 'DELETED') {
      const r = this.pods.get(keyOf(pod));
      if (r && r.uid === pod.metadata.uid) this.remove(r);
      return;
    }
    this.upsert(pod);
  }

  stats(): { podsManaged: number; containersRunning: number; statusQueueDepth: number } {
    let running = 0;
    for (const r of this.pods.values())
      for (const s of r.slots.values()) if (s.status.state.running) running++;
    return {
      podsManaged: this.pods.size,
      containersRunning: running,
      statusQueueDepth: this.statusQueue.depth(),
    };
  }

  /** Waits (at most timeoutMs) until no status write is queued or in flight. */
  settled(timeoutMs: number): Promise<void> {
    return this.statusQueue.idle(timeoutMs);
  }

  /** Stops every container (SIGTERM, SIGKILL after graceMs) and forgets every pod. */
  async stop(graceMs: number): Promise<void> {
    this.statusQueue.stop();
    this.deleteQueue.stop();
    for (const r of [...this.pods.values()]) this.remove(r, graceMs);
    await Promise.race([Promise.all(this.teardowns), new Promise((r) => setTimeout(r, graceMs + 5_000))]);
  }

  private upsert(raw: Pod): void {
    const key = keyOf(raw);
    let r = this.pods.get(key);
    if (r && r.uid !== raw.metadata.uid) {
      this.remove(r);
      r = undefined;
    }
    const pod = trimPod(raw, this.o.runtime.mode === 'process');
    if (!r) r = this.create(key, pod);
    else r.pod = pod;
    r.observed = fingerprint(raw.status);
    r.observedConditions = pod.spec.readinessGates?.length ? raw.status?.conditions : undefined;
    if (pod.metadata.deletionTimestamp) {
      this.beginDelete(r);
      return;
    }
    for (const c of pod.spec.containers) this.syncContainer(r, c);
    if (fingerprint(this.desired(r)) !== r.observed) this.statusQueue.add(key);
  }

  private create(key: string, pod: Pod): PodRecord {
    const sandbox: Sandbox = this.o.runtime.createSandbox(pod);
    const r: PodRecord = {
      key,
      uid: pod.metadata.uid,
      pod,
      sandbox,
      startTimeMs: Date.now(),
      slots: new Map(),
      conditions: undefined,
      observedConditions: undefined,
      observed: '',
      deleting: undefined,
      removed: false,
      changed: () => {
        if (!r.removed && !r.deleting) this.statusQueue.add(key);
      },
      live: () => !r.removed && !r.deleting,
    };
    this.pods.set(key, r);
    this.o.log.debug(
      { namespace: pod.metadata.namespace, name: pod.metadata.name, podIP: sandbox.podIP },
      'pod added',
    );
    return r;
  }

  private syncContainer(r: PodRecord, spec: Container): void {
    const s = r.slots.get(spec.name);
    if (!s) {
      const slot = newSlot(spec);
      r.slots.set(spec.name, slot);
      startContainer(this.env, r, slot);
      return;
    }
    if (s.spec.image === spec.image || s.killing) return;
    this.o.log.debug(
      {
        namespace: r.pod.metadata.namespace,
        name: r.pod.metadata.name,
        container: spec.name,
        from: s.spec.image,
        to: spec.image,
      },
      'image changed: restarting the container',
    );
    changeImage(
      this.env,
      r,
      s,
      () => r.pod.spec.containers.find((c) => c.name === spec.name),
      this.graceMs(r),
    );
  }

  private graceMs(r: PodRecord): number {
    const s = r.pod.metadata.deletionGracePeriodSeconds ?? r.pod.spec.terminationGracePeriodSeconds ?? 30;
    return Math.min(s * 1000, this.o.maxKillGraceMs);
  }

  private desired(r: PodRecord): PodStatus {
    return podStatus({
      containers: r.pod.spec.containers.map((c) => r.slots.get(c.name)?.status ?? newSlot(c).status),
      restartPolicy: r.pod.spec.restartPolicy,
      podIP: r.sandbox.podIP,
      hostIP: this.o.hostIP,
      startTimeMs: r.startTimeMs,
      readinessGates: r.pod.spec.readinessGates,
      observedConditions: r.observedConditions,
      prevConditions: r.conditions,
      nowMs: Date.now(),
    });
  }

  private async writeStatus(key: string): Promise<WorkResult> {
    const r = this.pods.get(key);
    if (!r || r.removed || r.deleting) return 'done';
    const status = this.desired(r);
    const fp = fingerprint(status);
    if (fp === r.observed) return 'done';
    r.conditions = status.conditions;
    const ns = r.pod.metadata.namespace ?? 'default';
    const res = await this.o.client.call<Pod>('PATCH', `${podPath(ns, r.pod.metadata.name)}/status`, {
      patch: 'strategic',
      // The uid is a precondition: a write for a pod that was replaced fails with 409.
      body: { metadata: { uid: r.uid }, status },
    });
    if (res.ok) {
      this.o.counters.statusWrites++;
      if (this.pods.get(key) === r) r.observed = fp;
      return 'done';
    }
    this.o.counters.statusWriteFailures++;
    if (res.status === 404) return 'done';
    if (res.status === 409) {
      const cur = await this.o.client.call<Pod>('GET', podPath(ns, r.pod.metadata.name));
      return cur.ok && cur.value.metadata.uid === r.uid ? { retryAfterMs: 0 } : 'done';
    }
    if (res.status === 422 || res.status === 400) {
      if (!this.warned.has(key)) {
        this.warned.add(key);
        this.o.log.warn({ key, status: res.status, message: res.message }, 'status write rejected');
      }
      return 'done';
    }
    return { retryAfterMs: 500 };
  }

  private beginDelete(r: PodRecord): void {
    if (!r.deleting) {
      const grace = this.graceMs(r);
      const kills: Promise<unknown>[] = [];
      for (const s of r.slots.values()) {
        quiesce(s);
        if (s.instance) kills.push(s.instance.kill(grace));
        s.instance = undefined;
      }
      r.deleting = Promise.all(kills).then(() => undefined);
      this.o.log.debug({ key: r.key }, 'pod deleting: containers stopping');
    }
    this.deleteQueue.add(r.key);
  }

  private async deletePod(key: string): Promise<WorkResult> {
    const r = this.pods.get(key);
    if (!r?.deleting || r.removed) return 'done';
    await r.deleting;
    const ns = r.pod.metadata.namespace ?? 'default';
    // As the kubelet does once the containers are gone: grace 0, only this very pod.
    const res = await this.o.client.call('DELETE', podPath(ns, r.pod.metadata.name), {
      body: { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid: r.uid } },
    });
    if (res.ok) this.o.counters.podDeletes++;
    if (res.ok || res.status === 404 || res.status === 409) return 'done';
    return { retryAfterMs: 500 };
  }

  /** Forgets a pod: stops what still runs, then removes its sandbox. */
  private remove(r: PodRecord, graceMs = 1_000): void {
    if (r.removed) return;
    r.removed = true;
    if (this.pods.get(r.key) === r) this.pods.delete(r.key);
    const kills: Promise<unknown>[] = [];
    for (const s of r.slots.values()) {
      quiesce(s);
      if (s.instance) kills.push(s.instance.kill(graceMs));
      s.instance = undefined;
    }
    const t: Promise<void> = Promise.all([...kills, r.deleting])
      .then(() => this.o.runtime.removeSandbox(r.sandbox))
      .catch((err: unknown) => this.o.log.warn({ err, key: r.key }, 'sandbox cleanup failed'))
      .finally(() => this.teardowns.delete(t));
    this.teardowns.add(t);
    this.o.log.debug({ key: r.key }, 'pod removed');
  }
}
