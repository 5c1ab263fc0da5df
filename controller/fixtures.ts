// Builders for tests: a HotDeployment, and a small in-memory world that applies plans and
// plays the kubelet (a changed slot image restarts that slot; it becomes ready at once
// unless the image is listed as broken). Only tests import this file.
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import type { Condition, HotDeployment, UpdateStrategy } from './api/types.ts';
import { ANNOTATIONS, NAMES, SLOTS } from './constants.ts';
import { plan, type ControllerImages, type Plan } from './plan.ts';
import { parseInFlight } from './podView.ts';
import type { SlotReport } from './slotWatch.ts';

export const IMAGES: ControllerImages = {
  placeholderImage: 'hotupgrade.local/placeholder:1',
  sidecarImage: 'hotupgrade.local/sidecar:1',
};

/** A condition for status fixtures. */
export const cond = (type: string, status: Condition['status'], reason: string): Condition => ({
  type,
  status,
  reason,
  message: '',
  lastTransitionTime: '2026-01-01T00:00:00Z',
});

/** The conditions of a healthy rollout in progress. */
export const UPGRADING: Condition[] = [
  cond('Available', 'True', 'MinimumReplicasAvailable'),
  cond('Progressing', 'True', 'HotUpgrading'),
  cond('Paused', 'False', 'NotPaused'),
  cond('Degraded', 'False', 'Healthy'),
];

export interface HdOptions {
  name?: string;
  replicas?: number;
  image?: string;
  strategy?: UpdateStrategy;
  mode?: 'slot' | 'binary';
  generation?: number;
}

export function makeHd(o: HdOptions = {}): HotDeployment {
  const name = o.name ?? 'demo';
  return {
    apiVersion: 'hotupgrade.io/v1alpha1',
    kind: 'HotDeployment',
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, generation: o.generation ?? 1, annotations: {} },
    spec: {
      replicas: o.replicas ?? 3,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [{ name: 'app', image: o.image ?? 'demo:v1', ports: [{ containerPort: 8080 }] }],
        },
      },
      hotContainer: 'app',
      mode: o.mode ?? 'slot',
      updateStrategy: o.strategy ?? {},
    },
  };
}

export function setImage(hd: HotDeployment, image: string): void {
  const c = hd.spec.template.spec?.containers.find((x) => x.name === hd.spec.hotContainer);
  if (c) c.image = image;
  hd.metadata.generation = (hd.metadata.generation ?? 1) + 1;
}

/** What the fake kubelet does with an image. */
export type ImageFate = 'ok' | 'pull' | 'crash' | 'hang';

let seq = 0;
const newId = (): string => `sim://${++seq}`;

function runningStatus(name: string, image: string, restartCount: number, ready: boolean): V1ContainerStatus {
  return {
    name,
    image,
    imageID: image,
    containerID: newId(),
    restartCount,
    ready,
    started: true,
    state: { running: { startedAt: new Date(0) } },
  };
}

export class World {
  hd: HotDeployment;
  pods = new Map<string, V1Pod>();
  nowMs = Date.parse('2026-11-28T12:00:00Z');
  fates = new Map<string, ImageFate>();
  /** Per pod: how many times a slot was started with each business image. */
  starts = new Map<string, Map<string, number>>();
  writes = 0;
  private rv = 1;

  constructor(hd: HotDeployment) {
    this.hd = hd;
  }

  plan(): Plan {
    const pods = [...this.pods.values()];
    return plan({ hd: this.hd, pods, nowMs: this.nowMs, images: IMAGES, reports: this.reports(pods) });
  }

  /**
   * What each upgrading pod's sidecar says (slotWatch.ts): here a slot "serves" when this
   * fake kubelet calls it ready, which also stands for a slot readiness probe.
   */
  private reports(pods: V1Pod[]): Map<string, SlotReport> {
    const out = new Map<string, SlotReport>();
    for (const pod of pods) {
      const f = parseInFlight(pod.metadata?.annotations?.[ANNOTATIONS.upgrade]);
      if (!f || typeof f === 'string') continue;
      const name = NAMES.slotContainer(this.hd.spec.hotContainer, f.slot);
      const cs = pod.status?.containerStatuses?.find((c) => c.name === name);
      const serves = cs?.ready === true && cs.containerID !== f.containerID;
      out.set(pod.metadata?.uid ?? '', {
        slot: f.slot,
        version: serves ? f.version : null,
        ready: serves,
        state: serves ? 'serving' : null,
      });
    }
    return out;
  }

