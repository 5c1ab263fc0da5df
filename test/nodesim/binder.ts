// The scheduler part: pods with no node (and our scheduler name) are bound to this node
// through the pods/binding subresource, with the pod's uid as a precondition. Only one
// simulator per cluster should bind (`bindUnscheduled`).
import type { Logger } from 'pino';
import type { KubeClient } from './kube.ts';
import { WorkQueue, type WorkResult } from './queue.ts';
import type { TimerQueue } from './timers.ts';
import type { Pod } from './wire.ts';

export interface BinderOptions {
  client: KubeClient;
  nodeName: string;
  schedulerName: string;
  timers: TimerQueue;
  concurrency: number;
  log: Logger;
  onBound(): void;
}

export class Binder {
  /** Unscheduled pods waiting to be bound: key -> uid. */
  private readonly pending = new Map<string, string>();
  private readonly queue: WorkQueue;
  private readonly o: BinderOptions;

  constructor(o: BinderOptions) {
    this.o = o;
    this.queue = new WorkQueue({
      concurrency: o.concurrency,
      timers: o.timers,
      maxAttempts: 10,
      onError: (key, err) => o.log.error({ key, err }, 'bind failed'),
      work: (key) => this.bind(key),
    });
  }

  replace(namespace: string | undefined, pods: Pod[]): void {
    const seen = new Set<string>();
    for (const p of pods) {
      seen.add(key(p));
      this.event('ADDED', p);
    }
    for (const k of [...this.pending.keys()]) {
      if ((namespace === undefined || k.startsWith(`${namespace}/`)) && !seen.has(k)) this.pending.delete(k);
    }
  }

  event(type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: Pod): void {
    const k = key(pod);
    const wanted =
      type !== 'DELETED' &&
      !pod.spec.nodeName &&
      !pod.metadata.deletionTimestamp &&
      (pod.spec.schedulerName ?? 'default-scheduler') === this.o.schedulerName;
    if (!wanted) {
      this.pending.delete(k);
      return;
    }
    this.pending.set(k, pod.metadata.uid);
    this.queue.add(k);
  }

  stop(): void {
    this.queue.stop();
  }

  private async bind(k: string): Promise<WorkResult> {
    const uid = this.pending.get(k);
    if (!uid) return 'done';
    const [ns = 'default', name = ''] = k.split('/');
    const path = `/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(name)}`;
    const res = await this.o.client.call('POST', `${path}/binding`, {
      body: {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name, namespace: ns, uid },
        target: { apiVersion: 'v1', kind: 'Node', name: this.o.nodeName },
      },
    });
    if (res.ok) {
      this.o.onBound();
      this.pending.delete(k);
      return 'done';
    }
    if (res.status === 404) return 'done';
    if (res.status === 409) {
      // Bound meanwhile (by us or another scheduler), or replaced: look before trying again.
      const cur = await this.o.client.call<Pod>('GET', path);
      if (!cur.ok || cur.value.metadata.uid !== uid || cur.value.spec.nodeName) {
        this.pending.delete(k);
        return 'done';
      }
      return { retryAfterMs: 100 };
    }
    this.o.log.debug({ key: k, status: res.status, message: res.message }, 'bind failed; retrying');
    return { retryAfterMs: 500 };
  }
}

function key(pod: Pod): string {
  return `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name}`;
}
