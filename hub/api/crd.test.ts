// The hub's CRDs against types.ts (they must describe the same shapes), against
// constants.ts and docs/crd-reference.md, and against the house rules for schemas: a
// description on every field, a message that names the field on every rule. What the
// API server makes of them is tested in test/hub/crd.test.ts; that the committed YAML is
// as generated, in controller/api/crd.test.ts (for every file of scripts/gen-crds.ts).
import { readFileSync } from 'node:fs';
import { dumpYaml, loadYaml, type V1LabelSelectorRequirement } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { CrdManifest, JSONSchema } from '../../controller/api/schema.ts';
import { at, nodes, rules, schemaPaths, walk, type Full } from '../../controller/api/schemaWalk.ts';
import { GATE_STATES, RELEASE_PHASES, THRESHOLD_OPS } from '../constants.ts';
import {
  hotReleaseCrd,
  hotReleaseCrdManifest,
  MAX_CLUSTER_NAMES,
  MAX_STEP_CLUSTERS,
  MAX_STEPS,
  memberClusterCrd,
  memberClusterCrdManifest,
} from './crd.ts';
import type {
  ClusterProgress,
  Condition,
  GateResult,
  GateStatus,
  GateStep,
  HotRelease,
  HotReleaseSpec,
  MemberCluster,
  MemberClusterSpec,
  PrometheusRef,
  ReleaseApproval,
  ReleaseTarget,
  SecretKeyRef,
  Threshold,
  UpgradeStep,
} from './types.ts';

const schemaOf = (m: CrdManifest): JSONSchema => {
  const v = m.spec.versions[0];
  if (!v) throw new Error(`${m.metadata.name} has no version`);
  return v.schema.openAPIV3Schema;
};
const mcManifest = memberClusterCrdManifest();
const hrManifest = hotReleaseCrdManifest();
const mcRoot = schemaOf(mcManifest);
const hrRoot = schemaOf(hrManifest);

// ---- the fixtures: every field of types.ts set ------------------------------------------

const condition: Full<Condition> = {
  type: 'Reachable',
  status: 'True',
  observedGeneration: 2,
  lastTransitionTime: '2025-01-01T00:00:00Z',
  reason: 'ProbeSucceeded',
  message: '',
};

const fullMember: Full<MemberCluster> = {
  apiVersion: 'hotupgrade.io/v1alpha1',
  kind: 'MemberCluster',
  metadata: { name: 'eu-west', labels: { env: 'prod' } },
  spec: {
    kubeconfigSecretRef: { namespace: 'hotupgrade', name: 'eu-west-kubeconfig', key: 'kubeconfig' },
    inCluster: false,
    prometheus: { url: 'http://prometheus.monitoring:9090' },
  },
  status: {
    observedGeneration: 2,
    kubernetesVersion: 'v1.36.5',
    operatorVersion: '0.1.0',
    lastProbeTime: '2025-01-01T00:00:00Z',
    conditions: [condition],
  },
};

/** A step with every field of each kind: the schema's step is the union of the three. */
const fullStep: Full<HotReleaseSpec['steps'][number]> = {
  upgrade: { clusters: ['eu-west'], replicas: 1 },
  pause: { seconds: 60, manual: true },
  gate: {
    query: 'sum(rate(http_requests_total{cluster="$cluster",code=~"5.."}[1m]))',
    threshold: { op: '<', value: 0.01 },
    intervalSeconds: 60,
    failureLimit: 2,
    samples: 5,
    clusters: ['eu-west'],
    prometheus: { url: 'http://thanos-query.monitoring:9090' },
  },
};

const fullRelease: Full<HotRelease> = {
  apiVersion: 'hotupgrade.io/v1alpha1',
  kind: 'HotRelease',
  metadata: { name: 'demo-v2', namespace: 'apps' },
  spec: {
    target: { name: 'demo', namespace: 'apps' },
    image: 'hotupgrade.local/demo:v2',
    clusters: {
      names: ['eu-west', 'us-east'],
      selector: {
        matchLabels: { env: 'prod' },
        matchExpressions: [{ key: 'region', operator: 'In', values: ['eu'] }],
      },
    },
    steps: [fullStep],
    prometheus: { url: 'http://thanos-query.monitoring:9090' },
    autoRollback: true,
    progressDeadlineSeconds: 600,
    paused: false,
    approved: { step: 4 },
    abort: false,
    rollback: false,
  },
  status: {
    observedGeneration: 3,
    phase: 'Paused',
    currentStep: 3,
    stepStartedAt: '2025-01-01T00:10:00Z',
    lastProgressTime: '2025-01-01T00:05:00Z',
    startedAt: '2025-01-01T00:00:00Z',
    completedAt: '2025-01-01T01:00:00Z',
    clusters: [
      {
        name: 'eu-west',
        replicas: 3,
        updated: 1,
        ready: 3,
        target: 1,
        image: 'hotupgrade.local/demo:v2',
        version: 'v2',
        previousImage: 'hotupgrade.local/demo:v1',
        reachable: true,
        message: '',
      },
    ],
    gates: [
      {
        step: 2,
        state: 'Passed',
        results: [
          { cluster: 'eu-west', value: 0.004, passed: true, at: '2025-01-01T00:09:00Z', message: '' },
        ],
        failures: 0,
        successes: 5,
      },
    ],
    conditions: [condition],
  },
};
// And the fixtures are API objects (Full<T> only adds requirements).
const asMember: MemberCluster = fullMember;
const asRelease: HotRelease = fullRelease;

