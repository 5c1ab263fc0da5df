import { describe, expect, it } from 'vitest';
import { finalRelease, makeRelease, member, releaseConditions } from './releaseFixtures.ts';
import { formatValue, gateResultLine, renderCreated, renderRelease } from './releaseRender.ts';
import { summarizeRelease, type GateView } from './releaseSummary.ts';

const now = Date.parse('2026-01-01T00:06:00Z');

describe('renderRelease', () => {
  it('shows a release awaiting approval: steps, clusters, gates, the condition and the next command', () => {
    expect(renderRelease(summarizeRelease(makeRelease()), now)).toEqual([
      'hotrelease/web-v2 in namespace apps',
      'Image:      registry.example.com/web:v2 (version v2)',
      'Target:     hotdeployment/web in namespace apps',
      'Clusters:   a, b',
      'Phase:      Paused: awaiting approval of step 4/5',
      'Started:    2026-01-01T00:00:00Z (6m ago)',
      'Step:       3/5 pause until approved',
      'Steps:',
      '  ✓ 1  upgrade to 1 pod in a',
      '  ✓ 2  gate error_ratio{cluster="$cluster"} < 0.01 in a (every 30s, passes after 3 in a row, fails after 2)',
      '  ▶ 3  pause until approved',
      '  · 4  upgrade to 50% of the pods in every cluster',
      '  · 5  upgrade to 100% of the pods in every cluster',
      'Clusters:',
      '  CLUSTER  PODS AT v2                  TARGET  READY  ASKS FOR  STATE',
      '  a        [#####...............] 1/4  1       4/4    v2        reachable',
      '  b        [....................] 0/4  0       4/4    v1        reachable',
      'Gates:',
      '  step 2/5 Passed: 3/3 passed in a row, 0/2 failed, every 30s',
      '    a  error_ratio{cluster="a"} = 0.002 < 0.01 ✓',
      'Conditions:',
      '  Paused  True  AwaitingApproval  paused: AwaitingApproval',
      'Next:       approve step 4/5 with: kubectl hotupgrade approve hr/web-v2 -n apps',
    ]);
  });

  it('shows a gate being evaluated, a failed result, no value, and an unreachable cluster', () => {
    const hr = makeRelease({
      phase: 'Progressing',
      step: 2,
      conditions: releaseConditions({
        progressing: 'EvaluatingGate',
        unreachable: 'cluster b: connect ECONNREFUSED',
      }),
      clusters: [
        member('a', { updated: 1, target: 1, version: 'v2' }),
        member('b', { reachable: false, message: 'connect ECONNREFUSED 127.0.0.1:34567' }),
      ],
      gates: [
        {
          step: 2,
          state: 'Evaluating',
          successes: 0,
          failures: 1,
          results: [
            { cluster: 'a', value: 0.0213456, passed: false, at: '2026-01-01T00:05:30Z' },
            { cluster: 'b', passed: false, at: '2026-01-01T00:05:30Z', message: 'no series' },
          ],
        },
      ],
    });
    const lines = renderRelease(summarizeRelease(hr), now);
    expect(lines).toContain('Phase:      Progressing');
    expect(lines).toContain(
      '  b        [....................] 0/4  0       4/4    v1        unreachable: connect ECONNREFUSED 127.0.0.1:34567',
    );
    expect(lines).toContain('  step 2/5 Evaluating: 0/3 passed in a row, 1/2 failed, every 30s');
    expect(lines).toContain('    a  error_ratio{cluster="a"} = 0.02135 < 0.01 ✗');
    expect(lines).toContain('    b  error_ratio{cluster="b"}: no value (no series) ✗');
    expect(lines).toContain('  Reachable  False  ClustersUnreachable  cluster b: connect ECONNREFUSED');
    expect(lines.some((l) => l.startsWith('Next:'))).toBe(false);
  });

  it('shows where a failed release stopped, and how to go back', () => {
    const lines = renderRelease(summarizeRelease(finalRelease('Failed')), now);
    expect(lines).toContain('Phase:      Failed: GateFailed');
    expect(lines).toContain('Completed:  2026-01-01T01:00:00Z (in 54m)');
    expect(lines).toContain(
      '  ✗ 2  gate error_ratio{cluster="$cluster"} < 0.01 in a (every 30s, passes after 3 in a row, fails after 2)',
    );
    expect(lines).toContain('  Degraded  True  GateFailed  degraded: GateFailed');
    expect(lines.at(-1)).toBe(
      'Next:       roll every cluster back to its previous image with: kubectl hotupgrade rollback hr/web-v2 -n apps',
    );
  });

  it('says when a timed pause ends, what the spec asks, and when the hub has not caught up', () => {
    const hr = makeRelease({
      phase: 'Progressing',
      step: 2,
      generation: 3,
      observed: 2,
      stepStartedAt: '2026-01-01T00:05:00Z',
      conditions: releaseConditions({ paused: 'StepPaused' }),
      spec: {
        paused: true,
        steps: [{ upgrade: { replicas: 1 } }, { pause: { seconds: 120 } }, { upgrade: { replicas: '100%' } }],
      },
    });
    const lines = renderRelease(summarizeRelease(hr), now);
    expect(lines).toContain(
      'Status:     of generation 2; the spec is at 3 (the hub controller is catching up)',
    );
    expect(lines).toContain('Phase:      Progressing (spec.paused)');
    expect(lines).toContain('Step:       2/3 pause 2m; the next step starts at 2026-01-01T00:07:00Z (in 1m)');
  });

  it('says so when the hub has not written a status', () => {
    const lines = renderRelease(summarizeRelease(makeRelease({ noStatus: true })), now);
    expect(lines).toContain(
      'Status:     none yet: the hub controller has not seen this HotRelease (is it running?)',
    );
    expect(lines).toContain('Phase:      none yet');
    expect(lines.filter((l) => l.startsWith('  · '))).toHaveLength(5);
  });
});

