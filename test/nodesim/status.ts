// The pod status the kubelet would report for given container states: phase (the
// kubelet's getPhase), conditions with their transition times, IPs. Pure: the caller
// keeps the containers' states and the previous conditions.
import { rfc3339, type ContainerStatus, type PodCondition, type PodStatus } from './wire.ts';

/** The kubelet's getPhase for a pod with no init containers. */
export function podPhase(containers: ContainerStatus[], restartPolicy: string | undefined): string {
  let waiting = 0;
  let running = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const c of containers) {
    if (c.state.running) running++;
    else if (c.state.terminated) {
      stopped++;
      if (c.state.terminated.exitCode === 0) succeeded++;
    } else if (c.state.waiting) {
      // Waiting after having run (crash loop, in-place restart) counts as stopped, not pending.
      if (c.lastState.terminated) stopped++;
      else waiting++;
    }
  }
  if (containers.length === 0 || waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  const policy = restartPolicy ?? 'Always';
  if (policy === 'Always') return 'Running';
  if (stopped === succeeded) return 'Succeeded';
  return policy === 'Never' ? 'Failed' : 'Running';
}

export interface DesiredCondition {
  type: string;
  status: 'True' | 'False';
  reason?: string;
  message?: string;
}

/** Conditions with lastTransitionTime kept from `prev` while the status stays the same. */
export function withTransitions(
  prev: PodCondition[] | undefined,
  desired: DesiredCondition[],
  nowMs: number,
): PodCondition[] {
  return desired.map((d) => {
    const p = prev?.find((c) => c.type === d.type);
    const since = p && p.status === d.status && p.lastTransitionTime ? p.lastTransitionTime : rfc3339(nowMs);
    const c: PodCondition = {
      type: d.type,
      status: d.status,
      lastProbeTime: null,
      lastTransitionTime: since,
    };
    if (d.reason) c.reason = d.reason;
    if (d.message) c.message = d.message;
    return c;
  });
}

export interface PodStatusInput {
  containers: ContainerStatus[];
  restartPolicy?: string;
  podIP: string;
  hostIP: string;
  startTimeMs: number;
  /** Readiness gates of the spec and the conditions others set for them. */
  readinessGates?: { conditionType: string }[];
  observedConditions?: PodCondition[];
  prevConditions?: PodCondition[];
  nowMs: number;
}

export function podStatus(i: PodStatusInput): PodStatus {
  const unready = i.containers.filter((c) => !c.ready).map((c) => c.name);
  const containersReady = unready.length === 0 && i.containers.length > 0;
  const gatesUnmet = (i.readinessGates ?? [])
    .map((g) => g.conditionType)
    .filter((t) => i.observedConditions?.find((c) => c.type === t)?.status !== 'True');
  const notReady: DesiredCondition = {
    type: 'ContainersReady',
    status: 'False',
    reason: 'ContainersNotReady',
    message: `containers with unready status: [${unready.join(' ')}]`,
  };
  let ready: DesiredCondition;
  if (!containersReady) ready = { ...notReady, type: 'Ready' };
  else if (gatesUnmet.length) {
    ready = {
      type: 'Ready',
      status: 'False',
      reason: 'ReadinessGatesNotReady',
      message: `corresponding condition of pod readiness gate "${gatesUnmet[0]}" does not exist.`,
    };
  } else ready = { type: 'Ready', status: 'True' };
  const conditions = withTransitions(
    i.prevConditions,
    [
      { type: 'PodReadyToStartContainers', status: 'True' },
      { type: 'Initialized', status: 'True' },
      ready,
      containersReady ? { type: 'ContainersReady', status: 'True' } : notReady,
      { type: 'PodScheduled', status: 'True' },
    ],
    i.nowMs,
  );
  return {
    phase: podPhase(i.containers, i.restartPolicy),
    hostIP: i.hostIP,
    hostIPs: [{ ip: i.hostIP }],
    podIP: i.podIP,
    podIPs: [{ ip: i.podIP }],
    startTime: rfc3339(i.startTimeMs),
    conditions,
    containerStatuses: i.containers,
  };
}

function stateWord(c: ContainerStatus): string {
  if (c.state.running) return 'running';
  if (c.state.terminated) return `terminated:${c.state.terminated.exitCode}`;
  return `waiting:${c.state.waiting?.reason ?? ''}`;
}

/**
 * What a status says that matters, without timestamps: equal fingerprints of the
 * observed and the desired status mean there is nothing to write.
 */
export function fingerprint(s: PodStatus | undefined): string {
  if (!s) return '';
  const ready = s.conditions?.find((c) => c.type === 'Ready')?.status ?? '';
  const cs = (s.containerStatuses ?? [])
    .map((c) => `${c.name}|${c.image}|${c.containerID ?? ''}|${c.ready}|${c.restartCount}|${stateWord(c)}`)
    .join(',');
  return `${s.phase ?? ''}|${s.podIP ?? ''}|${ready}|${cs}`;
}
