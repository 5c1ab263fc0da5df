// The hub's CRDs (MemberCluster, HotRelease) on a real kube-apiserver: accepted as
// generated, defaults applied, the examples of docs/crd-reference.md valid, bad objects
// rejected with messages that name the field, and the user's actions (approve, pause,
// resume, abort, roll back) plain kubectl patches, with the ones that cannot be undone
// refused. No hub controller runs: status is written by the test.
import { readFileSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient } from '../../controller/kube/client.ts';
import type { KubeResult } from '../../controller/kube/types.ts';
import {
  hotReleaseCrd,
  hotReleaseCrdManifest,
  memberClusterCrd,
  memberClusterCrdManifest,
} from '../../hub/api/crd.ts';
import type {
  HotRelease,
  HotReleaseSpec,
  HotReleaseStatus,
  MemberCluster,
  MemberClusterSpec,
  MemberClusterStatus,
  ReleaseStep,
} from '../../hub/api/types.ts';
import { checkTier, kubectl, until, useControlPlane, type TestCluster } from '../cluster/harness.ts';

const skip = checkTier('control-plane');

const BASE = '/apis/hotupgrade.io/v1alpha1';
const MANIFESTS = [memberClusterCrdManifest(), hotReleaseCrdManifest()];

/** A valid MemberCluster: a kubeconfig in a Secret, a Prometheus, labels to select it by. */
function makeMemberCluster(
  name: string,
  edit: (s: MemberClusterSpec) => void = () => undefined,
): MemberCluster {
  const mc: MemberCluster = {
    apiVersion: 'hotupgrade.io/v1alpha1',
    kind: 'MemberCluster',
    metadata: { name, labels: { env: 'prod' } },
    spec: {
      kubeconfigSecretRef: { namespace: 'hotupgrade', name: `${name}-kubeconfig` },
      prometheus: { url: 'http://prometheus.monitoring:9090' },
    },
  };
  edit(mc.spec);
  return mc;
}

const upgrade = (replicas: number | string, clusters?: string[]): ReleaseStep => ({
  upgrade: clusters ? { clusters, replicas } : { replicas },
});

/** A valid HotRelease to clusters a, b, c: canary 1 pod in a, a gate there, manual approval, 50%, 100%. */
function makeHotRelease(name: string, edit: (s: HotReleaseSpec) => void = () => undefined): HotRelease {
  const hr: HotRelease = {
    apiVersion: 'hotupgrade.io/v1alpha1',
    kind: 'HotRelease',
    metadata: { name },
    spec: {
      target: { name: 'demo' },
      image: 'hotupgrade.local/demo:v2',
      clusters: { names: ['a', 'b', 'c'] },
      steps: [
        upgrade(1, ['a']),
        {
          gate: {
            clusters: ['a'],
            query: 'sum(rate(http_requests_total{cluster="$cluster",code=~"5.."}[5m]))',
            threshold: { op: '<', value: 0.01 },
          },
        },
        { pause: { manual: true } },
        upgrade('50%'),
        upgrade('100%'),
      ],
    },
  };
  edit(hr.spec);
  return hr;
}

/** The step at `i` of a spec, which the edit expects to be there. */
const step = (s: HotReleaseSpec, i: number): ReleaseStep => {
  const st = s.steps[i];
  if (!st) throw new Error(`no step ${i}`);
  return st;
};
const gateOf = (s: HotReleaseSpec) => {
  const g = step(s, 1).gate;
  if (!g) throw new Error('step 1 is not a gate');
  return g;
};

/** The ```yaml blocks of docs/crd-reference.md that hold an object of `kind`. */
function docExamples(kind: string): Record<string, unknown>[] {
  const doc = readFileSync(new URL('../../docs/crd-reference.md', import.meta.url), 'utf8');
  return [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)]
    .flatMap((m) => k8s.loadAllYaml(m[1] ?? '') as Record<string, unknown>[])
    .filter((o) => o?.kind === kind);
}

