import { describe, expect, it } from 'vitest';
import type { ReleaseStep } from '../hub/api/types.ts';
import {
  describeStep,
  optionsStart,
  parseReplicas,
  parseSeconds,
  parseStep,
  seconds,
  shorten,
} from './steps.ts';

describe('parseStep', () => {
  it.each<[string, ReleaseStep]>([
    ['upgrade=1', { upgrade: { replicas: 1 } }],
    ['upgrade=25%', { upgrade: { replicas: '25%' } }],
    ['upgrade=25%@eu-west,us-east', { upgrade: { clusters: ['eu-west', 'us-east'], replicas: '25%' } }],
    ['upgrade=100%', { upgrade: { replicas: '100%' } }],
    ['pause=60', { pause: { seconds: 60 } }],
    ['pause=5m', { pause: { seconds: 300 } }],
    ['pause=1h30m', { pause: { seconds: 5400 } }],
    ['pause', { pause: { manual: true } }],
    ['pause=manual', { pause: { manual: true } }],
    [
      'gate=error_ratio{cluster="$cluster"} < 0.01',
      { gate: { query: 'error_ratio{cluster="$cluster"}', threshold: { op: '<', value: 0.01 } } },
    ],
    ['gate=up>=1', { gate: { query: 'up', threshold: { op: '>=', value: 1 } } }],
    ['gate=x<=1e-3', { gate: { query: 'x', threshold: { op: '<=', value: 0.001 } } }],
    [
      // The query's own comparison, braces and commas stay in the query: the threshold is
      // the comparison right before the final number.
      'gate=sum(rate(x{a="1",b=~"5.."}[5m])) > 0 and y{c="d"} > 0.5',
      {
        gate: {
          query: 'sum(rate(x{a="1",b=~"5.."}[5m])) > 0 and y{c="d"}',
          threshold: { op: '>', value: 0.5 },
        },
      },
    ],
    [
      'gate=x{path="a;b"} < 2; interval=30; failures=2; samples=3; clusters=a,b; prometheus=http://p:9090',
      {
        gate: {
          query: 'x{path="a;b"}',
          threshold: { op: '<', value: 2 },
          intervalSeconds: 30,
          failureLimit: 2,
          samples: 3,
          clusters: ['a', 'b'],
          prometheus: { url: 'http://p:9090' },
        },
      },
    ],
    [
      'gate=x < 2;interval=1m;failureLimit=3;',
      { gate: { query: 'x', threshold: { op: '<', value: 2 }, intervalSeconds: 60, failureLimit: 3 } },
    ],
  ])('reads %s', (spec, step) => {
    expect(parseStep(spec)).toEqual({ ok: true, step });
  });

  it.each<[string, string]>([
    ['upgrade=0', '"0" is neither a number of pods >= 1 nor a percent from 1% to 100%'],
    ['upgrade=0%', '"0%" is neither a number of pods'],
    ['upgrade=101%', '"101%" is neither'],
    ['upgrade=half', 'write e.g. upgrade=1, upgrade=25% or upgrade=25%@eu-west,us-east'],
    ['upgrade=1@*', '"*" is not a cluster name; leave the clusters out for every cluster of the release'],
    ['upgrade=1@EU', '"EU" is not the name of a MemberCluster'],
    ['upgrade=1@a,a', 'cluster "a" is named twice'],
    ['upgrade', 'is not a step; write upgrade=N'],
    ['pause=0', '"0" is not a pause; write pause=60 (seconds), pause=5m (1s to 24h)'],
    ['pause=25h', '"25h" is not a pause'],
    ['pause=1.5s', '"1.5s" is not a pause'],
    ['gate=x', 'a gate is QUERY OP VALUE'],
    ['gate=x == 1', 'a gate is QUERY OP VALUE'],
    ['gate=< 1', 'the gate has no query before <'],
    ['gate=x < 1; bogus=2', '"bogus=2" is not a gate option; write interval=..., failures=...'],
    ['gate=x < 1; interval=0', 'interval=0: the seconds between evaluations: 1 to 3600'],
    ['gate=x < 1; samples=101', 'samples=101: the passed evaluations in a row that pass the gate: 1 to 100'],
    ['gate=x < 1; prometheus=ftp://p', 'prometheus=ftp://p: "ftp://p" is not an http or https URL'],
    ['gate=x < 1; clusters=a;b', '"b" is not a gate option'],
    ['deploy=1', '--step "deploy=1" is not a step'],
  ])('refuses %s, saying %s', (spec, words) => {
    const r = parseStep(spec);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.message).toContain(words);
  });
});

describe('the pieces', () => {
  it.each<[string, number | string | undefined]>([
    ['1', 1],
    ['100%', '100%'],
    ['07%', '7%'],
    ['0', undefined],
    ['-1', undefined],
    ['1.5', undefined],
    ['', undefined],
  ])('replicas %s is %s', (raw, v) => {
    expect(parseReplicas(raw)).toBe(v);
  });

  it.each<[string, number | undefined]>([
    ['60', 60],
    ['90s', 90],
    ['2m', 120],
    ['0', undefined],
    ['500ms', undefined],
    ['2h', undefined],
  ])('%s is %s seconds (at most an hour)', (raw, s) => {
    expect(parseSeconds(raw, 3600)).toBe(s);
  });

  it.each<[string, string]>([
    ['x < 1', 'x < 1'],
    ['x < 1; a=1', 'x < 1'],
    ['x{a="b;c"} < 1; a=1', 'x{a="b;c"} < 1'],
    ["x{a='b;c'} < 1", "x{a='b;c'} < 1"],
    ['x{a="b\\";c"} < 1; a=1', 'x{a="b\\";c"} < 1'],
    ['x{a=`b;c`} < 1;', 'x{a=`b;c`} < 1'],
  ])('the options of %s follow %s (a ";" in a PromQL string is not theirs)', (body, head) => {
    const i = optionsStart(body);
    expect(i < 0 ? body : body.slice(0, i)).toBe(head);
  });

  it('writes seconds and shortens text', () => {
    expect([seconds(45), seconds(60), seconds(90), seconds(3600), seconds(5430)]).toEqual([
      '45s',
      '1m',
      '1m30s',
      '1h',
      '1h30m30s',
    ]);
    expect(shorten('a   b\n c', 10)).toBe('a b c');
    expect(shorten('abcdefghijkl', 6)).toBe('abcde…');
  });
});

describe('describeStep', () => {
  it.each<[ReleaseStep, string]>([
    [{ upgrade: { replicas: 1, clusters: ['a'] } }, 'upgrade to 1 pod in a'],
    [{ upgrade: { replicas: 3, clusters: ['a', 'b'] } }, 'upgrade to 3 pods in a, b'],
    [{ upgrade: { replicas: '50%' } }, 'upgrade to 50% of the pods in every cluster'],
    [{ pause: { seconds: 300 } }, 'pause 5m'],
    [{ pause: { manual: true } }, 'pause until approved'],
    [
      {
        gate: {
          query: 'x',
          threshold: { op: '<', value: 0.01 },
          intervalSeconds: 30,
          samples: 3,
          failureLimit: 2,
        },
      },
      'gate x < 0.01 in every cluster (every 30s, passes after 3 in a row, fails after 2)',
    ],
    [
      { gate: { query: `rate(${'x'.repeat(80)}[5m])`, threshold: { op: '>=', value: 1 }, clusters: ['a'] } },
      `gate rate(${'x'.repeat(54)}… >= 1 in a (every 1m, passes after 1 in a row, fails after 1)`,
    ],
  ])('%j is "%s"', (step, words) => {
    expect(describeStep(step)).toBe(words);
  });
});
