// What must hold for every version of every pod during a hot rollout, whatever happens to
// the controller, the API server or the images: checked on each object the API server
// reports (a watch from the first list on), so a breach that lasts one resourceVersion
// is caught. The reliability suites run one of these through each rollout.
//
// The rules (docs/controller.md, "A hot upgrade of one pod"):
// - somebody serves: never both slot containers on the placeholder image;
// - a slot goes back to the placeholder only once its successor serves: when slot Y's
//   image turns from a business image to the placeholder, the other slot runs a business
//   image and its container status says ready (for that image), in that same object;
//   unless the upgrade failed (the reset slot is the NEW one: hotupgrade.io/failed names
//   its image), where the other slot, which never stopped serving, must run a business
//   image.
import type { V1Pod } from '@kubernetes/client-node';
import type { KubeClient } from '../../controller/kube/client.ts';
import { ANNOTATIONS, NAMES, SLOTS, type SlotName } from '../../controller/constants.ts';
import { sameImage } from '../../controller/images.ts';
import { parseInFlight } from '../../controller/podView.ts';
import { podPath } from './env.ts';

export interface InvariantOptions {
  placeholderImage: string;
  /** The template's hot container: its slots are `<hot>-a` and `<hot>-b`. */
  hotContainer: string;
}

export interface Violation {
  pod: string;
  resourceVersion: string;
  rule: 'nobody-serving' | 'reset-before-successor-ready' | 'undo-without-old-version';
  detail: string;
}

interface SlotState {
  image: string | undefined;
  /** Runs an image other than the placeholder. */
  business: boolean;
  /** The kubelet reports the container ready, running the image the spec names. */
  ready: boolean;
}

function slotState(pod: V1Pod, o: InvariantOptions, s: SlotName): SlotState {
  const name = NAMES.slotContainer(o.hotContainer, s);
  const image = pod.spec?.containers.find((c) => c.name === name)?.image;
  const cs = pod.status?.containerStatuses?.find((c) => c.name === name);
  return {
    image,
    business: image !== undefined && !sameImage(image, o.placeholderImage),
    ready: cs?.ready === true && sameImage(cs.image, image),
  };
}

const other = (s: SlotName): SlotName => (s === 'a' ? 'b' : 'a');

/** Rules on one object alone. */
export function checkPod(pod: V1Pod, o: InvariantOptions): Violation[] {
  const a = slotState(pod, o, 'a');
  const b = slotState(pod, o, 'b');
  if (a.image === undefined || b.image === undefined || a.business || b.business) return [];
  return [
    {
      pod: pod.metadata?.name ?? '',
      resourceVersion: pod.metadata?.resourceVersion ?? '',
      rule: 'nobody-serving',
      detail: `both slots run the placeholder (${a.image})`,
    },
  ];
}

/** What changed from `prev` to `next` in each slot: a start (placeholder -> business) or a reset (business -> placeholder). */
export function slotChanges(
  prev: V1Pod,
  next: V1Pod,
  o: InvariantOptions,
): { slot: SlotName; change: 'start' | 'reset' | 'swap'; from?: string; to?: string }[] {
  const out: { slot: SlotName; change: 'start' | 'reset' | 'swap'; from?: string; to?: string }[] = [];
  for (const s of SLOTS) {
    const p = slotState(prev, o, s);
    const n = slotState(next, o, s);
    if (sameImage(p.image, n.image) || p.image === undefined || n.image === undefined) continue;
    const change = !p.business && n.business ? 'start' : p.business && !n.business ? 'reset' : 'swap';
    out.push({ slot: s, change, from: p.image, to: n.image });
  }
  return out;
}

/** Rules on a change: `next` is the version of the pod right after `prev`. */
export function checkTransition(prev: V1Pod, next: V1Pod, o: InvariantOptions): Violation[] {
  const out: Violation[] = [];
  const ann = next.metadata?.annotations ?? {};
  for (const c of slotChanges(prev, next, o)) {
    if (c.change !== 'reset') continue;
    const z = slotState(next, o, other(c.slot));
    const at = { pod: next.metadata?.name ?? '', resourceVersion: next.metadata?.resourceVersion ?? '' };
    const inFlight = parseInFlight(prev.metadata?.annotations?.[ANNOTATIONS.upgrade]);
    let failedImage: string | undefined;
    try {
      failedImage = (JSON.parse(ann[ANNOTATIONS.failed] ?? 'null') as { image?: string } | null)?.image;
    } catch {
      failedImage = undefined;
    }
    const undo =
      inFlight !== null &&
      typeof inFlight === 'object' &&
      inFlight.slot === c.slot &&
      sameImage(failedImage, c.from);
    if (undo) {
      if (!z.business) {
        out.push({
          ...at,
          rule: 'undo-without-old-version',
          detail: `slot ${c.slot} (${c.from}) failed and went back to the placeholder, but slot ${other(c.slot)} runs ${z.image ?? 'nothing'}`,
        });
      }
      continue;
    }
    if (!z.business || !z.ready) {
      out.push({
        ...at,
        rule: 'reset-before-successor-ready',
        detail: `slot ${c.slot} went from ${c.from} to the placeholder while slot ${other(c.slot)} runs ${z.image ?? 'nothing'} and is ${z.ready ? 'ready' : 'not ready'}`,
      });
    }
  }
  return out;
}