// ---- tests ------------------------------------------------------------------------------

const apiMeta = (kind: string) => ({ apiVersion: 'hotupgrade.io/v1alpha1', kind, metadata: {} }) as const;

// Minimal values of each of our object types: tsc insists on their required fields, the
// schema's `required` must list the same ones.
const mcSpec: MemberClusterSpec = {};
const secretRef: SecretKeyRef = { namespace: 'n', name: 's' };
const prometheus: PrometheusRef = { url: 'http://p:9090' };
const minimalCondition: Condition = {
  type: 'T',
  status: 'True',
  lastTransitionTime: '',
  reason: 'R',
  message: '',
};
const hrSpec: HotReleaseSpec = { target: { name: 'd' }, image: 'i', clusters: {}, steps: [] };
const target: ReleaseTarget = { name: 'd' };
const upgrade: UpgradeStep = { replicas: 1 };
const gate: GateStep = { query: 'q', threshold: { op: '<', value: 1 } };
const threshold: Threshold = { op: '<', value: 1 };
const approval: ReleaseApproval = { step: 1 };
const progress: ClusterProgress = { name: 'c' };
const gateStatus: GateStatus = { step: 1, state: 'Evaluating' };
const gateResult: GateResult = { cluster: 'c', passed: true, at: '' };
const requirement: V1LabelSelectorRequirement = { key: 'k', operator: 'Exists' };

const kinds: {
  kind: string;
  root: JSONSchema;
  manifest: CrdManifest;
  full: object;
  asApi: object;
  required: [string, string, object][];
}[] = [
  {
    kind: 'MemberCluster',
    root: mcRoot,
    manifest: mcManifest,
    full: fullMember,
    asApi: asMember,
    required: [
      ['MemberCluster', '', { ...apiMeta('MemberCluster'), spec: mcSpec }],
      ['SecretKeyRef', '.spec.kubeconfigSecretRef', secretRef],
      ['PrometheusRef', '.spec.prometheus', prometheus],
      ['Condition', '.status.conditions[]', minimalCondition],
    ],
  },
  {
    kind: 'HotRelease',
    root: hrRoot,
    manifest: hrManifest,
    full: fullRelease,
    asApi: asRelease,
    required: [
      ['HotRelease', '', { ...apiMeta('HotRelease'), spec: hrSpec }],
      ['HotReleaseSpec', '.spec', hrSpec],
      ['ReleaseTarget', '.spec.target', target],
      ['V1LabelSelectorRequirement', '.spec.clusters.selector.matchExpressions[]', requirement],
      ['UpgradeStep', '.spec.steps[].upgrade', upgrade],
      ['GateStep', '.spec.steps[].gate', gate],
      ['Threshold', '.spec.steps[].gate.threshold', threshold],
      ['PrometheusRef', '.spec.steps[].gate.prometheus', prometheus],
      ['PrometheusRef', '.spec.prometheus', prometheus],
      ['ReleaseApproval', '.spec.approved', approval],
      ['ClusterProgress', '.status.clusters[]', progress],
      ['GateStatus', '.status.gates[]', gateStatus],
      ['GateResult', '.status.gates[].results[]', gateResult],
      ['Condition', '.status.conditions[]', minimalCondition],
    ],
  },
];

/** The part of docs/crd-reference.md from `# <kind> reference` to the next kind's. */
function docSection(kind: string): string {
  const doc = readFileSync(new URL('../../docs/crd-reference.md', import.meta.url), 'utf8');
  const start = doc.indexOf(`\n# ${kind} reference`);
  if (start < 0) throw new Error(`docs/crd-reference.md has no "# ${kind} reference"`);
  // The next "# <Kind> reference" (lines of shell code start with "# " too).
  const next = /\n# \w+ reference/g;
  next.lastIndex = start + 1;
  return doc.slice(start, next.exec(doc)?.index);
}

