// Builds the pod of one ordinal in the layout of docs/controller.md: the hot container
// becomes two slots, a sidecar joins, and the shared volume holds the protocol's files.
// Pure: the caller passes the images and the fingerprint.
import type { V1Container, V1EnvVar, V1Pod, V1Probe, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { SIDECAR_ENV } from '../sidecar/config.ts';
import {
  ANNOTATIONS,
  API_VERSION,
  ENV,
  KIND,
  LABELS,
  NAMES,
  POD_DEFAULTS,
  SLOTS,
  slotProbePath,
} from './constants.ts';
import type { SlotName } from './constants.ts';
import type { HotDeployment } from './api/types.ts';
import type { Desired } from './spec.ts';
import { versionOf } from './images.ts';

export interface PodImages {
  /** The image the active slot runs. */
  image: string;
  placeholderImage: string;
  sidecarImage: string;
  /**
   * How a slot proves its handover: `sidecar` (default) leaves the slots without a
   * readiness probe, so the pod stays Ready through an upgrade, and the controller asks
   * the sidecar; `probe` gives each slot the sidecar's slot readiness as its readiness
   * probe (docs/controller.md, "The completion signal").
   */
  completionSignal?: 'sidecar' | 'probe';
}

const annotationRef = (key: string): V1EnvVar['valueFrom'] => ({
  fieldRef: { fieldPath: `metadata.annotations['${key}']` },
});

function slotProbe(slot: SlotName): V1Probe {
  return {
    httpGet: { path: slotProbePath(slot), port: POD_DEFAULTS.sidecarPort },
    periodSeconds: POD_DEFAULTS.slotProbePeriodSeconds,
    timeoutSeconds: POD_DEFAULTS.slotProbeTimeoutSeconds,
    successThreshold: 1,
    failureThreshold: 1,
  };
}

function slotContainer(
  d: Desired,
  slot: SlotName,
  image: string,
  withShm: boolean,
  probe: boolean,
): V1Container {
  const c = d.container;
  const mounts: V1VolumeMount[] = [
    ...(c.volumeMounts ?? []),
    { name: NAMES.sharedVolume, mountPath: POD_DEFAULTS.sharedDir },
  ];
  if (withShm) mounts.push({ name: NAMES.shmVolume, mountPath: POD_DEFAULTS.shmDir });
  const env: V1EnvVar[] = [
    ...(c.env ?? []),
    { name: ENV.dir, value: POD_DEFAULTS.sharedDir },
    { name: ENV.slot, value: slot },
    { name: ENV.mode, value: d.mode },
    { name: ENV.handoverDeadlineMs, value: String(d.handoverDeadlineMs) },
    { name: ENV.version, valueFrom: annotationRef(ANNOTATIONS.version(slot)) },
    { name: ENV.activeSlot, valueFrom: annotationRef(ANNOTATIONS.activeSlot) },
  ];
  // A pod being deleted (scale-down, recreate) leaves its Services while its slots hear
  // SIGTERM: the serving slot serves on for a moment (the template's own value wins).
  if (!(c.env ?? []).some((e) => e.name === ENV.shutdownDelayMs))
    env.push({ name: ENV.shutdownDelayMs, value: String(POD_DEFAULTS.shutdownDelayMs) });
  // The template's own probes would fail in the placeholder: the sidecar's readiness (and,
  // with completionSignal probe, the slot probe) replaces them.
  const { livenessProbe: _l, readinessProbe: _r, startupProbe: _s, ports, ...rest } = c;
  return {
    ...rest,
    name: NAMES.slotContainer(d.hotContainer, slot),
    image,
    env,
    volumeMounts: mounts,
    ...(probe ? { readinessProbe: slotProbe(slot) } : {}),
    ...(slot === SLOTS[0] && ports ? { ports } : {}),
  };
}

function sidecar(sidecarImage: string): V1Container {
  return {
    name: NAMES.sidecar,
    image: sidecarImage,
    env: [
      { name: ENV.dir, value: POD_DEFAULTS.sharedDir },
      { name: SIDECAR_ENV.podName, valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: SIDECAR_ENV.podNamespace, valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    ],
    ports: [{ name: NAMES.sidecarPortName, containerPort: POD_DEFAULTS.sidecarPort, protocol: 'TCP' }],
    // The pod's readiness: some slot holds the active lock and serves. Three misses in a
    // row, so the instant of a handover (the lock changes hands) never flips it.
    readinessProbe: {
      httpGet: { path: '/readyz', port: POD_DEFAULTS.sidecarPort },
      periodSeconds: 1,
      failureThreshold: 3,
    },
    livenessProbe: {
      httpGet: { path: '/healthz', port: POD_DEFAULTS.sidecarPort },
      periodSeconds: 10,
      failureThreshold: 3,
    },
    resources: { requests: { cpu: '10m', memory: '48Mi' }, limits: { memory: '128Mi' } },
    volumeMounts: [{ name: NAMES.sharedVolume, mountPath: POD_DEFAULTS.sharedDir, readOnly: true }],
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    },
  };
}

export function podName(hdName: string, ordinal: number): string {
  return `${hdName}-${ordinal}`;
}

/** The pod of `ordinal`, serving `images.image` from slot a, slot b idle in the placeholder. */
export function buildPod(hd: HotDeployment, d: Desired, ordinal: number, images: PodImages): V1Pod {
  const t = hd.spec.template;
  const withShm = hd.spec.sharedMemory !== undefined;
  const [active, idle] = SLOTS;
  const containers: V1Container[] = [];
  for (const c of t.spec?.containers ?? []) {
    if (c.name !== d.hotContainer) {
      containers.push(c);
      continue;
    }
    const probe = images.completionSignal === 'probe';
    containers.push(slotContainer(d, active, images.image, withShm, probe));
    containers.push(slotContainer(d, idle, images.placeholderImage, withShm, probe));
  }
  containers.push(sidecar(images.sidecarImage));
  const volumes: V1Volume[] = [...(t.spec?.volumes ?? []), { name: NAMES.sharedVolume, emptyDir: {} }];
  if (withShm) {
    const sizeLimit = hd.spec.sharedMemory?.sizeLimit;
    volumes.push({
      name: NAMES.shmVolume,
      emptyDir: { medium: 'Memory', ...(sizeLimit ? { sizeLimit } : {}) },
    });
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podName(d.name, ordinal),
      namespace: d.namespace,
      labels: {
        ...(t.metadata?.labels ?? {}),
        [LABELS.hotDeployment]: d.name,
        [LABELS.templateHash]: d.templateHash,
        [LABELS.ordinal]: String(ordinal),
      },
      annotations: {
        ...(t.metadata?.annotations ?? {}),
        [ANNOTATIONS.version(active)]: versionOf(images.image),
        [ANNOTATIONS.version(idle)]: '',
        [ANNOTATIONS.activeSlot]: active,
        [ANNOTATIONS.image]: images.image,
      },
      ownerReferences: [
        {
          apiVersion: API_VERSION,
          kind: KIND,
          name: d.name,
          uid: d.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: { ...t.spec, containers, volumes },
  };
}
