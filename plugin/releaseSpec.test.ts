import { dumpYaml } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { HotRelease } from '../hub/api/types.ts';
import {
  buildRelease,
  checkImage,
  parseSelector,
  placeRelease,
  readRelease,
  selectorString,
  type ReleaseFlags,
} from './releaseSpec.ts';

const flags = (o: Partial<ReleaseFlags> = {}): ReleaseFlags => ({
  name: 'web-v2',
  target: 'web',
  image: 'r/web:v2',
  clusters: 'a,b',
  allClusters: false,
  steps: ['upgrade=1@a', 'pause', 'upgrade=100%'],
  autoRollback: false,
  ...o,
});

describe('buildRelease', () => {
  it('builds a HotRelease from the flags', () => {
    const r = buildRelease(
      flags({
        targetNamespace: 'shop',
        autoRollback: true,
        progressDeadline: '10m',
        prometheus: 'http://prom:9090',
      }),
    );
    expect(r).toEqual({
      ok: true,
      release: {
        apiVersion: 'hotupgrade.io/v1alpha1',
        kind: 'HotRelease',
        metadata: { name: 'web-v2' },
        spec: {
          target: { name: 'web', namespace: 'shop' },
          image: 'r/web:v2',
          clusters: { names: ['a', 'b'] },
          steps: [
            { upgrade: { clusters: ['a'], replicas: 1 } },
            { pause: { manual: true } },
            { upgrade: { replicas: '100%' } },
          ],
          prometheus: { url: 'http://prom:9090' },
          autoRollback: true,
          progressDeadlineSeconds: 600,
        },
      },
    });
  });

  it.each<[string, Partial<ReleaseFlags>, object]>([
    [
      'by label',
      { clusters: undefined, selector: 'env=prod' },
      { selector: { matchLabels: { env: 'prod' } } },
    ],
    ['every member cluster', { clusters: undefined, allClusters: true }, { selector: {} }],
  ])('selects the clusters %s', (_t, o, clusters) => {
    const r = buildRelease(flags(o));
    expect(r.ok ? r.release.spec.clusters : r.message).toEqual(clusters);
  });

  it.each<[string, Partial<ReleaseFlags>, string]>([
    ['a bad name', { name: 'Web_v2' }, 'NAME "Web_v2" is not a valid name for a HotRelease'],
    ['no target', { target: undefined }, '--target is missing: name the HotDeployment'],
    ['a bad target', { target: 'web.v2' }, '--target "web.v2" is not a HotDeployment name'],
    [
      'a bad target namespace',
      { targetNamespace: 'Shop' },
      '--target-namespace "Shop" is not a namespace name',
    ],
    ['no image', { image: undefined }, '--image is missing'],
    ['an image with a space', { image: 'r/web v2' }, '--image "r/web v2" is not an image reference'],
    ['a URL for an image', { image: 'https://r/web:v2' }, 'is a URL, not an image reference'],
    ['no clusters', { clusters: undefined }, 'no member clusters given: use --clusters a,b'],
    ['two ways to name clusters', { selector: 'env=prod' }, 'give the member clusters one way only'],
    ['a bad cluster', { clusters: 'a,B' }, '--clusters: "B" is not the name of a MemberCluster'],
    ['an empty selector', { clusters: undefined, selector: '' }, '--selector is empty'],
    ['no step', { steps: [] }, 'no --step given: a release has no default plan'],
    ['a bad step', { steps: ['upgrade=0'] }, '--step upgrade=0: "0" is neither'],
    ['a bad Prometheus', { prometheus: 'prom:9090' }, '--prometheus "prom:9090" is not an http or https URL'],
    ['a bad deadline', { progressDeadline: '0' }, '--progress-deadline "0" is not a deadline'],
  ])('refuses %s', (_t, o, words) => {
    const r = buildRelease(flags(o));
    expect(r.ok ? 'built' : r.message).toContain(words);
  });

  it('shows an example plan when there is no step', () => {
    const r = buildRelease(flags({ steps: [] }));
    expect(r.ok ? '' : r.message).toContain('--step upgrade=1@eu-west --step gate=');
  });
});