describe.each(kinds)('the $kind schema and types.ts', ({ root, full, asApi, required }) => {
  it('declares every field of the fully populated fixture, with its type', () => {
    expect(walk(asApi, root).problems).toEqual([]);
  });

  it('has no field the fixture leaves out', () => {
    const { seen } = walk(full, root);
    expect(schemaPaths(root).filter((p) => !seen.has(p))).toEqual([]);
  });

  it.each(required)('requires the fields %s requires (at "%s")', (_type, path, minimal) => {
    // apiVersion, kind and metadata are the API server's to require.
    const implicit = path === '' ? ['apiVersion', 'kind', 'metadata'] : [];
    expect([...(at(root, path).required ?? []), ...implicit].sort()).toEqual(Object.keys(minimal).sort());
  });

  it('checks requiredness of every object of ours', () => {
    const withRequired = nodes(root)
      .filter(([, s]) => s.required?.length)
      .map(([p]) => p);
    expect(withRequired.sort()).toEqual(required.map(([, p]) => p).sort());
  });
});

describe.each(kinds)('the $kind CRD', ({ kind, root, manifest }) => {
  it('describes every field, for kubectl explain and docs/crd-reference.md', () => {
    // The API server allows nothing but the type on the root metadata.
    const bare = nodes(root).filter(([p, s]) => p !== '.metadata' && !p.endsWith('.*') && !s.description);
    expect(bare.map(([p]) => p)).toEqual([]);
  });

  it('has every field in its section of docs/crd-reference.md', () => {
    const doc = docSection(kind);
    const fields = schemaPaths(root)
      .filter((p) => /^\.(spec|status)\./.test(p) && !p.includes('.*'))
      .map((p) => p.slice(1));
    expect(fields.filter((f) => !doc.includes(`\`${f}\``))).toEqual([]);
  });

  it('gives every CEL rule a message that starts with the field it is about, and lists it in the docs', () => {
    const doc = docSection(kind);
    for (const [path, r] of rules(root)) {
      expect(r.message, `${path}: ${r.rule}`).toMatch(/^(spec|metadata)\.[\w.[\]]+[: ]/);
      if (r.messageExpression)
        expect(r.messageExpression, path).toMatch(/^(self == '\*' \? )?'(spec|metadata)\./);
      // The docs abridge long messages (the first words find them) and give an example of
      // what a messageExpression says (its field finds that).
      expect(doc, path).toContain(
        r.messageExpression ? `\`${r.message.split(':')[0]}` : r.message.slice(0, 40),
      );
    }
  });

  it('has a status subresource, its printer columns on declared fields', () => {
    const version = manifest.spec.versions[0];
    expect(version?.subresources).toEqual({ status: {} });
    for (const c of version?.additionalPrinterColumns ?? []) {
      if (c.jsonPath.startsWith('.metadata.')) continue;
      expect(() => at(root, c.jsonPath.replace(/\[\?.*\)\]/, '[]')), c.name).not.toThrow();
    }
  });

  it('serializes through client-node in the API server spelling, nothing under items dropped', () => {
    const crd = kind === 'MemberCluster' ? memberClusterCrd() : hotReleaseCrd();
    const yaml = dumpYaml(crd, { lineWidth: -1 });
    expect(yaml).not.toMatch(/^[\s-]*(x_kubernetes_\w+|_default|_enum):/m);
    for (const key of ['x-kubernetes-validations', 'default', 'enum', 'x-kubernetes-int-or-string']) {
      const expected = nodes(root).filter(([, s]) => key in s).length;
      expect(yaml.match(new RegExp(`^[\\s-]*${key}:`, 'gm'))?.length ?? 0, key).toBe(expected);
    }
    expect(loadYaml(yaml)).toEqual(crd);
  });
});

describe('the MemberCluster CRD', () => {
  it('is cluster-scoped, with short name mc and the columns Reachable, Kubernetes, Operator, Age', () => {
    expect(mcManifest.metadata.name).toBe('memberclusters.hotupgrade.io');
    expect(mcManifest.spec.scope).toBe('Cluster');
    expect(mcManifest.spec.names).toEqual({
      kind: 'MemberCluster',
      plural: 'memberclusters',
      singular: 'membercluster',
      shortNames: ['mc'],
      categories: ['hotupgrade'],
    });
    const columns = mcManifest.spec.versions[0]?.additionalPrinterColumns ?? [];
    expect(columns.filter((c) => !c.priority).map((c) => c.name)).toEqual([
      'Reachable',
      'Kubernetes',
      'Operator',
      'Age',
    ]);
  });

  it.each([
    ['.spec', 'has(self.kubeconfigSecretRef) != (has(self.inCluster) && self.inCluster)'],
    ['', 'size(self.metadata.name) <= 63'],
  ])('has the rule at "%s": %s', (path, expr) => {
    expect(at(mcRoot, path)['x-kubernetes-validations']?.map((r) => r.rule)).toContain(expr);
  });

  it('defaults the kubeconfig key to "kubeconfig"', () => {
    expect(at(mcRoot, '.spec.kubeconfigSecretRef.key').default).toBe('kubeconfig');
  });
});

