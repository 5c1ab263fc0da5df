// What the controller reads from one of its pods: which slot serves which image, the
// hot upgrade in flight (from the pod's own annotations) and what the kubelet says about
// each slot. Pure; never throws on a malformed annotation (it becomes `problem`).
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { ANNOTATIONS, LABELS, NAMES, SLOTS, type SlotName } from './constants.ts';
import type { SlotReport } from './slotWatch.ts';

/** The `hotupgrade.io/upgrade` annotation: a hot upgrade this pod is going through. */
export interface InFlight {
  /** The slot that runs the new version (the placeholder slot when it started). */
  slot: SlotName;
  /** The slot that served when it started. */
  from: SlotName;
  image: string;
  version: string;
  /** The slot's container ID before the patch: the kubelet reports another once it restarted it. */
  containerID: string;
  /** The slot's restart count before the patch: the image change adds one, a crash more. */
  restartCount: number;
  /** RFC 3339. */
  startedAt: string;
}

/** The `hotupgrade.io/failed` annotation: the last image whose handover failed on this pod. */
export interface FailedHandover {
  image: string;
  reason: string;
  message: string;
  at: string;
}

export interface SlotStatus {
  /** The image in the pod spec. */
  image: string | undefined;
  /** Version annotation ('' for the placeholder). */
  version: string;
  status: V1ContainerStatus | undefined;
  /** The slot container has a readiness probe: its `ready` is the completion signal (else its sidecar's report). */
  probed: boolean;
  /** What the pod's sidecar last said about this slot during an upgrade (slotWatch.ts). */
  report?: SlotReport;
}

export interface PodView {
  name: string;
  uid: string;
  resourceVersion: string;
  ordinal: number;
  /** Where its sidecar answers ('' before the pod has an IP). */
  ip: string;
  templateHash: string;
  deleting: boolean;
  ready: boolean;
  /** The slot the controller wants serving (hotupgrade.io/active-slot): during a hot upgrade, already the new one. */
  activeSlot: SlotName;
  /** The image the pod serves (binary mode: the staged version, which no slot's image shows). */
  image: string | undefined;
  slots: Record<SlotName, SlotStatus>;
  inFlight: InFlight | null;
  failed: FailedHandover | null;
  /** Why an annotation of ours could not be read; the pod is left alone while this is set. */
  problem?: string;
}

export function otherSlot(s: SlotName): SlotName {
  return s === 'a' ? 'b' : 'a';
}

function isSlot(v: unknown): v is SlotName {
  return v === 'a' || v === 'b';
}

export function parseInFlight(raw: string | undefined): InFlight | null | string {
  if (raw === undefined || raw === '') return null;
  try {
    const o = JSON.parse(raw) as Record<string, unknown>;
    if (
      !isSlot(o.slot) ||
      !isSlot(o.from) ||
      typeof o.image !== 'string' ||
      typeof o.version !== 'string' ||
      typeof o.containerID !== 'string' ||
      typeof o.restartCount !== 'number' ||
      typeof o.startedAt !== 'string'
    ) {
      return `${ANNOTATIONS.upgrade} lacks a field (slot, from, image, version, containerID, restartCount, startedAt)`;
    }
    return {
      slot: o.slot,
      from: o.from,
      image: o.image,
      version: o.version,
      containerID: o.containerID,
      restartCount: o.restartCount,
      startedAt: o.startedAt,
    };
  } catch {
    return `${ANNOTATIONS.upgrade} is not JSON`;
  }
}

function parseFailed(raw: string | undefined): FailedHandover | null {
  if (!raw) return null;
  try {
    const o = JSON.parse(raw) as Record<string, unknown>;
    if (typeof o.image !== 'string') return null;
    return {
      image: o.image,
      reason: String(o.reason ?? ''),
      message: String(o.message ?? ''),
      at: String(o.at ?? ''),
    };
  } catch {
    return null;
  }
}

function ordinalOf(pod: V1Pod, hdName: string): number | null {
  const label = pod.metadata?.labels?.[LABELS.ordinal];
  const fromName = pod.metadata?.name?.startsWith(`${hdName}-`)
    ? pod.metadata.name.slice(hdName.length + 1)
    : '';
  const raw = label ?? fromName;
  return /^(0|[1-9]\d{0,5})$/.test(raw) ? Number(raw) : null;
}

/** The view of one pod, or null when it is not one of ours (no ordinal). */
export function viewPod(
  pod: V1Pod,
  hdName: string,
  hotContainer: string,
  report?: SlotReport,
): PodView | null {
  const ordinal = ordinalOf(pod, hdName);
  if (ordinal === null) return null;
  const meta = pod.metadata ?? {};
  const annotations = meta.annotations ?? {};
  const containers = pod.spec?.containers ?? [];
  const statuses = pod.status?.containerStatuses ?? [];
  const slot = (s: SlotName): SlotStatus => {
    const name = NAMES.slotContainer(hotContainer, s);
    const c = containers.find((x) => x.name === name);
    return {
      image: c?.image,
      version: annotations[ANNOTATIONS.version(s)] ?? '',
      status: statuses.find((x) => x.name === name),
      probed: c?.readinessProbe !== undefined,
      ...(report?.slot === s ? { report } : {}),
    };
  };
  const activeRaw = annotations[ANNOTATIONS.activeSlot];
  const activeSlot: SlotName = isSlot(activeRaw) ? activeRaw : SLOTS[0];
  const slots = { a: slot('a'), b: slot('b') };
  const inFlight = parseInFlight(annotations[ANNOTATIONS.upgrade]);
  const ready = (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  const view: PodView = {
    name: meta.name ?? '',
    uid: meta.uid ?? '',
    resourceVersion: meta.resourceVersion ?? '',
    ordinal,
    ip: pod.status?.podIP ?? '',
    templateHash: meta.labels?.[LABELS.templateHash] ?? '',
    deleting: meta.deletionTimestamp !== undefined && meta.deletionTimestamp !== null,
    ready,
    activeSlot,
    image: annotations[ANNOTATIONS.image] ?? slots[activeSlot].image,
    slots,
    inFlight: typeof inFlight === 'string' ? null : inFlight,
    failed: parseFailed(annotations[ANNOTATIONS.failed]),
  };
  if (typeof inFlight === 'string') view.problem = inFlight;
  else if (!isSlot(activeRaw))
    view.problem = `${ANNOTATIONS.activeSlot} is ${JSON.stringify(activeRaw)}, not a or b`;
  else if (!slots.a.image || !slots.b.image)
    view.problem = `the pod lacks the slot containers of "${hotContainer}"`;
  return view;
}
