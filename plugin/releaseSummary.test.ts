import { describe, expect, it } from 'vitest';
import {
  finalRelease,
  makeRelease,
  member,
  releaseConditions,
  type ReleaseOptions,
} from './releaseFixtures.ts';
import {
  describeRelease,
  nextForRelease,
  releaseOutcome,
  summarizeRelease,
  touched,
  type ReleaseOutcome,
} from './releaseSummary.ts';

const rollingBack = releaseConditions({ progressing: 'RollingBack', degraded: 'GateFailed' });

describe('releaseOutcome', () => {
  it.each<[string, ReleaseOutcome, () => ReturnType<typeof makeRelease>]>([
    ['no status yet', 'pending', () => makeRelease({ noStatus: true })],
    [
      'a status of an older generation',
      'pending',
      () => finalRelease('Failed', { generation: 3, observed: 2 }),
    ],
    ['awaiting approval', 'progressing', () => makeRelease()],
    ['Succeeded', 'succeeded', () => finalRelease('Succeeded')],
    ['Failed', 'failed', () => finalRelease('Failed')],
    ['Aborted', 'failed', () => finalRelease('Aborted')],
    ['RolledBack', 'failed', () => finalRelease('RolledBack')],
    [
      'Failed while it rolls back by itself',
      'progressing',
      () => finalRelease('Failed', { conditions: rollingBack }),
    ],
    [
      'Succeeded with spec.rollback observed',
      'progressing',
      () => finalRelease('Succeeded', { spec: { rollback: true } }),
    ],
  ])('%s is %s', (_t, outcome, hr) => {
    expect(releaseOutcome(hr())).toBe(outcome);
  });
});

describe('describeRelease and nextForRelease', () => {
  it.each<[string, ReleaseOptions | (() => ReturnType<typeof makeRelease>), string, string | undefined]>([
    ['no status', { noStatus: true }, 'without a status: the hub controller has not seen it yet', undefined],
    [
      'catching up',
      { generation: 2, observed: 1 },
      'not yet observed at generation 2 (the status is of generation 1; the hub controller is catching up)',
      undefined,
    ],
    [
      'awaiting approval',
      {},
      'Paused at step 3/5 (pause until approved), awaiting approval of step 4',
      'approve step 4/5 with: kubectl hotupgrade approve hr/web-v2 -n apps',
    ],
    [
      'paused by spec',
      { spec: { paused: true }, conditions: releaseConditions({ paused: 'PausedBySpec' }) },
      'Paused by spec.paused at step 3/5',
      'resume with: kubectl hotupgrade resume hr/web-v2 -n apps',
    ],
    [
      'unreachable',
      {
        conditions: releaseConditions({
          paused: 'ClustersUnreachable',
          unreachable: 'cluster b: connect ECONNREFUSED 127.0.0.1:34567',
        }),
      },
      'Paused at step 3/5 (pause until approved): ClustersUnreachable: paused: ClustersUnreachable',
      undefined,
    ],
    [
      'held by a missing target',
      { conditions: releaseConditions({ paused: 'TargetNotFound', degraded: 'TargetNotFound' }) },
      'Paused at step 3/5 (pause until approved): TargetNotFound: degraded: TargetNotFound',
      undefined,
    ],
    [
      'upgrading',
      { phase: 'Progressing', step: 4, conditions: releaseConditions() },
      'Progressing at step 4/5 (upgrade to 50% of the pods in every cluster)',
      undefined,
    ],
    ['pending', { phase: 'Pending', conditions: [] }, 'Pending (not started)', undefined],
    [
      'Failed',
      () => finalRelease('Failed'),
      'Failed at step 2/5 (gate error_ratio{cluster="$cluster"} < 0.01 in a',
      'roll every cluster back to its previous image with: kubectl hotupgrade rollback hr/web-v2 -n apps',
    ],
    [
      'Aborted',
      () => finalRelease('Aborted'),
      'Aborted at step 2/5',
      'pods keep the version they run; to go back: kubectl hotupgrade rollback hr/web-v2 -n apps',
    ],
    [
      'Succeeded',
      () => finalRelease('Succeeded'),
      'Succeeded: every cluster runs registry.example.com/web:v2',
      undefined,
    ],
    [
      'rolling back',
      () => finalRelease('Failed', { conditions: rollingBack }),
      'rolling back (phase Failed): progressing: RollingBack',
      undefined,
    ],
  ])('%s', (_t, o, state, next) => {
    const hr = typeof o === 'function' ? o() : makeRelease(o);
    expect(describeRelease(hr)).toContain(state);
    expect(nextForRelease(hr)).toBe(next);
  });
});

describe('summarizeRelease', () => {
  it('marks the steps done, current and to come', () => {
    const s = summarizeRelease(makeRelease());
    expect(s.steps.map((x) => [x.number, x.kind, x.state])).toEqual([
      [1, 'upgrade', 'done'],
      [2, 'gate', 'done'],
      [3, 'pause', 'current'],
      [4, 'upgrade', 'pending'],
      [5, 'upgrade', 'pending'],
    ]);
    expect(summarizeRelease(finalRelease('Succeeded')).steps.every((x) => x.state === 'done')).toBe(true);
    expect(summarizeRelease(finalRelease('Failed')).steps.map((x) => x.state)).toEqual([
      'done',
      'stopped',
      'pending',
      'pending',
      'pending',
    ]);
    expect(summarizeRelease(makeRelease({ noStatus: true })).steps.every((x) => x.state === 'pending')).toBe(
      true,
    );
  });

  it('keeps the data -o json prints', () => {
    const s = summarizeRelease(makeRelease());
    expect(s).toMatchObject({
      kind: 'HotRelease',
      namespace: 'apps',
      name: 'web-v2',
      target: { name: 'web', namespace: 'apps' },
      image: 'registry.example.com/web:v2',
      version: 'v2',
      clusterSelection: 'a, b',
      phase: 'Paused',
      currentStep: 3,
      totalSteps: 5,
      outcome: 'progressing',
      spec: { paused: false, abort: false, rollback: false, autoRollback: false },
      gates: [
        { step: 2, state: 'Passed', op: '<', threshold: 0.01, samples: 3, failureLimit: 2, successes: 3 },
      ],
    });
    expect(s.problems.map((c) => `${c.type}/${c.reason}`)).toEqual(['Paused/AwaitingApproval']);
    expect(s.clusters.map((c) => c.name)).toEqual(['a', 'b']);
  });

  it('says when a timed pause ends, and which clusters a selector picks', () => {
    const s = summarizeRelease(
      makeRelease({
        phase: 'Progressing',
        step: 2,
        stepStartedAt: '2026-01-01T00:10:00Z',
        spec: {
          clusters: { selector: { matchLabels: { env: 'prod' } } },
          steps: [
            { upgrade: { replicas: 1 } },
            { pause: { seconds: 90 } },
            { upgrade: { replicas: '100%' } },
          ],
        },
      }),
    );
    expect(s.pauseEndsAt).toBe('2026-01-01T00:11:30Z');
    expect(s.clusterSelection).toBe('selected by env=prod');
  });

  it('knows whether a release touched any cluster', () => {
    expect(touched(makeRelease())).toBe(true);
    const fresh = makeRelease({ phase: 'Pending', clusters: [member('a')] });
    delete fresh.status?.startedAt;
    expect(touched(fresh)).toBe(false);
    const moved = makeRelease({ phase: 'Pending', clusters: [member('a', { updated: 1 })] });
    delete moved.status?.startedAt;
    expect(touched(moved)).toBe(true);
    expect(touched(makeRelease({ noStatus: true }))).toBe(false);
  });
});