describe('the pieces', () => {
  const gate: GateView = {
    step: 2,
    state: 'Evaluating',
    query: 'sum(rate(errors{cluster="$cluster"}[5m]))',
    op: '<=',
    threshold: 0.5,
    intervalSeconds: 60,
    successes: 0,
    samples: 1,
    failures: 0,
    failureLimit: 1,
    results: [],
  };

  it('writes a gate result as query = value op threshold, with the cluster in the query', () => {
    expect(gateResultLine(gate, { cluster: 'eu', value: 0.25, passed: true, at: '' })).toBe(
      'sum(rate(errors{cluster="eu"}[5m])) = 0.25 <= 0.5 ✓',
    );
    expect(gateResultLine(gate, { cluster: 'eu', passed: false, at: '', message: 'HTTP 503' })).toBe(
      'sum(rate(errors{cluster="eu"}[5m])): no value (HTTP 503) ✗',
    );
  });

  it.each<[number, string]>([
    [0.002, '0.002'],
    [0.0213456, '0.02135'],
    [1234567, '1235000'],
    [0, '0'],
  ])('writes %s as %s', (v, text) => {
    expect(formatValue(v)).toBe(text);
  });
});

describe('renderCreated', () => {
  it('names what was created, the plan, and the command to follow it', () => {
    const hr = makeRelease({ noStatus: true, spec: { autoRollback: true, progressDeadlineSeconds: 300 } });
    expect(renderCreated(hr, false)).toEqual([
      'hotrelease/web-v2 created in namespace apps: registry.example.com/web:v2 to hotdeployment/web (namespace apps) in clusters a, b',
      'rolls back by itself on a failure (autoRollback); an upgrade step may make no progress for 5m.',
      'Steps:',
      '  1  upgrade to 1 pod in a',
      '  2  gate error_ratio{cluster="$cluster"} < 0.01 in a (every 30s, passes after 3 in a row, fails after 2)',
      '  3  pause until approved',
      '  4  upgrade to 50% of the pods in every cluster',
      '  5  upgrade to 100% of the pods in every cluster',
      'Follow it with: kubectl hotupgrade status hr/web-v2 -n apps -w',
    ]);
  });

  it('says a dry run saved nothing', () => {
    const hr = makeRelease({
      noStatus: true,
      spec: { clusters: { selector: { matchLabels: { env: 'prod' } } } },
    });
    const lines = renderCreated(hr, true);
    expect(lines[0]).toBe(
      'hotrelease/web-v2 checked (dry run: the API server accepted it; nothing was saved) in namespace apps: registry.example.com/web:v2 to hotdeployment/web (namespace apps) in the clusters selected by env=prod',
    );
    expect(lines.at(-1)).toBe('Create it without --dry-run.');
  });
});