describe('selectors', () => {
  it('reads kubectl equality-based selectors', () => {
    expect(parseSelector('env=prod, tier==web,zone!=b,gpu,!legacy')).toEqual({
      ok: true,
      selector: {
        matchLabels: { env: 'prod', tier: 'web' },
        matchExpressions: [
          { key: 'zone', operator: 'NotIn', values: ['b'] },
          { key: 'gpu', operator: 'Exists' },
          { key: 'legacy', operator: 'DoesNotExist' },
        ],
      },
    });
  });

  it.each([
    ['env in (a,b)', 'has no valid label key'],
    ['env=prod,env=dev', 'contradicts env=prod'],
    ['!env=prod', 'mixes ! with a value'],
    ['env=a b', 'has no valid label value'],
  ])('refuses %s', (raw, words) => {
    const r = parseSelector(raw);
    expect(r.ok ? '' : r.message).toContain(words);
  });

  it('writes a selector as the API reads it', () => {
    expect(
      selectorString({
        matchLabels: { env: 'prod' },
        matchExpressions: [
          { key: 'zone', operator: 'In', values: ['a', 'b'] },
          { key: 'x', operator: 'NotIn', values: ['c'] },
          { key: 'gpu', operator: 'Exists' },
          { key: 'old', operator: 'DoesNotExist' },
        ],
      }),
    ).toBe('env=prod,zone in (a,b),x notin (c),gpu,!old');
    expect(selectorString({})).toBe('');
  });

  it.each([
    ['r/web:v2', undefined],
    ['web@sha256:abc', undefined],
    ['', 'is not an image reference'],
    ['-web', 'is not an image reference'],
  ])('image %j: %s', (image, words) => {
    const why = checkImage(image);
    if (words === undefined) expect(why).toBeUndefined();
    else expect(why).toContain(words);
  });
});

describe('readRelease', () => {
  const built = buildRelease(flags());
  const hr = built.ok ? built.release : ({} as HotRelease);

  it('reads YAML and JSON', () => {
    expect(readRelease(dumpYaml(hr), 'r.yaml')).toEqual({ ok: true, release: hr });
    expect(readRelease(JSON.stringify(hr), 'r.json')).toEqual({ ok: true, release: hr });
    expect(readRelease(`---\n${dumpYaml(hr)}---\n`, 'r.yaml').ok).toBe(true);
  });

  it.each<[string, string, string]>([
    ['not YAML', 'a: [b', 'r.yaml: not YAML or JSON'],
    ['empty', '', 'r.yaml: no object in it'],
    [
      'two objects',
      `${dumpYaml(hr)}---\n${dumpYaml(hr)}`,
      '2 objects in it; release creates one HotRelease per file',
    ],
    ['a list', '- a', 'r.yaml: not an object'],
    [
      'another kind',
      'apiVersion: apps/v1\nkind: Deployment\n',
      'kind Deployment (apiVersion apps/v1) is not a HotRelease',
    ],
    ['no name', dumpYaml({ ...hr, metadata: {} }), 'metadata.name is missing'],
    [
      'generateName',
      dumpYaml({ ...hr, metadata: { generateName: 'x-' } }),
      'metadata.generateName is not supported',
    ],
    ['a status', dumpYaml({ ...hr, status: { phase: 'Succeeded' } }), 'has a status'],
  ])('refuses %s', (_t, text, words) => {
    const r = readRelease(text, 'r.yaml');
    expect(r.ok ? 'read' : r.message).toContain(words);
  });
});

describe('placeRelease', () => {
  const hr = (ns?: string): HotRelease =>
    ({ metadata: { name: 'r', ...(ns ? { namespace: ns } : {}) } }) as HotRelease;
  it.each<[string | undefined, string, boolean, string | undefined, string | undefined]>([
    [undefined, 'apps', false, 'apps', undefined],
    [undefined, 'apps', true, 'apps', undefined],
    ['shop', 'default', false, 'shop', undefined],
    ['shop', 'shop', true, 'shop', undefined],
    ['shop', 'apps', true, undefined, 'metadata.namespace "shop" does not match -n apps'],
  ])('a release in %s, -n %s (given: %s), goes to %s', (own, ns, explicit, to, words) => {
    const r = placeRelease(hr(own), ns, explicit);
    if (to) expect(r.ok ? r.release.metadata.namespace : r.message).toBe(to);
    else expect(r.ok ? 'placed' : r.message).toContain(words);
  });
});
