import { describe, expect, it } from 'vitest';
import { completeHd, makePod, rolloutHd, V1, V2 } from './fixtures.ts';
import { age, progressBar, renderStatus, table } from './render.ts';
import { summarize } from './summary.ts';

describe('progressBar', () => {
  it.each<[number, number, number, string]>([
    [5, 10, 10, '[#####.....] 5/10'],
    [0, 10, 10, '[..........] 0/10'],
    [10, 10, 10, '[##########] 10/10'],
    [2, 3, 10, '[######....] 2/3'],
    [999, 1000, 10, '[#########.] 999/1000'],
    [0, 0, 4, '[####] 0/0'],
    [7, 5, 4, '[####] 7/5'],
  ])('%i of %i in %i characters is %s', (done, total, width, bar) => {
    expect(progressBar(done, total, width)).toBe(bar);
  });
});

describe('table and age', () => {
  it('pads every column but the last', () => {
    expect(
      table([
        ['a', 'bbb', 'c'],
        ['dddd', 'e', 'f'],
      ]),
    ).toEqual(['  a     bbb  c', '  dddd  e    f']);
  });

  it.each<[number, string]>([
    [0, '0s'],
    [59_999, '59s'],
    [60_000, '1m'],
    [75_000, '1m15s'],
    [3_600_000, '1h'],
    [5_430_000, '1h30m'],
  ])('%i ms is %s', (ms, text) => {
    expect(age(ms)).toBe(text);
  });
});

describe('renderStatus', () => {
  const now = Date.parse('2026-01-01T00:00:12Z');

  it('shows a rollout awaiting approval: images, counts, bars, conditions, pods, the next command', () => {
    const pods = [0, 1, 2, 3].map((i) => makePod({ ordinal: i, image: V1 }));
    pods.push(makePod({ ordinal: 4, image: V2 }), makePod({ ordinal: 5, image: V2 }));
    const lines = renderStatus(summarize(rolloutHd(), pods), now);
    expect(lines).toEqual([
      'hotdeployment/web in namespace shop',
      `Image:      ${V2} (version v2, container app)`,
      `From:       ${V1}`,
      'Replicas:   6 desired, 6 current, 6 ready, 2 updated, 0 upgrading',
      'Rollout:    hot upgrade (in place)',
      'Progress:   [######..............] 2/6 pods at v2',
      'Batch:      1/2 AwaitingApproval  [####################] 2/2',
      'Conditions:',
      '  Available    True   MinimumReplicasAvailable  6/6 pods ready (at least 5 required)',
      '  Progressing  True   HotUpgrading              progressing: HotUpgrading',
      '  Paused       True   AwaitingApproval          paused: AwaitingApproval',
      '  Degraded     False  Healthy                   no failure',
      'Pods by version:',
      '  VERSION  PODS  READY  IMAGE',
      `  v2       2     2      ${V2}`,
      `  v1       4     4      ${V1}`,
      'Next:       approve batch 2/2 with: kubectl hotupgrade approve hd/web -n shop',
    ]);
  });

  it('lists upgrades in flight with their age, and failed handovers', () => {
    const pods = [
      makePod({ ordinal: 0, image: V1, upgradingTo: V2 }),
      makePod({ ordinal: 1, image: V1, failed: V2 }),
    ];
    const lines = renderStatus(summarize(rolloutHd({ batch: { number: 2, state: 'Upgrading' } }), pods), now);
    expect(lines).toContain('Upgrading:');
    expect(lines).toContain('  web-0  v1 -> v2  for 12s');
    expect(lines).toContain('Failed handovers of v2:');
    expect(lines).toContain('  web-1  ImagePullFailed  not found');
  });

  it('says when a timed pause ends', () => {
    const hd = rolloutHd({ batch: { state: 'Paused', pauseEndsAt: '2026-01-01T00:05:00Z' } });
    const lines = renderStatus(summarize(hd, []), now);
    expect(lines).toContain('Batch:      1/2 Paused  [####################] 2/2');
    expect(lines).toContain('            batch 2 starts at 2026-01-01T00:05:00Z');
  });

  it('says when the controller has not caught up, or not seen the object', () => {
    expect(renderStatus(summarize(rolloutHd({ generation: 3, observed: 2 }), []), now)).toContain(
      'Status:     of generation 2; the spec is at 3 (the controller is catching up)',
    );
    const none = renderStatus(summarize(rolloutHd({ noStatus: true }), []), now);
    expect(none).toContain(
      'Status:     none yet: the controller has not seen this HotDeployment (is it running?)',
    );
    expect(none.some((l) => l.startsWith('Rollout:'))).toBe(false);
  });

  it('shows a complete rollout without a batch line or a next step', () => {
    const lines = renderStatus(summarize(completeHd(), []), now);
    expect(lines).toContain('Rollout:    complete');
    expect(lines).toContain('Progress:   [####################] 6/6 pods at v2');
    expect(lines.some((l) => l.startsWith('Batch:') || l.startsWith('Next:') || l.startsWith('From:'))).toBe(
      false,
    );
  });
});
