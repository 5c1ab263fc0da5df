import { describe, expect, it } from 'vitest';
import { completeHd, conditions, makePod, rolloutHd, V1, V2, type RolloutOptions } from './fixtures.ts';
import { describeState, nextStep, outcomeOf, summarize, type Outcome } from './summary.ts';

describe('outcomeOf', () => {
  it.each<[string, Outcome, RolloutOptions]>([
    ['no status yet', 'pending', { noStatus: true }],
    [
      'a status of an older generation',
      'pending',
      { generation: 3, observed: 2, conditions: conditions({ progressing: 'RolloutComplete' }) },
    ],
    ['a hot upgrade awaiting approval', 'progressing', {}],
    ['a complete rollout', 'complete', { conditions: conditions({ progressing: 'RolloutComplete' }) }],
    ['a failed handover', 'degraded', { conditions: conditions({ degraded: 'HandoverFailed' }) }],
    [
      'a passed deadline',
      'degraded',
      {
        conditions: conditions({
          progressing: 'ProgressDeadlineExceeded',
          degraded: 'ProgressDeadlineExceeded',
        }),
      },
    ],
    [
      'a rollback',
      'degraded',
      { conditions: conditions({ progressing: 'RolloutComplete', degraded: 'RolledBack' }) },
    ],
  ])('%s is %s', (_t, outcome, o) => {
    expect(outcomeOf(rolloutHd(o))).toBe(outcome);
  });
});

describe('describeState', () => {
  it.each<[string, RolloutOptions, string]>([
    ['no status', { noStatus: true }, 'without a status: the controller has not seen it yet'],
    [
      'catching up',
      { generation: 3, observed: 2 },
      'not yet observed at generation 3 (the status is of generation 2',
    ],
    [
      'degraded',
      { conditions: conditions({ degraded: 'HandoverFailed' }) },
      'degraded (HandoverFailed): degraded: HandoverFailed',
    ],
    ['paused by spec', { paused: true }, 'paused by spec.updateStrategy.paused'],
    ['awaiting approval', {}, 'awaiting approval of batch 2/2'],
    [
      'upgrading',
      { batch: { number: 2, state: 'Upgrading', target: 6, updated: 3 } },
      'upgrading batch 2/2: 3/6 pods at v2',
    ],
    [
      'in a timed pause',
      { batch: { state: 'Paused', pauseEndsAt: '2026-01-01T00:05:00Z' } },
      'in the timed pause after batch 1/2; batch 2 starts at 2026-01-01T00:05:00Z',
    ],
    ['recreating', { rolloutKind: 'Recreate' }, 'recreating pods for a template change'],
    [
      'complete',
      {
        rolloutKind: 'None',
        current: V2,
        updated: 6,
        conditions: conditions({ progressing: 'RolloutComplete' }),
      },
      `not rolling out: all 6 pods run ${V2}`,
    ],
  ])('%s', (_t, o, words) => {
    expect(describeState(rolloutHd(o))).toContain(words);
  });
});

describe('nextStep', () => {
  it.each<[string, RolloutOptions, string | undefined]>([
    ['awaiting approval: approve', {}, 'approve batch 2/2 with: kubectl hotupgrade approve hd/web -n shop'],
    ['paused: resume', { paused: true }, 'resume with: kubectl hotupgrade resume hd/web -n shop'],
    [
      'a failed handover: abort',
      { conditions: conditions({ degraded: 'HandoverFailed' }) },
      `go back to ${V1} with: kubectl hotupgrade abort hd/web -n shop`,
    ],
    ['rolled back: nothing', { conditions: conditions({ degraded: 'RolledBack' }) }, undefined],
    ['upgrading: nothing', { batch: { number: 2, state: 'Upgrading' } }, undefined],
  ])('%s', (_t, o, words) => {
    const next = nextStep(rolloutHd(o));
    if (words === undefined) expect(next).toBeUndefined();
    else expect(next).toContain(words);
  });
});

describe('summarize', () => {
  it('groups pods by the image they serve, the spec image first, and lists upgrades and failures', () => {
    const pods = [
      makePod({ ordinal: 0, image: V1 }),
      makePod({ ordinal: 1, image: V1, upgradingTo: V2, ready: false }),
      makePod({ ordinal: 2, image: V1, failed: V2 }),
      makePod({ ordinal: 3, image: V1, failed: 'registry.example.com/web:v0' }),
      makePod({ ordinal: 4, image: V2 }),
      makePod({ ordinal: 5, image: V2, deleting: true }),
      { metadata: { name: 'stranger', labels: {} } },
    ];
    const s = summarize(rolloutHd({ batch: { number: 2, state: 'Upgrading' } }), pods);
    expect(s.pods).toEqual([
      { image: V2, version: 'v2', pods: 1, ready: 1 },
      { image: V1, version: 'v1', pods: 4, ready: 3 },
    ]);
    expect(s.terminating).toBe(1);
    expect(s.upgrading).toEqual([{ pod: 'web-1', from: 'v1', to: 'v2', startedAt: '2026-01-01T00:00:00Z' }]);
    expect(s.failures).toEqual([
      { pod: 'web-2', image: V2, reason: 'ImagePullFailed', message: 'not found' },
    ]);
    expect(s).toMatchObject({
      namespace: 'shop',
      name: 'web',
      image: V2,
      version: 'v2',
      currentImage: V1,
      rolloutKind: 'Hot',
      inRange: 6,
      outcome: 'progressing',
      replicas: { desired: 6, current: 6, ready: 6, updated: 2, upgrading: 0 },
    });
  });

  it('summarizes a HotDeployment the controller has not seen', () => {
    const s = summarize(rolloutHd({ noStatus: true }), []);
    expect(s).toMatchObject({ observedGeneration: undefined, outcome: 'pending', conditions: [], pods: [] });
  });

  it('counts the pods in range above the partition', () => {
    const hd = completeHd();
    hd.spec.updateStrategy = { partition: 2 };
    expect(summarize(hd, []).inRange).toBe(4);
  });
});
