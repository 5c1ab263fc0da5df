// The CRD against types.ts (they must describe the same shape), against the committed
// YAML, and against the house rules for schemas: a description on every field, a message
// that names the field on every rule. What the API server makes of it is tested in
// test/controller/crd.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dumpYaml, loadYaml, type V1LabelSelectorRequirement } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { CRD_DIR, CRDS, renderCrd } from '../../scripts/gen-crds.ts';
import { hotDeploymentCrd, hotDeploymentCrdManifest } from './crd.ts';
import type { JSONSchema } from './schema.ts';
import { at as atPath, nodes, schemaPaths, walk, type Full } from './schemaWalk.ts';
import type { Approval, Batch, BatchStatus, Condition, HotDeployment, HotDeploymentSpec } from './types.ts';

const manifest = hotDeploymentCrdManifest();
const version = manifest.spec.versions[0];
if (!version) throw new Error('the CRD has no version');
const root = version.schema.openAPIV3Schema;

// ---- the fixture: every field of types.ts set -------------------------------------------

// The pod template is kept as it is but for what the schema declares, which the fixture
// sets by hand.
const full: Full<HotDeployment, 'metadata' | 'template'> = {
  apiVersion: 'hotupgrade.io/v1alpha1',
  kind: 'HotDeployment',
  metadata: { name: 'demo', namespace: 'default' },
  spec: {
    replicas: 3,
    selector: {
      matchLabels: { app: 'demo' },
      matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }],
    },
    template: {
      metadata: { labels: { app: 'demo', tier: 'web' }, annotations: { team: 'media' } },
      spec: {
        containers: [
          { name: 'app', image: 'hotupgrade.local/demo:v1', args: ['--port', '8080'] },
          { name: 'log', image: 'busybox', command: ['tail', '-F', '/var/log/app.log'] },
        ],
      },
    },
    hotContainer: 'app',
    mode: 'slot',
    placeholderImage: 'hotupgrade.local/placeholder:v1',
    handoverDeadlineSeconds: 60,
    sharedMemory: { sizeLimit: '1Gi' },
    updateStrategy: {
      partition: 0,
      maxUnavailable: '25%',
      batches: [
        { replicas: 1, pause: { seconds: 0, manual: true } },
        { replicas: '50%', pause: { seconds: 300, manual: false } },
      ],
      paused: false,
      approved: { revision: 'demo-5d8f7c', batch: 2 },
      progressDeadlineSeconds: 600,
      autoRollback: true,
    },
  },
  status: {
    observedGeneration: 4,
    replicas: 3,
    readyReplicas: 3,
    availableReplicas: 3,
    updatedReplicas: 1,
    upgradingReplicas: 0,
    currentImage: 'hotupgrade.local/demo:v1',
    updateImage: 'hotupgrade.local/demo:v2',
    currentRevision: 'demo-6c9b4d',
    updateRevision: 'demo-5d8f7c',
    rolloutKind: 'Hot',
    batch: {
      number: 1,
      total: 3,
      state: 'AwaitingApproval',
      target: 1,
      updated: 1,
      pauseStartedAt: '2025-01-01T00:00:00Z',
      pauseEndsAt: '2025-01-01T00:05:00Z',
    },
    lastProgressTime: '2025-01-01T00:00:00Z',
    selector: 'app=demo,tier in (web)',
    conditions: [
      {
        type: 'Progressing',
        status: 'True',
        observedGeneration: 4,
        lastTransitionTime: '2025-01-01T00:00:00Z',
        reason: 'AwaitingApproval',
        message: 'batch 1 of 3 done; approve batch 2',
      },
    ],
  },
};
// And the fixture is a HotDeployment (Full<T> only adds requirements).
const asApi: HotDeployment = full;

const at = (path: string): JSONSchema => atPath(root, path);

// ---- tests ------------------------------------------------------------------------------

describe('the HotDeployment schema and types.ts', () => {
  it('declares every field of the fully populated fixture, with its type', () => {
    expect(walk(asApi, root).problems).toEqual([]);
  });

  it('has no field the fixture leaves out', () => {
    const { seen } = walk(full, root);
    expect(schemaPaths(root).filter((p) => !seen.has(p))).toEqual([]);
  });

  // Minimal values of each of our object types: tsc insists on their required fields, the
  // schema's `required` must list the same ones.
  const apiMeta = { apiVersion: 'hotupgrade.io/v1alpha1', kind: 'HotDeployment', metadata: {} } as const;
  const spec: HotDeploymentSpec = { selector: {}, template: {}, hotContainer: 'app' };
  const hd: HotDeployment = { ...apiMeta, spec };
  const batch: Batch = { replicas: 1 };
  const approval: Approval = { revision: 'r', batch: 1 };
  const batchStatus: BatchStatus = { number: 1, total: 1, state: 'Upgrading', target: 1, updated: 0 };
  const condition: Condition = {
    type: 'T',
    status: 'True',
    lastTransitionTime: '',
    reason: 'R',
    message: '',
  };
  const requirement: V1LabelSelectorRequirement = { key: 'k', operator: 'Exists' };
  const requiredTable: [string, string, object][] = [
    ['HotDeployment', '', hd],
    ['HotDeploymentSpec', '.spec', spec],
    ['Batch', '.spec.updateStrategy.batches[]', batch],
    ['Approval', '.spec.updateStrategy.approved', approval],
    ['BatchStatus', '.status.batch', batchStatus],
    ['Condition', '.status.conditions[]', condition],
    ['V1LabelSelectorRequirement', '.spec.selector.matchExpressions[]', requirement],
  ];

  it.each(requiredTable)('requires the fields %s requires (at "%s")', (_type, path, minimal) => {
    // apiVersion, kind and metadata are the API server's to require.
    const implicit = path === '' ? Object.keys(apiMeta) : [];
    expect([...(at(path).required ?? []), ...implicit].sort()).toEqual(Object.keys(minimal).sort());
  });

  it('checks requiredness of every object of ours', () => {
    const template = (p: string) => p.startsWith('.spec.template');
    const withRequired = nodes(root)
      .filter(([p, s]) => s.required?.length && !template(p))
      .map(([p]) => p);
    expect(withRequired.sort()).toEqual(requiredTable.map(([, p]) => p).sort());
  });
});