describe('the HotRelease CRD', () => {
  it('is namespaced, with short names hr and hotrel and the columns Target, Image, Phase, Step, Age', () => {
    expect(hrManifest.metadata.name).toBe('hotreleases.hotupgrade.io');
    expect(hrManifest.spec.scope).toBe('Namespaced');
    expect(hrManifest.spec.names).toEqual({
      kind: 'HotRelease',
      plural: 'hotreleases',
      singular: 'hotrelease',
      shortNames: ['hr', 'hotrel'],
      categories: ['hotupgrade'],
    });
    const columns = hrManifest.spec.versions[0]?.additionalPrinterColumns ?? [];
    expect(columns.filter((c) => !c.priority).map((c) => c.name)).toEqual([
      'Target',
      'Image',
      'Phase',
      'Step',
      'Age',
    ]);
  });

  it.each([
    ['.status.phase', RELEASE_PHASES],
    ['.spec.steps[].gate.threshold.op', THRESHOLD_OPS],
    ['.status.gates[].state', GATE_STATES],
  ] as const)('takes the enum of %s from hub/constants.ts', (path, values) => {
    expect(at(hrRoot, path).enum).toEqual([...values]);
  });

  it.each([
    ['.spec.target', 'spec.target is immutable'],
    ['.spec.image', 'spec.image is immutable'],
    ['.spec.clusters', 'spec.clusters: set either names'],
    ['.spec.clusters.names[]', 'spec.clusters.names[]: must be the name of a MemberCluster'],
    ['.spec.steps', 'spec.steps: upgrade replicas are cumulative per cluster'],
    ['.spec.steps', 'spec.steps: no step takes every cluster to "100%"'],
    ['.spec.steps[]', 'spec.steps[]: set exactly one of upgrade, pause and gate'],
    [
      '.spec.steps[].upgrade.clusters[]',
      'spec.steps[].upgrade.clusters[]: must be the name of a MemberCluster',
    ],
    ['.spec.steps[].upgrade.replicas', 'spec.steps[].upgrade.replicas: must be a number of pods >= 1'],
    ['.spec.steps[].pause', 'spec.steps[].pause: set either seconds'],
    ['.spec.steps[].gate.clusters[]', 'spec.steps[].gate.clusters[]: must be the name of a MemberCluster'],
    ['.spec.steps[].gate.prometheus.url', 'spec.steps[].gate.prometheus.url: must be the http or https URL'],
    ['.spec.prometheus.url', 'spec.prometheus.url: must be the http or https URL'],
    ['.spec', 'spec.steps: a step names a cluster that is not in spec.clusters.names'],
    ['.spec', 'spec.approved.step: an approval cannot be lowered or removed'],
    ['.spec', 'spec.abort: an aborted release stays aborted'],
    ['.spec', 'spec.rollback: a rollback cannot be undone'],
  ])('has the rule at %s: "%s ..."', (path, message) => {
    const messages = (at(hrRoot, path)['x-kubernetes-validations'] ?? []).map((r) => r.message);
    expect(
      messages.some((m) => m.startsWith(message)),
      messages.join('\n'),
    ).toBe(true);
  });

  it('bounds what CEL iterates, so the API server accepts the cost of the rules', () => {
    expect(at(hrRoot, '.spec.steps').maxItems).toBe(MAX_STEPS);
    expect(MAX_STEPS).toBe(50);
    expect(at(hrRoot, '.spec.clusters.names').maxItems).toBe(MAX_CLUSTER_NAMES);
    expect(at(hrRoot, '.spec.steps[].upgrade.clusters').maxItems).toBe(MAX_STEP_CLUSTERS);
    expect(at(hrRoot, '.spec.steps[].gate.clusters').maxItems).toBe(MAX_STEP_CLUSTERS);
    for (const path of [
      '.spec.clusters.names[]',
      '.spec.steps[].upgrade.clusters[]',
      '.spec.steps[].gate.clusters[]',
    ])
      expect(at(hrRoot, path).maxLength, path).toBe(63);
  });

  it.each([
    ['.spec.autoRollback', false],
    ['.spec.progressDeadlineSeconds', 600],
    ['.spec.paused', false],
    ['.spec.abort', false],
    ['.spec.rollback', false],
    ['.spec.steps[].gate.intervalSeconds', 60],
    ['.spec.steps[].gate.failureLimit', 1],
    ['.spec.steps[].gate.samples', 1],
  ])('defaults %s to %j', (path, value) => {
    expect(at(hrRoot, path).default).toEqual(value);
  });

  it('lets an empty selector select every member cluster', () => {
    expect(at(hrRoot, '.spec.clusters.selector')['x-kubernetes-validations']).toBeUndefined();
  });
});
