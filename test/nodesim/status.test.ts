import { describe, expect, it } from 'vitest';
import { fingerprint, podPhase, podStatus, withTransitions } from './status.ts';
import type { ContainerStatus } from './wire.ts';

const cs = (state: ContainerStatus['state'], over: Partial<ContainerStatus> = {}): ContainerStatus => ({
  name: 'c',
  image: 'i',
  imageID: '',
  restartCount: 0,
  ready: false,
  state,
  lastState: {},
  ...over,
});
const running = cs({ running: { startedAt: '2026-01-01T00:00:00Z' } });
const creating = cs({ waiting: { reason: 'ContainerCreating' } });
const pulling = cs({ waiting: { reason: 'ImagePullBackOff' } });
const crashLoop = cs(
  { waiting: { reason: 'CrashLoopBackOff' } },
  { lastState: { terminated: { exitCode: 1 } } },
);
const exited0 = cs({ terminated: { exitCode: 0 } });
const exited1 = cs({ terminated: { exitCode: 1 } });

describe('podPhase (the kubelet getPhase)', () => {
  it.each([
    ['a container never started keeps the pod Pending', [running, pulling], 'Always', 'Pending'],
    ['every container creating is Pending', [creating, creating], 'Always', 'Pending'],
    ['all running is Running', [running, running], 'Always', 'Running'],
    ['a crash loop after a run is still Running', [running, crashLoop], 'Always', 'Running'],
    ['all exited with restartPolicy Always is Running', [exited0, exited1], 'Always', 'Running'],
    ['all exited 0 with Never is Succeeded', [exited0, exited0], 'Never', 'Succeeded'],
    ['one exited 1 with Never is Failed', [exited0, exited1], 'Never', 'Failed'],
    ['no containers is Pending', [], 'Always', 'Pending'],
  ])('%s', (_title, containers, policy, phase) => {
    expect(podPhase(containers as ContainerStatus[], policy as string)).toBe(phase);
  });
});

describe('podStatus', () => {
  const base = { podIP: '198.18.0.1', hostIP: '127.0.0.1', startTimeMs: 0, nowMs: 5_000 };

  it('is Ready when every container is ready', () => {
    const s = podStatus({ ...base, containers: [{ ...running, ready: true }] });
    expect(s.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(s.conditions?.find((c) => c.type === 'ContainersReady')?.status).toBe('True');
    expect(s.podIPs).toEqual([{ ip: '198.18.0.1' }]);
  });

  it('names the unready containers', () => {
    const s = podStatus({ ...base, containers: [{ ...running, name: 'x', ready: false }] });
    const ready = s.conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({
      status: 'False',
      reason: 'ContainersNotReady',
      message: 'containers with unready status: [x]',
    });
  });

  it('waits for readiness gates set by others', () => {
    const input = {
      ...base,
      containers: [{ ...running, ready: true }],
      readinessGates: [{ conditionType: 'x/y' }],
    };
    expect(podStatus(input).conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
    const gated = podStatus({ ...input, observedConditions: [{ type: 'x/y', status: 'True' }] });
    expect(gated.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
  });
});

describe('withTransitions', () => {
  it('keeps the transition time while the status stays, and moves it when it changes', () => {
    const first = withTransitions(undefined, [{ type: 'Ready', status: 'False' }], 1_000);
    const same = withTransitions(first, [{ type: 'Ready', status: 'False' }], 9_000);
    const flipped = withTransitions(same, [{ type: 'Ready', status: 'True' }], 12_000);
    expect(same[0]?.lastTransitionTime).toBe(first[0]?.lastTransitionTime);
    expect(flipped[0]?.lastTransitionTime).toBe('1970-01-01T00:00:12Z');
  });
});

describe('fingerprint', () => {
  it('ignores timestamps and sees container IDs, readiness and state reasons', () => {
    const a = podStatus({ podIP: 'p', hostIP: 'h', startTimeMs: 0, nowMs: 0, containers: [running] });
    const b = podStatus({ podIP: 'p', hostIP: 'h', startTimeMs: 0, nowMs: 60_000, containers: [running] });
    expect(fingerprint(a)).toBe(fingerprint(b));
    const c = podStatus({
      podIP: 'p',
      hostIP: 'h',
      startTimeMs: 0,
      nowMs: 0,
      containers: [{ ...running, containerID: 'sim://2' }],
    });
    expect(fingerprint(c)).not.toBe(fingerprint(a));
    expect(fingerprint(undefined)).toBe('');
  });
});
