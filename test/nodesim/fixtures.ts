// Pods for the simulator's tests and for anyone driving it by hand: the layout the
// controller builds (docs/controller.md) and plain pods of named images.
import { ANNOTATIONS, ENV, NAMES, POD_DEFAULTS, slotProbePath } from '../../controller/constants.ts';
import { SIDECAR_ENV } from '../../sidecar/config.ts';
import { PROJECT_IMAGES } from './catalog.ts';
import type { Container, Pod } from './wire.ts';

export const DEMO = (v: string): string => `${PROJECT_IMAGES.demo}:${v}`;

const annotationEnv = (name: string, key: string): NonNullable<Container['env']>[number] => ({
  name,
  valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${key}']` } },
});

export function slotContainer(slot: 'a' | 'b', image: string): Container {
  return {
    name: NAMES.slotContainer('app', slot),
    image,
    env: [
      { name: ENV.dir, value: POD_DEFAULTS.sharedDir },
      { name: ENV.slot, value: slot },
      { name: ENV.mode, value: 'slot' },
      { name: ENV.handoverDeadlineMs, value: '30000' },
      annotationEnv(ENV.version, ANNOTATIONS.version(slot)),
      annotationEnv(ENV.activeSlot, ANNOTATIONS.activeSlot),
    ],
    volumeMounts: [
      { name: NAMES.sharedVolume, mountPath: POD_DEFAULTS.sharedDir },
      { name: NAMES.shmVolume, mountPath: POD_DEFAULTS.shmDir },
    ],
    readinessProbe: {
      httpGet: { path: slotProbePath(slot), port: POD_DEFAULTS.sidecarPort },
      periodSeconds: 1,
      timeoutSeconds: POD_DEFAULTS.slotProbeTimeoutSeconds,
      successThreshold: 1,
      failureThreshold: 1,
    },
    ...(slot === 'a' ? { ports: [{ name: 'http', containerPort: 8080 }] } : {}),
  };
}

/** A pod in the layout the controller builds (hot container `app`): app-a serving v1, app-b the placeholder, the sidecar. */
export function slotPod(name: string, namespace: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace,
      uid: '',
      labels: { app: 'demo' },
      annotations: {
        [ANNOTATIONS.version('a')]: 'v1',
        [ANNOTATIONS.version('b')]: '',
        [ANNOTATIONS.activeSlot]: 'a',
      },
    },
    spec: {
      terminationGracePeriodSeconds: 5,
      containers: [
        slotContainer('a', DEMO('v1')),
        slotContainer('b', PROJECT_IMAGES.placeholder),
        {
          name: NAMES.sidecar,
          image: PROJECT_IMAGES.sidecar,
          env: [
            { name: ENV.dir, value: POD_DEFAULTS.sharedDir },
            { name: SIDECAR_ENV.podName, valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: SIDECAR_ENV.podNamespace, valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
          ],
          ports: [{ name: NAMES.sidecarPortName, containerPort: POD_DEFAULTS.sidecarPort }],
          readinessProbe: { httpGet: { path: '/readyz', port: POD_DEFAULTS.sidecarPort }, periodSeconds: 1 },
          volumeMounts: [{ name: NAMES.sharedVolume, mountPath: POD_DEFAULTS.sharedDir }],
        },
      ],
      volumes: [
        { name: NAMES.sharedVolume, emptyDir: {} },
        { name: NAMES.shmVolume, emptyDir: { medium: 'Memory' } },
      ],
    },
  };
}

export function simplePod(name: string, namespace: string, containers: [string, string][]): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, uid: '' },
    spec: {
      terminationGracePeriodSeconds: 2,
      containers: containers.map(([n, image]) => ({ name: n, image })),
    },
  };
}

/** The body to POST: the fixtures carry an empty uid to satisfy the wire type. */
export function createBody(p: Pod): unknown {
  const { uid: _uid, ...metadata } = p.metadata;
  return { ...p, metadata };
}