describe.skipIf(skip)('the hub CRDs on a real API server', () => {
  let cluster: TestCluster;
  let kc: k8s.KubeConfig;
  let client: KubeClient;
  const ns = `hub-crd-${Date.now()}`;
  const releases = `${BASE}/namespaces/${ns}/hotreleases`;
  const members = `${BASE}/memberclusters`;
  /** MemberClusters are cluster-scoped: a suffix keeps runs against a user's cluster apart. */
  const suffix = `-${Date.now() % 100000}`;
  const created: string[] = [];

  const createRelease = (hr: HotRelease, dryRun = false) =>
    client.create<HotRelease>(releases, hr, { dryRun });
  const createMember = async (mc: MemberCluster, dryRun = false) => {
    const r = await client.create<MemberCluster>(members, mc, { dryRun });
    if (r.ok && !dryRun) created.push(`${members}/${mc.metadata.name}`);
    return r;
  };
  const expectOk = (r: KubeResult<unknown>) => expect(r.ok, r.ok ? '' : r.message).toBe(true);
  const expectInvalid = (r: KubeResult<unknown>, messages: string[]) => {
    expect(r.ok ? 'accepted' : r.reason).toBe('Invalid');
    for (const m of messages) expect(r.ok ? '' : r.message).toContain(m);
  };
  const patchRelease = (name: string, spec: unknown) =>
    client.patch<HotRelease>(`${releases}/${name}`, { spec }, 'merge');

  beforeAll(async () => {
    const t0 = Date.now();
    cluster = await useControlPlane('it-hub-crd');
    kc = new k8s.KubeConfig();
    kc.loadFromFile(cluster.kubeconfig);
    client = await KubeClient.fromKubeConfig(kc, { fieldManager: 'hub-crd-test' });
    console.log(`[hub-crd] control plane up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    // Through client-node's typed API, as a user's tooling would.
    const ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
    for (const crd of [memberClusterCrd(), hotReleaseCrd()]) {
      const name = crd.metadata?.name ?? '';
      try {
        await ext.createCustomResourceDefinition({ body: crd });
      } catch (e) {
        if (!(e instanceof k8s.ApiException) || e.code !== 409) throw e;
        const old = await ext.readCustomResourceDefinition({ name });
        crd.metadata = { ...crd.metadata, resourceVersion: old.metadata?.resourceVersion };
        await ext.replaceCustomResourceDefinition({ name, body: crd });
      }
      await until(`CRD ${name} established`, async () => {
        const c = await ext.readCustomResourceDefinition({ name });
        return (
          c.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True') || undefined
        );
      });
    }
    expectOk(await client.create('/api/v1/namespaces', { metadata: { name: ns } }));
    // The schema can reach the handler a moment after Established.
    await until('HotReleases and MemberClusters served', async () =>
      (await createRelease(makeHotRelease('probe'), true)).ok &&
      (await createMember(makeMemberCluster(`probe${suffix}`), true)).ok
        ? true
        : undefined,
    );
    console.log(`[hub-crd] CRDs established and served after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });

  afterAll(async () => {
    if (client && !cluster?.ours) {
      await client.delete(`/api/v1/namespaces/${ns}`);
      for (const path of created) await client.delete(path);
    }
    await client?.close();
    await cluster?.stop();
  });

  it.each(MANIFESTS.map((m) => [m.metadata.name, m] as const))(
    'stores %s as generated: client-node drops nothing on the way',
    async (name, manifest) => {
      const r = await client.get<{ spec: typeof manifest.spec }>(
        `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`,
      );
      if (!r.ok) throw new Error(r.message);
      const spec = r.body.spec;
      expect(spec.names).toMatchObject(manifest.spec.names);
      expect(spec.scope).toBe(manifest.spec.scope);
      expect(spec.versions[0]?.schema).toEqual(manifest.spec.versions[0]?.schema);
      expect(spec.versions[0]?.subresources).toEqual({ status: {} });
      expect(spec.versions[0]?.additionalPrinterColumns).toEqual(
        manifest.spec.versions[0]?.additionalPrinterColumns,
      );
    },
  );

  it('accepts the examples of docs/crd-reference.md', async () => {
    const mcs = docExamples('MemberCluster');
    const hrs = docExamples('HotRelease');
    expect(mcs.length).toBeGreaterThanOrEqual(2);
    expect(hrs.length).toBeGreaterThanOrEqual(1);
    for (const mc of mcs) expectOk(await client.create(members, mc, { dryRun: true }));
    for (const hr of hrs)
      expectOk(await client.create(releases, { ...hr, metadata: { name: 'doc' } }, { dryRun: true }));
  });

  it('applies the defaults', async () => {
    const hr = await createRelease(makeHotRelease('defaults'), true);
    if (!hr.ok) throw new Error(hr.message);
    expect(hr.body.spec).toMatchObject({
      autoRollback: false,
      progressDeadlineSeconds: 600,
      paused: false,
      abort: false,
      rollback: false,
    });
    expect(hr.body.spec.steps[1]?.gate).toMatchObject({ intervalSeconds: 60, failureLimit: 1, samples: 1 });
    const mc = await createMember(makeMemberCluster(`defaults${suffix}`), true);
    if (!mc.ok) throw new Error(mc.message);
    expect(mc.body.spec.kubeconfigSecretRef?.key).toBe('kubeconfig');
  });

  const long = (n: number) => 'a'.repeat(n);
  const badReleases: [string, (s: HotReleaseSpec) => void, string[]][] = [
    [
      'clusters by names and by selector',
      (s) => (s.clusters.selector = { matchLabels: { env: 'prod' } }),
      ['spec.clusters: set either names (a list of MemberClusters) or selector', 'not both and not neither'],
    ],
    [
      'no clusters at all',
      (s) => (s.clusters = {}),
      ['spec.clusters: set either names', 'not both and not neither'],
    ],
    [
      'the same cluster twice',
      (s) => (s.clusters.names = ['a', 'b', 'a']),
      ['spec.clusters.names[2]: Duplicate value: "a"'],
    ],
    [
      '"*" as a cluster name',
      (s) => (s.clusters.names = ['*']),
      [
        'spec.clusters.names[0]',
        'spec.clusters.names[]: "*" is not a cluster name; use selector: {} for every member cluster',
      ],
    ],
    [
      '"*" as the clusters of an upgrade step',
      (s) => (s.steps[3] = upgrade('50%', ['*'])),
      [
        'spec.steps[3].upgrade.clusters[0]',
        'spec.steps[].upgrade.clusters[]: "*" is not a cluster name; leave out clusters for every cluster of the release',
      ],
    ],
    [
      'a cluster name with capitals',
      (s) => (s.clusters.names = ['EU_West']),
      ['spec.clusters.names[]: "EU_West" is not the name of a MemberCluster'],
    ],
    [
      'an upgrade step naming a cluster outside spec.clusters.names',
      (s) => (s.steps[0] = upgrade(1, ['d'])),
      ['spec.steps: a step names a cluster that is not in spec.clusters.names (a, b, c); add it there'],
    ],
    [
      'a gate naming a cluster outside spec.clusters.names',
      (s) => (gateOf(s).clusters = ['a', 'z']),
      ['spec.steps: a step names a cluster that is not in spec.clusters.names (a, b, c)'],
    ],
    [
      'a step that both upgrades and pauses',
      (s) => (step(s, 2).upgrade = { replicas: 2 }),
      ['spec.steps[2]', 'spec.steps[]: set exactly one of upgrade, pause and gate in each step'],
    ],
    [
      'an empty step',
      (s) => (s.steps[2] = {}),
      ['spec.steps[2]', 'set exactly one of upgrade, pause and gate'],
    ],
    [
      'a pause both timed and manual',
      (s) => (s.steps[2] = { pause: { seconds: 60, manual: true } }),
      ['spec.steps[2].pause', 'spec.steps[].pause: set either seconds (a timed pause) or manual: true'],
    ],
    [
      'a pause with manual: false only',
      (s) => (s.steps[2] = { pause: { manual: false } }),
      ['spec.steps[2].pause', 'set either seconds'],
    ],
    [
      'a pause over a day',
      (s) => (s.steps[2] = { pause: { seconds: 86401 } }),
      ['spec.steps[2].pause.seconds: Invalid value: 86401'],
    ],
    [
      'an upgrade of 0 pods',
      (s) => (s.steps[0] = upgrade(0, ['a'])),
      [
        'spec.steps[0].upgrade.replicas',
        'spec.steps[].upgrade.replicas: 0 is neither a number of pods >= 1 nor a percent of the replicas of the target in the cluster from "1%" to "100%"',
      ],
    ],
    [
      'an upgrade of "0%"',
      (s) => (s.steps[3] = upgrade('0%')),
      ['spec.steps[3].upgrade.replicas', '"0%" is neither'],
    ],
    [
      'an upgrade of "150%"',
      (s) => (s.steps[3] = upgrade('150%')),
      ['spec.steps[3].upgrade.replicas', '"150%" is neither'],
    ],
    [
      'fewer pods in a cluster than an earlier step',
      (s) => s.steps.splice(1, 0, upgrade(3, ['a', 'b']), upgrade(2, ['b'])),
      ['spec.steps: upgrade replicas are cumulative per cluster', 'counts must not decrease, nor percents'],
    ],
    [
      'a lower percent for one cluster than for all before',
      (s) => s.steps.splice(4, 0, upgrade('25%', ['c'])),
      ['spec.steps: upgrade replicas are cumulative per cluster'],
    ],
    [
      'no step to "100%" of every cluster',
      (s) => (s.steps[4] = upgrade('100%', ['a', 'b', 'c'])),
      [
        'spec.steps: no step takes every cluster to "100%"; end the upgrades with a step upgrade: {replicas: "100%"}',
      ],
    ],
    [
      'no steps',
      (s) => (s.steps = []),
      ['spec.steps: Invalid value: 0: spec.steps in body should have at least 1 items'],
    ],
    [
      'more than 50 steps',
      (s) => (s.steps = [...Array.from({ length: 50 }, () => ({ pause: { seconds: 1 } })), upgrade('100%')]),
      ['spec.steps: Too many: 51: must have at most 50 items'],
    ],
    [
      'a gate threshold with an unknown operator',
      (s) => Object.assign(gateOf(s).threshold, { op: '==' }),
      ['spec.steps[1].gate.threshold.op: Unsupported value: "=="'],
    ],
    [
      'a gate without a query',
      (s) => Reflect.deleteProperty(gateOf(s), 'query'),
      ['spec.steps[1].gate.query: Required value'],
    ],
    [
      'a gate evaluated every 0 s',
      (s) => (gateOf(s).intervalSeconds = 0),
      ['spec.steps[1].gate.intervalSeconds: Invalid value: 0'],
    ],
    [
      'a gate with a failure limit of 0',
      (s) => (gateOf(s).failureLimit = 0),
      ['spec.steps[1].gate.failureLimit: Invalid value: 0'],
    ],
    [
      'a gate whose Prometheus is not an http URL',
      (s) => (gateOf(s).prometheus = { url: 'ftp://prometheus:9090' }),
      [
        'spec.steps[1].gate.prometheus.url',
        'spec.steps[].gate.prometheus.url: must be the http or https URL of a Prometheus API',
      ],
    ],
    [
      'a global Prometheus without a scheme',
      (s) => (s.prometheus = { url: 'prometheus:9090' }),
      [
        'spec.prometheus.url: Invalid value',
        'spec.prometheus.url: must be the http or https URL of a Prometheus API',
      ],
    ],
    ['an empty image', (s) => (s.image = ''), ['spec.image: Invalid value: ""']],
    ['an image with a space', (s) => (s.image = 'demo v2'), ['spec.image: Invalid value: "demo v2"']],
    ['a target without a name', (s) => (s.target = { name: '' }), ['spec.target.name: Invalid value: ""']],
    ['an approval of step 0', (s) => (s.approved = { step: 0 }), ['spec.approved.step: Invalid value: 0']],
    ['a target name too long', (s) => (s.target.name = long(64)), ['spec.target.name: Too long']],
  ];

  it.each(badReleases)('rejects a HotRelease with %s, naming the field', async (_title, edit, messages) => {
    expectInvalid(await createRelease(makeHotRelease('bad', edit), true), messages);
  });

  const badMembers: [string, (s: MemberClusterSpec) => void, string[]][] = [
    [
      'a kubeconfig and inCluster',
      (s) => (s.inCluster = true),
      ['spec.kubeconfigSecretRef or spec.inCluster: set exactly one'],
    ],
    [
      'neither a kubeconfig nor inCluster',
      (s) => Reflect.deleteProperty(s, 'kubeconfigSecretRef'),
      ['spec.kubeconfigSecretRef or spec.inCluster: set exactly one'],
    ],
    [
      'inCluster: false only',
      (s) => {
        delete s.kubeconfigSecretRef;
        s.inCluster = false;
      },
      ['spec.kubeconfigSecretRef or spec.inCluster: set exactly one'],
    ],
    [
      'a Secret without a namespace',
      (s) => (s.kubeconfigSecretRef = { name: 'x' } as MemberClusterSpec['kubeconfigSecretRef']),
      ['spec.kubeconfigSecretRef.namespace: Required value'],
    ],
    [
      'a Secret key with a slash',
      (s) => (s.kubeconfigSecretRef = { namespace: 'hotupgrade', name: 'x', key: 'a/b' }),
      ['spec.kubeconfigSecretRef.key: Invalid value: "a/b"'],
    ],
    [
      'a Prometheus URL without a host',
      (s) => (s.prometheus = { url: 'http://' }),
      ['spec.prometheus.url: must be the http or https URL of a Prometheus API'],
    ],
  ];

  it.each(badMembers)('rejects a MemberCluster with %s, naming the field', async (_title, edit, messages) => {
    expectInvalid(await createMember(makeMemberCluster(`bad${suffix}`, edit), true), messages);
  });

  it('rejects a MemberCluster name longer than a label value', async () => {
    expectInvalid(await createMember(makeMemberCluster(long(64)), true), [
      'metadata.name: must have at most 63 characters',
    ]);
  });

  it('accepts the edge cases next to the bad ones', async () => {
    const ok: ((s: HotReleaseSpec) => void)[] = [
      (s) => (s.clusters = { selector: {} }),
      (s) =>
        (s.clusters = { selector: { matchExpressions: [{ key: 'env', operator: 'In', values: ['prod'] }] } }),
      // With a selector, steps may name clusters the API server cannot check.
      (s) => (s.clusters = { selector: { matchLabels: { env: 'prod' } } }),
      (s) => (s.steps = [upgrade('100%')]),
      (s) =>
        (s.steps = [
          upgrade('1%', ['a']),
          upgrade(1, ['a']),
          upgrade('1%'),
          upgrade(1, ['b']),
          upgrade('100%'),
        ]),
      // A count and a percent are not compared; the same count again is no decrease.
      (s) => s.steps.splice(1, 0, upgrade(5, ['a']), upgrade(5, ['a', 'b']), upgrade('10%', ['a'])),
      (s) => (s.steps[2] = { pause: { seconds: 86400 } }),
      (s) => {
        const g = gateOf(s);
        g.threshold = { op: '>=', value: 99.5 };
        g.intervalSeconds = 3600;
        g.failureLimit = 100;
        g.samples = 100;
        g.prometheus = { url: 'https://thanos.example.com/prometheus' };
        delete g.clusters;
      },
      (s) => (s.target = { name: 'demo', namespace: 'apps' }),
      (s) => (s.image = 'registry.example.com:5000/team/demo@sha256:' + 'a'.repeat(64)),
      (s) => (s.clusters.names = ['a', 'b', 'c', ...Array.from({ length: 97 }, (_, i) => `cluster-${i}.eu`)]),
    ];
    for (const [i, edit] of ok.entries()) {
      const r = await createRelease(makeHotRelease(`ok-${i}`, edit), true);
      expect(r.ok, `ok-${i}: ${r.ok ? '' : r.message}`).toBe(true);
    }
    expectOk(
      await createMember(
        makeMemberCluster(`hub${suffix}`, (s) => {
          delete s.kubeconfigSecretRef;
          s.inCluster = true;
        }),
        true,
      ),
    );
    expectOk(await createMember(makeMemberCluster(long(63)), true));
  });

  describe("a user's actions are spec changes", () => {
    const name = 'actions';
    /** kubectl patch, as docs/crd-reference.md gives it; resolves to stdout or the error. */
    const kpatch = (patch: unknown) =>
      kubectl(cluster, [
        '-n',
        ns,
        'patch',
        'hotrelease',
        name,
        '--type',
        'merge',
        '-p',
        JSON.stringify(patch),
      ]).then(
        (out) => ({ ok: true, out }),
        (e: unknown) => ({ ok: false, out: String(e) }),
      );
    beforeAll(async () => expectOk(await createRelease(makeHotRelease(name))));

    it('approves, raises the approval, pauses, resumes and changes the steps with kubectl patch', async () => {
      for (const patch of [
        { spec: { approved: { step: 3 } } },
        { spec: { approved: { step: 4 } } },
        { spec: { paused: true } },
        { spec: { paused: false } },
        { spec: { steps: makeHotRelease(name).spec.steps.filter((s) => !s.pause) } },
      ]) {
        const r = await kpatch(patch);
        expect(r.ok, r.out).toBe(true);
      }
    });

    it('rejects a change of spec.image: another image is another HotRelease', async () => {
      const r = await patchRelease(name, { image: 'hotupgrade.local/demo:v3' });
      expectInvalid(r, [
        'spec.image is immutable: a HotRelease rolls out one image; to roll out another, create a new HotRelease',
      ]);
    });

    it('rejects a change of spec.target', async () => {
      expectInvalid(await patchRelease(name, { target: { name: 'other' } }), ['spec.target is immutable']);
      expectInvalid(await patchRelease(name, { target: { namespace: ns } }), ['spec.target is immutable']);
    });

    it('rejects a lower approval and the removal of one', async () => {
      expectInvalid(await patchRelease(name, { approved: { step: 2 } }), [
        'spec.approved.step: an approval cannot be lowered or removed (it was 4); to hold the release, set spec.paused: true',
      ]);
      expectInvalid(await patchRelease(name, { approved: null }), [
        'spec.approved.step: an approval cannot be lowered',
      ]);
    });

    it('aborts, refuses to un-abort, rolls back after the abort, and refuses to undo the rollback', async () => {
      expect((await kpatch({ spec: { abort: true } })).ok).toBe(true);
      expectInvalid(await patchRelease(name, { abort: false }), [
        'spec.abort: an aborted release stays aborted; to roll it back set spec.rollback: true',
      ]);
      expect((await kpatch({ spec: { rollback: true } })).ok).toBe(true);
      expectInvalid(await patchRelease(name, { rollback: false }), [
        'spec.rollback: a rollback cannot be undone',
      ]);
      const r = await kpatch({ spec: { abort: false } });
      expect(r.ok).toBe(false);
      expect(r.out).toContain('spec.abort: an aborted release stays aborted');
    });
  });

  describe('status and printer columns', () => {
    const status: HotReleaseStatus = {
      observedGeneration: 1,
      phase: 'Paused',
      currentStep: 3,
      stepStartedAt: '2025-01-01T00:10:00Z',
      lastProgressTime: '2025-01-01T00:05:00Z',
      startedAt: '2025-01-01T00:00:00Z',
      clusters: [
        {
          name: 'a',
          replicas: 3,
          updated: 1,
          ready: 3,
          target: 1,
          image: 'hotupgrade.local/demo:v2',
          version: 'v2',
          previousImage: 'hotupgrade.local/demo:v1',
          reachable: true,
        },
        {
          name: 'b',
          replicas: 3,
          updated: 0,
          ready: 3,
          target: 0,
          reachable: false,
          message: 'connection refused',
        },
      ],
      gates: [
        {
          step: 2,
          state: 'Passed',
          results: [{ cluster: 'a', value: 0.0042, passed: true, at: '2025-01-01T00:09:00Z' }],
          failures: 0,
          successes: 1,
        },
      ],
      conditions: [
        {
          type: 'Paused',
          status: 'True',
          reason: 'AwaitingApproval',
          message: 'step 3 waits: kubectl patch hotrelease demo-v2 --type merge -p ...',
          lastTransitionTime: '2025-01-01T00:10:00Z',
        },
        {
          type: 'Progressing',
          status: 'True',
          reason: 'Upgrading',
          message: 'step 3 of 5',
          lastTransitionTime: '2025-01-01T00:00:00Z',
        },
      ],
    };
    const memberStatus: MemberClusterStatus = {
      observedGeneration: 1,
      kubernetesVersion: 'v1.36.5',
      operatorVersion: '0.1.0',
      lastProbeTime: '2025-01-01T00:00:00Z',
      conditions: [
        {
          type: 'Reachable',
          status: 'True',
          reason: 'ProbeSucceeded',
          message: '',
          lastTransitionTime: '2025-01-01T00:00:00Z',
        },
      ],
    };
    const member = `eu${suffix}`;

    beforeAll(async () => {
      expectOk(await createRelease(makeHotRelease('shown')));
      expectOk(await client.patch(`${releases}/shown/status`, { status }, 'merge'));
      expectOk(await createMember(makeMemberCluster(member)));
      expectOk(await client.patch(`${members}/${member}/status`, { status: memberStatus }, 'merge'));
    });

    it('keeps the status the hub controller writes, every field of it', async () => {
      const r = await client.get<HotRelease>(`${releases}/shown`);
      if (!r.ok) throw new Error(r.message);
      expect(r.body.status).toEqual(status);
      expect(r.body.spec.image).toBe('hotupgrade.local/demo:v2');
    });

    it('shows a HotRelease by short name: Target, Image, Phase, Step, Age', async () => {
      const out = await kubectl(cluster, ['-n', ns, 'get', 'hr', 'shown']);
      expect(out).toMatch(/^NAME\s+TARGET\s+IMAGE\s+PHASE\s+STEP\s+AGE\n/);
      expect(out).toMatch(/shown\s+demo\s+hotupgrade\.local\/demo:v2\s+Paused\s+3\s/);
      const wide = await kubectl(cluster, ['-n', ns, 'get', 'hotrel', 'shown', '-o', 'wide']);
      expect(wide).toMatch(/^NAME\s+TARGET\s+IMAGE\s+PHASE\s+STEP\s+PROGRESS\s+PAUSED\s+AGE\n/);
      expect(wide).toMatch(/Paused\s+3\s+Upgrading\s+AwaitingApproval\s/);
    });

    it('shows a MemberCluster by short name: Reachable, Kubernetes, Operator, Age', async () => {
      const out = await kubectl(cluster, ['get', 'mc', member]);
      expect(out).toMatch(/^NAME\s+REACHABLE\s+KUBERNETES\s+OPERATOR\s+AGE\n/);
      expect(out).toMatch(new RegExp(`${member}\\s+True\\s+v1\\.36\\.5\\s+0\\.1\\.0\\s`));
      expect(await kubectl(cluster, ['get', 'memberclusters', '-l', 'env=prod', '-o', 'name'])).toContain(
        `membercluster.hotupgrade.io/${member}`,
      );
      expect(await kubectl(cluster, ['-n', ns, 'get', 'hotupgrade', '-o', 'name'])).toContain(
        'hotrelease.hotupgrade.io/shown',
      );
    });
  });
});