describe('the HotDeployment CRD', () => {
  it('describes every field, for kubectl explain and docs/crd-reference.md', () => {
    // The API server allows nothing but the type on the root metadata.
    const bare = nodes(root).filter(([p, s]) => p !== '.metadata' && !p.endsWith('.*') && !s.description);
    expect(bare.map(([p]) => p)).toEqual([]);
  });

  it('has every field in docs/crd-reference.md', () => {
    const doc = readFileSync(new URL('../../docs/crd-reference.md', import.meta.url), 'utf8');
    const fields = schemaPaths(root)
      .filter((p) => /^\.(spec|status)\./.test(p) && !p.includes('.*'))
      .map((p) => p.slice(1));
    expect(fields.filter((f) => !doc.includes(`\`${f}\``))).toEqual([]);
  });

  it('gives every CEL rule a message that starts with the field it is about', () => {
    const rules = nodes(root).flatMap(([p, s]) =>
      (s['x-kubernetes-validations'] ?? []).map((r) => [p, r] as const),
    );
    expect(rules.length).toBeGreaterThan(10);
    for (const [path, r] of rules) {
      expect(r.message, `${path}: ${r.rule}`).toMatch(/^(spec|metadata)\.[\w.[\]]+[: ]/);
      if (r.messageExpression) expect(r.messageExpression, path).toMatch(/^'(spec|metadata)\./);
    }
  });

  it.each([
    ['.spec.replicas', 1],
    ['.spec.mode', 'slot'],
    ['.spec.handoverDeadlineSeconds', 60],
    ['.spec.updateStrategy', {}],
    ['.spec.updateStrategy.partition', 0],
    ['.spec.updateStrategy.maxUnavailable', '25%'],
    ['.spec.updateStrategy.progressDeadlineSeconds', 600],
    ['.spec.updateStrategy.autoRollback', false],
    ['.spec.updateStrategy.paused', false],
  ])('defaults %s to %j', (path, value) => {
    expect(at(path).default).toEqual(value);
  });

  it('has the names, scope and subresources kubectl, the scale subresource and an HPA need', () => {
    expect(manifest.metadata.name).toBe('hotdeployments.hotupgrade.io');
    expect(manifest.spec.names).toEqual({
      plural: 'hotdeployments',
      singular: 'hotdeployment',
      kind: 'HotDeployment',
      shortNames: ['hd', 'hotdeploy'],
      categories: ['all', 'hotupgrade'],
    });
    expect(manifest.spec.scope).toBe('Namespaced');
    expect(version.subresources?.scale).toEqual({
      specReplicasPath: '.spec.replicas',
      statusReplicasPath: '.status.replicas',
      labelSelectorPath: '.status.selector',
    });
    for (const c of version.additionalPrinterColumns ?? []) {
      if (c.jsonPath.startsWith('.metadata.')) continue;
      expect(() => at(c.jsonPath.replace(/\[\?.*\)\]/, '[]')), c.name).not.toThrow();
    }
  });

  it('serializes through client-node in the API server spelling, nothing under items dropped', () => {
    // What ApiextensionsV1Api sends and `npm run crds` writes.
    const yaml = dumpYaml(hotDeploymentCrd(), { lineWidth: -1 });
    expect(yaml).not.toMatch(/^[\s-]*(x_kubernetes_\w+|_default|_enum):/m);
    for (const key of ['x-kubernetes-validations', 'default', 'enum', 'x-kubernetes-int-or-string']) {
      const expected = nodes(root).filter(([, s]) => key in s).length;
      expect(yaml.match(new RegExp(`^[\\s-]*${key}:`, 'gm'))?.length, key).toBe(expected);
    }
    expect(loadYaml(yaml)).toEqual(hotDeploymentCrd());
  });

  it.each(CRDS)('is committed as generated: $file (run npm run crds)', async ({ file, crd }) => {
    const path = join(CRD_DIR, file);
    expect(readFileSync(path, 'utf8')).toBe(await renderCrd(crd(), path));
  });
});
