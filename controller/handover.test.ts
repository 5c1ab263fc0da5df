import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { ANNOTATIONS } from './constants.ts';
import { judge } from './handover.ts';
import { viewPod, type InFlight } from './podView.ts';
import type { SlotReport } from './slotWatch.ts';

const NOW = Date.parse('2026-11-28T12:00:10Z');
const f: InFlight = {
  slot: 'b',
  from: 'a',
  image: 'reg/demo:v2',
  version: 'v2',
  containerID: 'containerd://old-b',
  restartCount: 0,
  startedAt: '2026-11-28T12:00:00Z',
};

/** demo-0 with slot b restarted on v2 (running, the kubelet says `ready`), with or without a slot probe. */
function pod(o: { probed: boolean; ready: boolean }): V1Pod {
  const probe = o.probed ? { readinessProbe: { httpGet: { path: '/v1/slots/b/ready', port: 9901 } } } : {};
  return {
    metadata: {
      name: 'demo-0',
      uid: 'u0',
      resourceVersion: '7',
      labels: { 'hotupgrade.io/ordinal': '0' },
      annotations: { [ANNOTATIONS.activeSlot]: 'b', [ANNOTATIONS.upgrade]: JSON.stringify(f) },
    },
    spec: {
      containers: [
        { name: 'app-a', image: 'reg/demo:v1', ...probe },
        { name: 'app-b', image: 'reg/demo:v2', ...probe },
      ],
    },
    status: {
      podIP: '198.18.0.7',
      containerStatuses: [
        {
          name: 'app-a',
          image: 'reg/demo:v1',
          imageID: '',
          ready: true,
          restartCount: 0,
          containerID: 'containerd://a',
        },
        {
          name: 'app-b',
          image: 'reg/demo:v2',
          imageID: '',
          ready: o.ready,
          restartCount: 1,
          containerID: 'containerd://new-b',
          state: { running: {} },
        },
      ],
    },
  };
}

const judged = (p: V1Pod, report?: SlotReport) => {
  const v = viewPod(p, 'demo', 'app', report);
  if (!v) throw new Error('not a pod of demo');
  return judge(v, f, NOW, 20_000, 'app').kind;
};

const serving = (version: string | null, slot: 'a' | 'b' = 'b'): SlotReport => ({
  slot,
  version,
  ready: version !== null,
  state: version !== null ? 'serving' : null,
});

describe('judge: what proves that the new version took over', () => {
  it.each([
    {
      name: 'a probed slot: the kubelet says ready',
      probed: true,
      ready: true,
      report: undefined,
      want: 'succeeded',
    },
    { name: 'a probed slot: not ready yet', probed: true, ready: false, report: undefined, want: 'waiting' },
    {
      name: 'an unprobed slot: running (ready) proves nothing without the sidecar',
      probed: false,
      ready: true,
      report: undefined,
      want: 'waiting',
    },
    {
      name: 'an unprobed slot: the sidecar says the new version serves',
      probed: false,
      ready: true,
      report: serving('v2'),
      want: 'succeeded',
    },
    {
      name: 'an unprobed slot: the sidecar says the slot serves another version',
      probed: false,
      ready: true,
      report: serving('v1'),
      want: 'waiting',
    },
    {
      name: 'an unprobed slot: the report is about the other slot',
      probed: false,
      ready: true,
      report: serving('v2', 'a'),
      want: 'waiting',
    },
    {
      name: 'an unprobed slot: the sidecar says not ready (waiting for the lock)',
      probed: false,
      ready: true,
      report: { slot: 'b', version: 'v2', ready: false, state: 'waiting' } satisfies SlotReport,
      want: 'waiting',
    },
  ])('$name -> $want', ({ probed, ready, report, want }) => {
    expect(judged(pod({ probed, ready }), report)).toBe(want);
  });
});

describe('judge: a deadline passed', () => {
  it('says what the sidecar last said about the slot', () => {
    const v = viewPod(pod({ probed: false, ready: true }), 'demo', 'app', {
      slot: 'b',
      version: null,
      ready: false,
      state: null,
      reason: 'sidecar at 198.18.0.7:9901: connect ETIMEDOUT',
    });
    if (!v) throw new Error('not a pod of demo');
    const j = judge(v, f, NOW + 60_000, 20_000, 'app');
    expect(j).toMatchObject({ kind: 'failed', reason: 'HandoverDeadlineExceeded' });
    expect(j.kind === 'failed' ? j.message : '').toBe(
      'app-b: v2 did not take over within 30 s of its start (handoverDeadlineSeconds + 10 s); the sidecar said: sidecar at 198.18.0.7:9901: connect ETIMEDOUT',
    );
  });
});