function isReady(pod: V1Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/**
 * Not Ready, or about to be: a hot upgrade in flight, or a container whose spec names an
 * image the kubelet does not report yet (it is being restarted, whatever its stale status says).
 */
export function unavailable(pod: V1Pod): boolean {
  if (!isReady(pod) || pod.metadata?.deletionTimestamp) return true;
  if (pod.metadata?.annotations?.[ANNOTATIONS.upgrade] !== undefined) return true;
  const statuses = pod.status?.containerStatuses ?? [];
  return (pod.spec?.containers ?? []).some(
    (c) => !sameImage(statuses.find((s) => s.name === c.name)?.image, c.image),
  );
}

export interface PodWatchReport {
  violations: Violation[];
  /** Pod versions checked (list items and watch events). */
  objects: number;
  /** Relists after the watch could not resume (410): transitions inside such a gap were not seen. */
  gaps: number;
  /** Slot starts (placeholder -> business image) seen, by pod. */
  starts: Map<string, number>;
  /** Slot resets (business image -> placeholder) seen, by pod. */
  resets: Map<string, number>;
  /** The most pods not Ready at once since the last resetPeak(). */
  peakNotReady: number;
  /** When that peak was first reached (ms since the epoch), and which pods were not Ready then. */
  peakAtMs: number;
  peakPods: string[];
  /**
   * The most pods unavailable() at once since the last resetPeak(): what the controller has
   * committed to take out of service, before the kubelet reports it. maxUnavailable bounds this.
   */
  peakUnavailable: number;
  peakUnavailablePods: string[];
}

export interface PodWatch {
  /** Resolves once the first list has been checked. */
  synced: Promise<void>;
  report(): PodWatchReport;
  /** Starts counting peakNotReady (and starts/resets) afresh, e.g. once the pods exist. */
  resetPeak(): void;
  stop(): Promise<PodWatchReport>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Watches the pods of HotDeployment `name` and checks every version against the rules
 * above. Survives API server restarts: resumes the watch from the last resourceVersion,
 * relists on 410 (and counts a gap). Runs until stop(), at most `maxMs`.
 */
export function watchPods(
  client: KubeClient,
  ns: string,
  name: string,
  o: InvariantOptions & { maxMs?: number },
): PodWatch {
  const labelSelector = `hotupgrade.io/hotdeployment=${name}`;
  const abort = new AbortController();
  const end = Date.now() + (o.maxMs ?? 600_000);
  const last = new Map<string, V1Pod>();
  const notReady = new Set<string>();
  const out = new Set<string>();
  const r: PodWatchReport = {
    violations: [],
    objects: 0,
    gaps: 0,
    starts: new Map(),
    resets: new Map(),
    peakNotReady: 0,
    peakAtMs: 0,
    peakPods: [],
    peakUnavailable: 0,
    peakUnavailablePods: [],
  };
  const bump = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);
  const see = (pod: V1Pod): void => {
    const n = pod.metadata?.name ?? '';
    const prev = last.get(n);
    r.objects++;
    r.violations.push(...checkPod(pod, o));
    if (prev && prev.metadata?.uid === pod.metadata?.uid) {
      r.violations.push(...checkTransition(prev, pod, o));
      for (const c of slotChanges(prev, pod, o)) {
        if (c.change === 'start') bump(r.starts, n);
        if (c.change === 'reset') bump(r.resets, n);
      }
    }
    last.set(n, pod);
    if (isReady(pod) && !pod.metadata?.deletionTimestamp) notReady.delete(n);
    else notReady.add(n);
    if (unavailable(pod)) out.add(n);
    else out.delete(n);
    if (out.size > r.peakUnavailable) {
      r.peakUnavailable = out.size;
      r.peakUnavailablePods = [...out].sort();
    }
    if (notReady.size > r.peakNotReady) {
      r.peakNotReady = notReady.size;
      r.peakAtMs = Date.now();
      r.peakPods = [...notReady].sort();
    }
  };
  let markSynced: () => void = () => undefined;
  const synced = new Promise<void>((resolve) => (markSynced = resolve));
  const loop = async (): Promise<void> => {
    let rv: string | undefined;
    let listed = false;
    for (let i = 0; i < 100_000 && !abort.signal.aborted && Date.now() < end; i++) {
      if (rv === undefined) {
        const l = await client.list<V1Pod>(podPath(ns), { labelSelector, signal: abort.signal });
        if (!l.ok) {
          await sleep(200);
          continue;
        }
        if (listed) r.gaps++;
        const names = new Set(l.body.items.map((p) => p.metadata?.name ?? ''));
        for (const n of [...last.keys()]) if (!names.has(n)) last.delete(n);
        for (const p of l.body.items) see(p);
        rv = l.body.resourceVersion;
        listed = true;
        markSynced();
      }
      let expired = false;
      const w = await client.watch<V1Pod>(
        podPath(ns),
        {
          resourceVersion: rv,
          allowWatchBookmarks: true,
          timeoutSeconds: 60,
          labelSelector,
          signal: abort.signal,
        },
        (ev) => {
          if (ev.type === 'ERROR') {
            expired = ev.object.code === 410 || ev.object.reason === 'Expired';
            return;
          }
          rv = ev.object.metadata?.resourceVersion ?? rv;
          if (ev.type === 'BOOKMARK') return;
          const pod = ev.object;
          const n = pod.metadata?.name ?? '';
          if (ev.type === 'DELETED') {
            last.delete(n);
            notReady.delete(n);
            out.delete(n);
          } else see(pod);
        },
      );
      if (expired || (!w.ok && w.status === 410)) rv = undefined;
      else if (!w.ok) await sleep(200);
    }
  };
  const done = loop();
  const report = (): PodWatchReport => ({
    ...r,
    violations: [...r.violations],
    starts: new Map(r.starts),
    resets: new Map(r.resets),
  });
  return {
    synced,
    report,
    resetPeak() {
      r.peakNotReady = notReady.size;
      r.peakAtMs = Date.now();
      r.peakPods = [...notReady].sort();
      r.peakUnavailable = out.size;
      r.peakUnavailablePods = [...out].sort();
      r.starts.clear();
      r.resets.clear();
    },
    async stop() {
      abort.abort();
      await done;
      return report();
    },
  };
}

export interface PodSlots {
  name: string;
  uid: string;
  activeSlot: string;
  /** Image of the active slot, and its container's restart count. */
  active: { image: string | undefined; restarts: number | undefined };
  /** The idle slot (the placeholder when at rest). */
  idle: { image: string | undefined; restarts: number | undefined };
  /** hotupgrade.io/image: what the pod serves. */
  serves: string | undefined;
  inFlight: boolean;
  failed: string | undefined;
}

/** Where each pod stands: which slot serves what, and how often each slot container restarted. */
export function podSlots(pods: V1Pod[], hotContainer: string): PodSlots[] {
  return pods.map((p) => {
    const ann = p.metadata?.annotations ?? {};
    const active = (ann[ANNOTATIONS.activeSlot] ?? 'a') as SlotName;
    const slot = (s: SlotName): { image: string | undefined; restarts: number | undefined } => {
      const n = NAMES.slotContainer(hotContainer, s);
      return {
        image: p.spec?.containers.find((c) => c.name === n)?.image,
        restarts: p.status?.containerStatuses?.find((c) => c.name === n)?.restartCount,
      };
    };
    return {
      name: p.metadata?.name ?? '',
      uid: p.metadata?.uid ?? '',
      activeSlot: active,
      active: slot(active),
      idle: slot(other(active)),
      serves: ann[ANNOTATIONS.image],
      inFlight: ann[ANNOTATIONS.upgrade] !== undefined,
      failed: ann[ANNOTATIONS.failed],
    };
  });
}

/**
 * Pods not hot-upgraded exactly once between two snapshots: each slot container restarts
 * once per upgrade (the new slot for the new image, the old one for its reset), and the
 * pod is the same (uid). Returns "name: why" for each pod that differs.
 */
export function notUpgradedOnce(before: PodSlots[], after: PodSlots[]): string[] {
  const was = new Map(before.map((s) => [s.name, s]));
  const out: string[] = [];
  for (const s of after) {
    const b = was.get(s.name);
    if (!b) {
      out.push(`${s.name}: new pod`);
      continue;
    }
    if (b.uid !== s.uid) out.push(`${s.name}: recreated (uid ${b.uid} -> ${s.uid})`);
    // After one upgrade the slots have swapped roles: the old idle slot is the new active one.
    const activeWas = b.activeSlot === s.activeSlot ? b.active : b.idle;
    const idleWas = b.activeSlot === s.activeSlot ? b.idle : b.active;
    const d1 = (s.active.restarts ?? 0) - (activeWas.restarts ?? 0);
    const d2 = (s.idle.restarts ?? 0) - (idleWas.restarts ?? 0);
    if (b.activeSlot === s.activeSlot || d1 !== 1 || d2 !== 1) {
      out.push(
        `${s.name}: active slot ${b.activeSlot} -> ${s.activeSlot}; restarts of the new active slot +${d1}, of the old one +${d2}`,
      );
    }
  }
  return out;
}

/** How many pods had each count, from a per-pod count: {x1: 98, x2: 2} (for the log). */
export function histogramOf(m: Map<string, number>): Record<string, number> {
  const h: Record<string, number> = {};
  for (const v of m.values()) h[`x${v}`] = (h[`x${v}`] ?? 0) + 1;
  return h;
}
