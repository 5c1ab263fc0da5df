// Control plane tier: a real kube-apiserver v1.36 with etcd and the controller manager.
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, HELM_VERSION } from './config.ts';
import {
  K8S_VERSION,
  checkTier,
  externalKubeconfig,
  until,
  useControlPlane,
  type TestCluster,
} from './harness.ts';
import { run } from './proc.ts';

const skip = checkTier('control-plane');

const GROUP = 'smoke.hotupgrade.io';
const crd: k8s.V1CustomResourceDefinition & { metadata: { name: string } } = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `widgets.${GROUP}` },
  spec: {
    group: GROUP,
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                properties: { replicas: { type: 'integer' }, maxReplicas: { type: 'integer' } },
                // client-node's serializer knows this field by its TypeScript name and drops
                // the wire name 'x-kubernetes-validations' silently.
                x_kubernetes_validations: [
                  {
                    rule: 'self.replicas <= self.maxReplicas',
                    message: 'replicas must not exceed maxReplicas',
                  },
                ],
              },
            },
          },
        },
      },
    ],
  },
};

describe.skipIf(skip)('control plane', () => {
  let cluster: TestCluster;
  let kc: k8s.KubeConfig;

  beforeAll(async () => {
    cluster = await useControlPlane('it-cp');
    kc = new k8s.KubeConfig();
    kc.loadFromFile(cluster.kubeconfig);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it(`reports ${K8S_VERSION} on /version`, async () => {
    const v = await kc.makeApiClient(k8s.VersionApi).getCode();
    if (cluster.ours) expect(v.gitVersion).toBe(K8S_VERSION);
    else expect(v.gitVersion).toMatch(/^v1\.\d+\.\d+/);
  });

  it('rejects a bad custom object with the CEL rule message', async () => {
    const ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
    await ext.createCustomResourceDefinition({ body: crd });
    await until('CRD established', async () => {
      const c = await ext.readCustomResourceDefinition({ name: crd.metadata.name });
      return c.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True') || undefined;
    });
    const objs = kc.makeApiClient(k8s.CustomObjectsApi);
    const widget = (name: string, replicas: number): object => ({
      apiVersion: `${GROUP}/v1`,
      kind: 'Widget',
      metadata: { name },
      spec: { replicas, maxReplicas: 3 },
    });
    const create = (name: string, replicas: number): Promise<unknown> =>
      objs.createNamespacedCustomObject({
        group: GROUP,
        version: 'v1',
        namespace: 'default',
        plural: 'widgets',
        body: widget(name, replicas),
      });
    // The CRD's schema can take a moment to reach the handler after Established.
    await until('good object accepted', async () => (await create('good', 2)) ?? true);
    const err = await create('bad', 5).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(k8s.ApiException);
    const apiErr = err as k8s.ApiException<unknown>;
    expect(apiErr.code).toBe(422);
    expect(String(apiErr.body)).toContain('replicas must not exceed maxReplicas');
  });

  it('runs the controller manager: service account tokens and garbage collection', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const ns = `gc-${Date.now()}`;
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await until('default service account', () =>
      core.readNamespacedServiceAccount({ name: 'default', namespace: ns }),
    );
    const token = await core.createNamespacedServiceAccountToken({
      name: 'default',
      namespace: ns,
      body: { spec: { audiences: ['test'], expirationSeconds: 600 } },
    });
    expect(token.status?.token).toMatch(/^ey/);
    const owner = await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: 'owner' } },
    });
    const uid = owner.metadata?.uid;
    if (!uid) throw new Error('owner has no uid');
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: {
        metadata: {
          name: 'dependent',
          ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid }],
        },
      },
    });
    await core.deleteNamespacedConfigMap({ name: 'owner', namespace: ns });
    await until('dependent garbage-collected', async () => {
      const list = await core.listNamespacedConfigMap({ namespace: ns });
      return list.items.some((c) => c.metadata?.name === 'dependent') ? undefined : true;
    });
  });

  it.skipIf(!!externalKubeconfig())(`ships helm ${HELM_VERSION} that talks to this cluster`, async () => {
    const version = await run(BIN.helm, ['version', '--short']);
    expect(version.stdout.trim()).toBe(HELM_VERSION);
    const list = await run(BIN.helm, ['list', '--all-namespaces', '--kubeconfig', cluster.kubeconfig]);
    expect(list.stdout).toMatch(/^NAME\s+NAMESPACE/);
  });

  it.skipIf(!!externalKubeconfig())('runs a second control plane beside the first', async () => {
    const other = await useControlPlane('it-cp-2');
    try {
      const kc2 = new k8s.KubeConfig();
      kc2.loadFromFile(other.kubeconfig);
      expect(kc2.getCurrentCluster()?.server).not.toBe(kc.getCurrentCluster()?.server);
      const v = await kc2.makeApiClient(k8s.VersionApi).getCode();
      expect(v.gitVersion).toBe(K8S_VERSION);
      // Separate etcds: the first cluster's CRD does not exist here.
      const crds = await kc2.makeApiClient(k8s.ApiextensionsV1Api).listCustomResourceDefinition();
      expect(crds.items.map((c) => c.metadata?.name)).not.toContain(crd.metadata.name);
    } finally {
      await other.stop();
    }
  });
});
