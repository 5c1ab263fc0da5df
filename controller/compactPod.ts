// The part of a pod the controller reads, and nothing else: what its pod cache holds.
// A full pod (env, probes, volumes, managedFields) is 10-20 KB in memory; this is about
// 1 KB, which keeps 10,000 pods well inside a 256 MiB container. podView.ts reads only
// these fields; compactPod.test.ts checks that it sees the same pod either way.
import type { V1ContainerState, V1ContainerStatus, V1Pod } from '@kubernetes/client-node';

function state(s: V1ContainerState | undefined): V1ContainerState | undefined {
  if (!s) return undefined;
  if (s.waiting) return { waiting: { reason: s.waiting.reason, message: s.waiting.message } };
  if (s.terminated) return { terminated: { exitCode: s.terminated.exitCode, reason: s.terminated.reason } };
  if (s.running) return { running: {} };
  return {};
}

function containerStatus(c: V1ContainerStatus): V1ContainerStatus {
  const out: V1ContainerStatus = {
    name: c.name,
    image: c.image,
    imageID: '',
    ready: c.ready,
    restartCount: c.restartCount,
  };
  if (c.containerID) out.containerID = c.containerID;
  const st = state(c.state);
  if (st) out.state = st;
  const last = state(c.lastState);
  if (last) out.lastState = last;
  return out;
}

export function compactPod(p: V1Pod): V1Pod {
  const m = p.metadata ?? {};
  return {
    apiVersion: p.apiVersion,
    kind: p.kind,
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      labels: m.labels,
      annotations: m.annotations,
      ownerReferences: m.ownerReferences,
      ...(m.deletionTimestamp ? { deletionTimestamp: m.deletionTimestamp } : {}),
    },
    spec: {
      // A slot with a readiness probe proves its handover through `ready`; one without,
      // through its sidecar (slotWatch.ts): the marker is all the controller reads of it.
      containers: (p.spec?.containers ?? []).map((c) => ({
        name: c.name,
        image: c.image,
        ...(c.readinessProbe ? { readinessProbe: {} } : {}),
      })),
    },
    status: {
      ...(p.status?.podIP ? { podIP: p.status.podIP } : {}),
      conditions: (p.status?.conditions ?? [])
        .filter((c) => c.type === 'Ready')
        .map((c) => ({ type: c.type, status: c.status })),
      containerStatuses: (p.status?.containerStatuses ?? []).map(containerStatus),
    },
  };
}
