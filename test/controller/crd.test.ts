// The HotDeployment CRD on a real kube-apiserver: accepted as generated, defaults applied,
// bad objects rejected with messages that name the field, immutable fields kept, the scale
// subresource and the printer columns working. No controller runs: status is written by
// the test.
import { request, type RequestOptions } from 'node:https';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hotDeploymentCrd, hotDeploymentCrdManifest } from '../../controller/api/crd.ts';
import type { HotDeployment, HotDeploymentSpec, HotDeploymentStatus } from '../../controller/api/types.ts';
import { checkTier, kubectl, until, useControlPlane, type TestCluster } from '../cluster/harness.ts';

const skip = checkTier('control-plane');

const manifest = hotDeploymentCrdManifest();
const CRD_NAME = manifest.metadata.name;
const BASE = '/apis/hotupgrade.io/v1alpha1';

/** A valid HotDeployment: the demo server, 3 replicas, batches 1 (manual pause) / 50% / 100%. */
function makeHotDeployment(
  name: string,
  edit: (spec: HotDeploymentSpec) => void = () => undefined,
): HotDeployment {
  const hd: HotDeployment = {
    apiVersion: 'hotupgrade.io/v1alpha1',
    kind: 'HotDeployment',
    metadata: { name },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'demo' } },
      template: {
        metadata: { labels: { app: 'demo', tier: 'web' } },
        spec: {
          containers: [
            { name: 'app', image: 'hotupgrade.local/demo:v1', args: ['--port', '8080'] },
            { name: 'log', image: 'busybox', command: ['tail', '-F', '/var/log/app.log'] },
          ],
        },
      },
      hotContainer: 'app',
      updateStrategy: {
        batches: [{ replicas: 1, pause: { manual: true } }, { replicas: '50%' }, { replicas: '100%' }],
      },
    },
  };
  edit(hd.spec);
  return hd;
}

const containersOf = (s: HotDeploymentSpec) => s.template.spec?.containers ?? [];
const strategy = (s: HotDeploymentSpec) => (s.updateStrategy ??= {});

interface ApiResponse {
  status: number;
  body: Record<string, unknown>;
}