  /** One reconcile: plan, then apply every write as the API server and kubelet would. */
  step(): Plan {
    const p = this.plan();
    for (const pod of p.creates) {
      const name = pod.metadata?.name ?? '';
      if (this.pods.has(name)) continue;
      const copy = structuredClone(pod);
      copy.metadata = { ...copy.metadata, uid: `pod-${name}`, resourceVersion: String(this.rv++) };
      copy.status = {
        conditions: [],
        containerStatuses: (copy.spec?.containers ?? []).map((c) =>
          this.start(name, c.name, c.image ?? '', 0),
        ),
      };
      this.pods.set(name, copy);
      this.refreshReady(copy);
      this.writes++;
    }
    for (const del of p.deletes) {
      this.pods.delete(del.name);
      this.writes++;
    }
    for (const a of p.pods) {
      const pod = this.pods.get(a.patch.pod);
      if (!pod || pod.metadata?.resourceVersion !== a.patch.resourceVersion) continue; // 409
      this.writes++;
      const merged = { ...(pod.metadata?.annotations ?? {}), ...a.patch.annotations };
      const ann = Object.fromEntries(
        Object.entries(merged).filter((e): e is [string, string] => e[1] !== null),
      );
      pod.metadata = { ...pod.metadata, annotations: ann, resourceVersion: String(this.rv++) };
      for (const [container, image] of Object.entries(a.patch.images)) {
        const c = pod.spec?.containers.find((x) => x.name === container);
        if (!c || c.image === image) continue;
        c.image = image;
        const statuses = pod.status?.containerStatuses ?? [];
        const i = statuses.findIndex((s) => s.name === container);
        const old = statuses[i];
        if (old) statuses[i] = this.start(a.patch.pod, container, image, (old.restartCount ?? 0) + 1);
      }
      this.refreshReady(pod);
    }
    if (p.rollback) {
      const c = this.hd.spec.template.spec?.containers.find((x) => x.name === this.hd.spec.hotContainer);
      if (c) c.image = p.rollback.to;
      // As the API server does for a spec change, and as rollbackOps records it.
      this.hd.metadata.generation = (this.hd.metadata.generation ?? 1) + 1;
      this.hd.metadata.annotations = {
        ...this.hd.metadata.annotations,
        [ANNOTATIONS.rollback]: JSON.stringify({
          ...p.rollback,
          at: '',
          generation: this.hd.metadata.generation,
        }),
      };
      this.writes++;
    }
    this.hd.status = p.status;
    return p;
  }

  private start(pod: string, container: string, image: string, restartCount: number): V1ContainerStatus {
    const fate = this.fates.get(image) ?? 'ok';
    if (container !== NAMES.sidecar && image !== IMAGES.placeholderImage) {
      const m = this.starts.get(pod) ?? new Map<string, number>();
      m.set(image, (m.get(image) ?? 0) + 1);
      this.starts.set(pod, m);
    }
    if (fate === 'pull') {
      return {
        name: container,
        image,
        imageID: '',
        restartCount,
        ready: false,
        started: false,
        state: { waiting: { reason: 'ErrImagePull', message: `pull ${image}: not found` } },
      };
    }
    if (fate === 'crash') {
      return {
        ...runningStatus(container, image, restartCount + 1, false),
        state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s' } },
      };
    }
    return runningStatus(container, image, restartCount, fate === 'ok');
  }

  private refreshReady(pod: V1Pod): void {
    const all = (pod.status?.containerStatuses ?? []).every((s) => s.ready);
    if (pod.status) pod.status.conditions = [{ type: 'Ready', status: all ? 'True' : 'False' }];
  }

  /** Steps until the plan is empty (nothing to write) or `max` steps. */
  settle(max = 200): number {
    for (let i = 0; i < max; i++) {
      const p = this.step();
      if (p.creates.length + p.deletes.length + p.pods.length === 0 && !p.rollback) return i;
      this.nowMs += 1000;
    }
    throw new Error(`no steady state after ${max} steps`);
  }

  /** Per ordinal: the image the pod serves. */
  images(): string[] {
    return [...this.pods.values()]
      .sort(
        (a, b) =>
          Number(a.metadata?.labels?.['hotupgrade.io/ordinal']) -
          Number(b.metadata?.labels?.['hotupgrade.io/ordinal']),
      )
      .map((p) => p.metadata?.annotations?.[ANNOTATIONS.image] ?? '');
  }

  activeSlots(): string[] {
    return [...this.pods.values()].map((p) => p.metadata?.annotations?.[ANNOTATIONS.activeSlot] ?? SLOTS[0]);
  }
}
