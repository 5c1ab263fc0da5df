import { describe, expect, it } from 'vitest';
import type { MemberCluster } from './api/types.ts';
import { matchesSelector, selectMembers } from './select.ts';

const mc = (name: string, labels: Record<string, string> = {}): MemberCluster => ({
  apiVersion: 'hotupgrade.io/v1alpha1',
  kind: 'MemberCluster',
  metadata: { name, labels },
  spec: { inCluster: true },
});

const ALL = [
  mc('us-east', { env: 'prod', region: 'us' }),
  mc('eu-west', { env: 'prod', region: 'eu' }),
  mc('dev', { env: 'dev' }),
];

describe('selectMembers', () => {
  it('keeps spec.clusters.names as written, existing or not (the planner reports a missing one)', () => {
    expect(selectMembers({ names: ['eu-west', 'nowhere'] }, ALL)).toEqual({ names: ['eu-west', 'nowhere'] });
  });

  it('selects by labels, sorted by name; {} selects every cluster', () => {
    expect(selectMembers({ selector: { matchLabels: { env: 'prod' } } }, ALL).names).toEqual([
      'eu-west',
      'us-east',
    ]);
    expect(selectMembers({ selector: {} }, ALL).names).toEqual(['dev', 'eu-west', 'us-east']);
  });

  it('says so when a selector selects nothing', () => {
    expect(selectMembers({ selector: { matchLabels: { env: 'staging' } } }, ALL)).toEqual({
      names: [],
      problem:
        'spec.clusters.selector selects no MemberCluster (of 3): label the MemberClusters (kubectl label membercluster NAME KEY=VALUE) or fix the selector',
    });
  });

  it('leaves out MemberClusters being deleted', () => {
    const gone = {
      ...mc('old', { env: 'prod' }),
      metadata: { name: 'old', labels: { env: 'prod' }, deletionTimestamp: new Date('2026-11-29T00:00:00Z') },
    };
    expect(selectMembers({ selector: { matchLabels: { env: 'prod' } } }, [...ALL, gone]).names).toEqual([
      'eu-west',
      'us-east',
    ]);
  });
});

describe('matchesSelector', () => {
  it.each([
    [{ matchExpressions: [{ key: 'region', operator: 'In', values: ['eu', 'us'] }] }, { region: 'eu' }, true],
    [{ matchExpressions: [{ key: 'region', operator: 'In', values: ['eu'] }] }, {}, false],
    [{ matchExpressions: [{ key: 'region', operator: 'NotIn', values: ['eu'] }] }, {}, true],
    [{ matchExpressions: [{ key: 'region', operator: 'NotIn', values: ['eu'] }] }, { region: 'eu' }, false],
    [{ matchExpressions: [{ key: 'canary', operator: 'Exists' }] }, { canary: '' }, true],
    [{ matchExpressions: [{ key: 'canary', operator: 'DoesNotExist' }] }, { canary: '' }, false],
    [
      { matchLabels: { env: 'prod' }, matchExpressions: [{ key: 'canary', operator: 'Exists' }] },
      { env: 'prod' },
      false,
    ],
    [{ matchExpressions: [{ key: 'x', operator: 'Gt', values: ['1'] }] }, { x: '2' }, false],
  ])('%j on %j: %s', (sel, labels, want) => {
    expect(matchesSelector(sel, labels)).toBe(want);
  });
});