describe.skipIf(skip)('the HotDeployment CRD on a real API server', () => {
  let cluster: TestCluster;
  let kc: k8s.KubeConfig;
  const ns = `crd-${Date.now()}`;
  const objects = `${BASE}/namespaces/${ns}/hotdeployments`;

  /** One request with the kubeconfig's credentials; JSON in and out. */
  async function api(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse> {
    const server = kc.getCurrentCluster()?.server;
    if (!server) throw new Error('the kubeconfig names no server');
    const opts: RequestOptions = {
      method,
      headers: {
        Accept: 'application/json',
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...headers,
      },
      timeout: 15_000,
    };
    await kc.applyToHTTPSOptions(opts);
    return new Promise((resolve, reject) => {
      const req = request(new URL(path, server), opts, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> });
          } catch {
            reject(new Error(`${method} ${path}: ${res.statusCode}: ${text}`));
          }
        });
      });
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timeout`)));
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }
  const mergePatch = (path: string, body: unknown) =>
    api('PATCH', path, body, { 'Content-Type': 'application/merge-patch+json' });
  const create = (hd: HotDeployment, dryRun = false) =>
    api('POST', `${objects}${dryRun ? '?dryRun=All' : ''}`, hd);
  const expectCreated = (r: ApiResponse) => expect(r.status, JSON.stringify(r.body)).toBe(201);

  beforeAll(async () => {
    const t0 = Date.now();
    cluster = await useControlPlane('it-crd');
    kc = new k8s.KubeConfig();
    kc.loadFromFile(cluster.kubeconfig);
    console.log(`[crd] control plane up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    // Through client-node's typed API, as the controller and a user's tooling would.
    const ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
    const crd = hotDeploymentCrd();
    try {
      await ext.createCustomResourceDefinition({ body: crd });
    } catch (e) {
      if (!(e instanceof k8s.ApiException) || e.code !== 409) throw e;
      const old = await ext.readCustomResourceDefinition({ name: CRD_NAME });
      crd.metadata = { ...crd.metadata, resourceVersion: old.metadata?.resourceVersion };
      await ext.replaceCustomResourceDefinition({ name: CRD_NAME, body: crd });
    }
    await until('CRD established', async () => {
      const c = await ext.readCustomResourceDefinition({ name: CRD_NAME });
      return c.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True') || undefined;
    });
    await kc.makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name: ns } } });
    // The schema can reach the handler a moment after Established.
    await until('HotDeployments served', async () =>
      (await create(makeHotDeployment('probe'), true)).status === 201 ? true : undefined,
    );
    console.log(`[crd] CRD established and served after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });

  afterAll(async () => {
    if (kc && !cluster?.ours) {
      await kc
        .makeApiClient(k8s.CoreV1Api)
        .deleteNamespace({ name: ns })
        .catch(() => undefined);
    }
    await cluster?.stop();
  });

  it('stores the CRD as generated: client-node drops nothing on the way', async () => {
    const r = await api('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${CRD_NAME}`);
    expect(r.status).toBe(200);
    const spec = r.body.spec as typeof manifest.spec;
    expect(spec.names).toMatchObject(manifest.spec.names);
    expect(spec.versions[0]?.schema).toEqual(manifest.spec.versions[0]?.schema);
    expect(spec.versions[0]?.subresources).toEqual(manifest.spec.versions[0]?.subresources);
    expect(spec.versions[0]?.additionalPrinterColumns).toEqual(
      manifest.spec.versions[0]?.additionalPrinterColumns,
    );
  });

  it('accepts a valid HotDeployment and applies the defaults', async () => {
    const hd = makeHotDeployment('defaults', (s) => {
      delete s.replicas;
      delete s.updateStrategy;
    });
    const r = await create(hd);
    expectCreated(r);
    expect(r.body.spec).toMatchObject({
      replicas: 1,
      mode: 'slot',
      handoverDeadlineSeconds: 60,
      updateStrategy: {
        partition: 0,
        maxUnavailable: '25%',
        progressDeadlineSeconds: 600,
        autoRollback: false,
        paused: false,
      },
    });
    // Unknown pod fields are kept; unknown metadata of the template is dropped.
    const kept = makeHotDeployment('kept', (s) => {
      const app = containersOf(s)[0];
      if (app) app.ports = [{ containerPort: 8080, name: 'http' }];
      if (s.template.spec) s.template.spec.terminationGracePeriodSeconds = 30;
      if (s.template.metadata) s.template.metadata.name = 'dropped';
    });
    const k = await create(kept);
    expectCreated(k);
    const spec = k.body.spec as HotDeploymentSpec;
    expect(spec.template.spec?.terminationGracePeriodSeconds).toBe(30);
    expect(containersOf(spec)[0]?.ports).toEqual([{ containerPort: 8080, name: 'http' }]);
    expect(spec.template.metadata).toEqual({ labels: { app: 'demo', tier: 'web' } });
  });

  const long = (n: number) => 'a'.repeat(n);
  const badObjects: [string, (s: HotDeploymentSpec) => void, string[]][] = [
    [
      'a hot container that is not in the template',
      (s) => (s.hotContainer = 'web'),
      [
        'spec.hotContainer: "web" is not a container of spec.template.spec.containers (containers: app, log); set it to one of them',
      ],
    ],
    [
      'no hot container',
      (s) => Reflect.deleteProperty(s, 'hotContainer'),
      ['spec.hotContainer: Required value'],
    ],
    [
      'a hot container name too long for its slots',
      (s) => (s.hotContainer = long(62)),
      ['spec.hotContainer: Too long'],
    ],
    [
      'a hot container that sets command',
      (s) => {
        const app = containersOf(s)[0];
        if (app) app.command = ['/demo'];
      },
      [
        'spec.template.spec.containers',
        'the hot container "app" sets command; remove command and pass options in args',
      ],
    ],
    [
      'a container named like a slot',
      (s) => containersOf(s).push({ name: 'app-b', image: 'busybox' }),
      ['spec.template.spec.containers', '"app-a", "app-b" and "hotupgrade-sidecar" are reserved'],
    ],
    [
      'a container named like the sidecar',
      (s) => containersOf(s).push({ name: 'hotupgrade-sidecar', image: 'busybox' }),
      ['spec.template.spec.containers', 'reserved'],
    ],
    [
      'a container without an image',
      (s) => containersOf(s).push({ name: 'noimage' }),
      ['spec.template.spec.containers[2].image: Required value'],
    ],
    [
      'two containers with one name',
      (s) => containersOf(s).push({ name: 'log', image: 'busybox' }),
      ['spec.template.spec.containers[2]: Duplicate value'],
    ],
    [
      'a selector that does not match the template labels',
      (s) => (s.selector = { matchLabels: { app: 'other' } }),
      ['spec.selector: does not select the pods of spec.template'],
    ],
    [
      'a selector expression that does not match the template labels',
      (s) => (s.selector = { matchExpressions: [{ key: 'tier', operator: 'In', values: ['db'] }] }),
      ['spec.selector: does not select the pods of spec.template'],
    ],
    [
      'an empty selector',
      (s) => (s.selector = {}),
      ['spec.selector: must not be empty (it would select every pod in the namespace)'],
    ],
    [
      'an In requirement without values',
      (s) =>
        (s.selector = { matchLabels: { app: 'demo' }, matchExpressions: [{ key: 'tier', operator: 'In' }] }),
      ['spec.selector.matchExpressions: operators In and NotIn need values'],
    ],
    [
      'a template label under hotupgrade.io/',
      (s) => {
        if (s.template.metadata?.labels) s.template.metadata.labels['hotupgrade.io/ordinal'] = '0';
      },
      ['spec.template.metadata.labels: keys with the prefix hotupgrade.io/ are reserved'],
    ],
    ['negative replicas', (s) => (s.replicas = -1), ['spec.replicas: Invalid value: -1']],
    [
      'a partition above replicas',
      (s) => (strategy(s).partition = 5),
      ['spec.updateStrategy.partition: 5 is more than spec.replicas (3); set it to at most 3'],
    ],
    [
      'maxUnavailable 0',
      (s) => (strategy(s).maxUnavailable = 0),
      ['spec.updateStrategy.maxUnavailable: 0 is neither a number of pods >= 1 nor a percent'],
    ],
    [
      'maxUnavailable "0%"',
      (s) => (strategy(s).maxUnavailable = '0%'),
      ['spec.updateStrategy.maxUnavailable: "0%" is neither'],
    ],
    [
      'maxUnavailable "150%"',
      (s) => (strategy(s).maxUnavailable = '150%'),
      ['spec.updateStrategy.maxUnavailable: "150%" is neither'],
    ],
    [
      'a batch of 0 pods',
      (s) => (strategy(s).batches = [{ replicas: 0 }]),
      ['spec.updateStrategy.batches[0].replicas', 'spec.updateStrategy.batches[].replicas: 0 is neither'],
    ],
    [
      'a batch of "101%"',
      (s) => (strategy(s).batches = [{ replicas: '101%' }]),
      ['spec.updateStrategy.batches[0].replicas', '"101%" is neither'],
    ],
    [
      'a batch of "half"',
      (s) => (strategy(s).batches = [{ replicas: 1 }, { replicas: 'half' }]),
      ['spec.updateStrategy.batches[1].replicas', '"half" is neither'],
    ],
    [
      'batch counts that do not increase',
      (s) => (strategy(s).batches = [{ replicas: 2 }, { replicas: '50%' }, { replicas: 2 }]),
      ['spec.updateStrategy.batches: replicas are cumulative'],
    ],
    [
      'batch percents that decrease',
      (s) => (strategy(s).batches = [{ replicas: '50%' }, { replicas: 3 }, { replicas: '40%' }]),
      ['spec.updateStrategy.batches: replicas are cumulative'],
    ],
    [
      'more than 20 batches',
      (s) => (strategy(s).batches = Array.from({ length: 21 }, (_, i) => ({ replicas: i + 1 }))),
      ['spec.updateStrategy.batches: Too many: 21: must have at most 20 items'],
    ],
    [
      'a pause both timed and manual',
      (s) => (strategy(s).batches = [{ replicas: 1, pause: { seconds: 30, manual: true } }]),
      ['spec.updateStrategy.batches[0].pause', 'set either seconds (a timed pause) or manual: true'],
    ],
    [
      'an empty pause',
      (s) => (strategy(s).batches = [{ replicas: 1, pause: {} }]),
      ['spec.updateStrategy.batches[0].pause', 'set either seconds'],
    ],
    [
      'a pause of 0 s',
      (s) => (strategy(s).batches = [{ replicas: 1, pause: { seconds: 0 } }]),
      ['spec.updateStrategy.batches[0].pause.seconds: Invalid value: 0'],
    ],
    [
      'a pause over a day',
      (s) => (strategy(s).batches = [{ replicas: 1, pause: { seconds: 86401 } }]),
      ['spec.updateStrategy.batches[0].pause.seconds: Invalid value: 86401'],
    ],
    [
      'an approval of batch 0',
      (s) => (strategy(s).approved = { revision: 'abc', batch: 0 }),
      ['spec.updateStrategy.approved.batch: Invalid value: 0'],
    ],
    [
      'an approval without a revision',
      (s) => Object.assign(strategy(s), { approved: { batch: 2 } }),
      ['spec.updateStrategy.approved.revision: Required value'],
    ],
    ['an unknown mode', (s) => Object.assign(s, { mode: 'fast' }), ['spec.mode: Unsupported value: "fast"']],
    [
      'a handover deadline of 0 s',
      (s) => (s.handoverDeadlineSeconds = 0),
      ['spec.handoverDeadlineSeconds: Invalid value: 0'],
    ],
    [
      'a handover deadline over an hour',
      (s) => (s.handoverDeadlineSeconds = 3601),
      ['spec.handoverDeadlineSeconds: Invalid value: 3601'],
    ],
    [
      'a progress deadline within the handover deadline',
      (s) => (strategy(s).progressDeadlineSeconds = 60),
      [
        'spec.updateStrategy.progressDeadlineSeconds: 60 must be greater than spec.handoverDeadlineSeconds (60',
      ],
    ],
    [
      'a shared memory size of "1GB"',
      (s) => (s.sharedMemory = { sizeLimit: '1GB' }),
      ['spec.sharedMemory.sizeLimit', 'must be a positive quantity of bytes such as "256Mi" or "1Gi"'],
    ],
    [
      'a shared memory size of 0',
      (s) => (s.sharedMemory = { sizeLimit: '0' }),
      ['spec.sharedMemory.sizeLimit', 'must be a positive quantity'],
    ],
  ];

  it.each(badObjects)('rejects %s, naming the field', async (_title, edit, messages) => {
    const r = await create(makeHotDeployment('bad', edit), true);
    expect(r.status, JSON.stringify(r.body)).toBe(422);
    for (const m of messages) expect(r.body.message).toContain(m);
  });

  it('rejects a name longer than a label value', async () => {
    const r = await create(makeHotDeployment(long(64)), true);
    expect(r.status).toBe(422);
    expect(r.body.message).toContain('metadata.name: must have at most 63 characters');
  });

  it('accepts the edge cases next to the bad ones', async () => {
    const ok: ((s: HotDeploymentSpec) => void)[] = [
      (s) => (strategy(s).partition = 3),
      (s) => (strategy(s).maxUnavailable = '100%'),
      (s) => (strategy(s).maxUnavailable = 1),
      (s) =>
        (strategy(s).batches = [{ replicas: 1 }, { replicas: '1%' }, { replicas: 2 }, { replicas: '100%' }]),
      (s) => (strategy(s).batches = [{ replicas: 1, pause: { seconds: 86400 } }]),
      (s) => (s.selector = { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }] }),
      (s) => (s.selector = { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }),
      (s) => (s.selector = { matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }),
      (s) => {
        s.hotContainer = 'log';
        for (const c of containersOf(s)) delete c.command;
      },
      (s) => (s.sharedMemory = { sizeLimit: '1Gi' }),
      (s) => (strategy(s).progressDeadlineSeconds = 61),
    ];
    for (const [i, edit] of ok.entries()) {
      expectCreated(await create(makeHotDeployment(`ok-${i}`, edit), true));
    }
    expectCreated(await create(makeHotDeployment(long(63)), true));
  });

  describe('updates', () => {
    const path = `${objects}/immutable`;
    beforeAll(async () => expectCreated(await create(makeHotDeployment('immutable'))));

    it('rejects a change of spec.hotContainer', async () => {
      const r = await mergePatch(path, { spec: { hotContainer: 'log' } });
      expect(r.status).toBe(422);
      expect(r.body.message).toContain('spec.hotContainer is immutable');
    });

    it('rejects a change of spec.selector', async () => {
      const r = await mergePatch(path, {
        spec: { selector: { matchLabels: { app: 'demo', tier: 'web' } } },
      });
      expect(r.status).toBe(422);
      expect(r.body.message).toContain('spec.selector is immutable');
    });

    it('accepts a new image, an approval and a pause', async () => {
      const hd = makeHotDeployment('immutable', (s) => {
        const app = containersOf(s)[0];
        if (app) app.image = 'hotupgrade.local/demo:v2';
        strategy(s).approved = { revision: 'abc', batch: 2 };
        strategy(s).paused = true;
      });
      const r = await mergePatch(path, { spec: hd.spec });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
    });
  });

  describe('the scale subresource and the printer columns', () => {
    const path = `${objects}/scaled`;
    const status: HotDeploymentStatus = {
      observedGeneration: 1,
      replicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
      updatedReplicas: 1,
      upgradingReplicas: 0,
      currentImage: 'hotupgrade.local/demo:v1',
      updateImage: 'hotupgrade.local/demo:v2',
      updateRevision: 'r2',
      rolloutKind: 'Hot',
      batch: { number: 1, total: 3, state: 'AwaitingApproval', target: 1, updated: 1 },
      selector: 'app=demo',
      conditions: [
        {
          type: 'Progressing',
          status: 'True',
          reason: 'HotUpgrading',
          message: 'batch 1/3',
          lastTransitionTime: '2025-01-01T00:00:00Z',
        },
      ],
    };
    beforeAll(async () => {
      expectCreated(await create(makeHotDeployment('scaled')));
      const r = await mergePatch(`${path}/status`, { status });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
    });

    it('reads spec.replicas, status.replicas and status.selector through /scale', async () => {
      const r = await api('GET', `${path}/scale`);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({
        kind: 'Scale',
        spec: { replicas: 3 },
        status: { replicas: 3, selector: 'app=demo' },
      });
    });

    it('changes spec.replicas through /scale and kubectl scale', async () => {
      const r = await mergePatch(`${path}/scale`, { spec: { replicas: 5 } });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(((await api('GET', path)).body.spec as HotDeploymentSpec).replicas).toBe(5);
      await kubectl(cluster, ['-n', ns, 'scale', 'hd/scaled', '--replicas=2']);
      expect(((await api('GET', path)).body.spec as HotDeploymentSpec).replicas).toBe(2);
    });

    it('lists the printer columns in a Table', async () => {
      const r = await api('GET', `${path}`, undefined, {
        Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io',
      });
      expect(r.status).toBe(200);
      const columns = (r.body.columnDefinitions as { name: string }[]).map((c) => c.name);
      expect(columns).toEqual([
        'Name',
        'Replicas',
        'Ready',
        'Updated',
        'Available',
        'Image',
        'Batch',
        'Batches',
        'State',
        'Progress',
        'Mode',
        'Age',
      ]);
      const [row] = r.body.rows as { cells: unknown[] }[];
      expect(row?.cells.slice(0, -1)).toEqual([
        'scaled',
        2,
        3,
        1,
        3,
        'hotupgrade.local/demo:v2',
        1,
        3,
        'AwaitingApproval',
        'HotUpgrading',
        'slot',
      ]);
    });

    it('answers kubectl get by short name and category', async () => {
      const out = await kubectl(cluster, ['-n', ns, 'get', 'hd', 'scaled']);
      expect(out).toMatch(/^NAME\s+REPLICAS\s+READY\s+UPDATED\s+IMAGE\s+BATCH\s+BATCHES\s+STATE\s+AGE\n/);
      expect(out).toMatch(/scaled\s+2\s+3\s+1\s+hotupgrade\.local\/demo:v2\s+1\s+3\s+AwaitingApproval\s/);
      expect(await kubectl(cluster, ['-n', ns, 'get', 'hotupgrade', '-o', 'name'])).toContain(
        'hotdeployment.hotupgrade.io/scaled',
      );
    });
  });
});
