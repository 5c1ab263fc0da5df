// The HotRelease CRD (namespaced): one hot image rolled out over member clusters in
// steps (steps.ts), and where the release stands.
import type { V1CustomResourceDefinition } from '@kubernetes/client-node';
import {
  bool,
  conditions,
  DNS_LABEL,
  dateTime,
  int,
  labelSelector,
  list,
  num,
  obj,
  rule,
  str,
  toClientModel,
  type CrdManifest,
  type JSONSchema,
  type PrinterColumn,
} from '../../controller/api/schema.ts';
import { API_VERSION, GATE_STATES, HOT_RELEASE, RELEASE_PHASES } from '../constants.ts';
import { CLUSTER_NAME, clusterNames, crdManifest, MAX_CLUSTER_NAMES, prometheus, root } from './common.ts';
import { steps } from './steps.ts';

/**
 * CEL: no upgrade or gate step names a cluster outside spec.clusters.names. (A message
 * that names the stray cluster would need filter(...)[0], whose cost the API server
 * cannot bound: it rejects the CRD.)
 */
const stepClustersInNamesCel = (['upgrade', 'gate'] as const)
  .map(
    (kind) =>
      `self.steps.all(s, !has(s.${kind}) || !has(s.${kind}.clusters) || s.${kind}.clusters.all(c, c in self.clusters.names))`,
  )
  .join(' && ');

const hotReleaseSpec = (): JSONSchema =>
  obj(
    'The release: which HotDeployment, which image, which clusters, and the steps. Approving, pausing, resuming, aborting and rolling back are changes of this spec (kubectl patch).',
    {
      target: obj(
        'The HotDeployment to upgrade: the same name and namespace in every member cluster. Immutable.',
        {
          name: str('The name of the HotDeployment.', { minLength: 1, maxLength: 63, pattern: CLUSTER_NAME }),
          namespace: str("Its namespace in every member cluster. Default: the HotRelease's own namespace.", {
            minLength: 1,
            maxLength: 63,
            pattern: DNS_LABEL,
          }),
        },
        {
          required: ['name'],
          'x-kubernetes-validations': [
            rule(
              'self == oldSelf',
              'spec.target is immutable: a HotRelease upgrades one HotDeployment; to upgrade another, create a new HotRelease',
            ),
          ],
        },
      ),
      image: str(
        "The new hot image: the target's hot container runs it once the release is done. Immutable: another image is another HotRelease.",
        {
          minLength: 1,
          maxLength: 4096,
          pattern: '^\\S+$',
          'x-kubernetes-validations': [
            rule(
              'self == oldSelf',
              'spec.image is immutable: a HotRelease rolls out one image; to roll out another, create a new HotRelease',
            ),
          ],
        },
      ),
      clusters: obj(
        'The member clusters of the release. Set exactly one of names and selector.',
        {
          names: clusterNames(
            `MemberClusters by name (1 to ${MAX_CLUSTER_NAMES}).`,
            'spec.clusters.names',
            'use selector: {} for every member cluster',
            MAX_CLUSTER_NAMES,
          ),
          selector: labelSelector(
            'MemberClusters by their labels; {} selects every member cluster.',
            'spec.clusters.selector',
            [],
            { subject: 'member cluster', allowEmpty: true },
          ),
        },
        {
          'x-kubernetes-validations': [
            rule(
              'has(self.names) != has(self.selector)',
              'spec.clusters: set either names (a list of MemberClusters) or selector (MemberClusters by label; {} for all of them), not both and not neither',
            ),
          ],
        },
      ),
      steps: steps(),
      prometheus: prometheus(
        "The Prometheus of gates that name none, for clusters whose MemberCluster names none (the global default). One Prometheus for all clusters tells them apart by the query's $cluster.",
        'spec.prometheus',
      ),
      autoRollback: bool(
        'true: when a gate fails or the progress deadline passes, hot-upgrade every cluster of the release back to its previous image (status.clusters[].previousImage): phase RolledBack. false: the release stops (phase Failed) and pods keep the version they run. Default false.',
        { default: false },
      ),
      progressDeadlineSeconds: int(
        'An upgrade step that makes no progress in any of its clusters for this many seconds fails the release (rolled back with autoRollback). Pauses and gates do not count. Default 600.',
        { minimum: 1, default: 600 },
      ),
      paused: bool(
        'true: start nothing new (no step, no upgrade in a member, no gate evaluation); upgrades in flight in the members finish. false resumes. Default false.',
        { default: false },
      ),
      approved: obj(
        'Approves manual pauses: steps up to and including step may start. Set with kubectl patch; it can be raised but never lowered or removed.',
        {
          step: int('Steps up to and including this number (1-based, as status.currentStep) may start.', {
            minimum: 1,
          }),
        },
        { required: ['step'] },
      ),
      abort: bool(
        'true: stop the release for good (phase Aborted); every pod keeps the version it runs. Cannot be set back to false. Default false.',
        { default: false },
      ),
      rollback: bool(
        'true: hot-upgrade every cluster of the release back to its previous image (phase RolledBack), also after an abort. Cannot be set back to false. Default false.',
        { default: false },
      ),
    },
    {
      required: ['target', 'image', 'clusters', 'steps'],
      'x-kubernetes-validations': [
        rule(
          `!has(self.clusters.names) || (${stepClustersInNamesCel})`,
          'spec.steps: a step names a cluster that is not in spec.clusters.names; add it there or remove it from the step',
          {
            fieldPath: '.steps',
            messageExpression:
              "'spec.steps: a step names a cluster that is not in spec.clusters.names (' + self.clusters.names.join(', ') + '); add it there or remove it from the step'",
          },
        ),
        rule(
          '!has(oldSelf.approved) || (has(self.approved) && self.approved.step >= oldSelf.approved.step)',
          'spec.approved.step: an approval cannot be lowered or removed; to hold the release, set spec.paused: true',
          {
            fieldPath: '.approved',
            messageExpression:
              "'spec.approved.step: an approval cannot be lowered or removed (it was %d); to hold the release, set spec.paused: true'.format([oldSelf.approved.step])",
          },
        ),
        rule(
          '!has(oldSelf.abort) || !oldSelf.abort || (has(self.abort) && self.abort)',
          'spec.abort: an aborted release stays aborted; to roll it back set spec.rollback: true, to release again create a new HotRelease',
          { fieldPath: '.abort' },
        ),
        rule(
          '!has(oldSelf.rollback) || !oldSelf.rollback || (has(self.rollback) && self.rollback)',
          'spec.rollback: a rollback cannot be undone; to roll out spec.image again, create a new HotRelease',
          { fieldPath: '.rollback' },
        ),
      ],
    },
  );

const clusterProgress = (): JSONSchema =>
  obj(
    'The target HotDeployment in one member cluster.',
    {
      name: str('The MemberCluster.'),
      replicas: int('Pods the target runs there (its status.replicas).', { minimum: 0 }),
      updated: int('Pods at spec.image there.', { minimum: 0 }),
      ready: int('Ready pods there (its status.readyReplicas).', { minimum: 0 }),
      target: int('Cumulative pods at spec.image the current step aims for there.', { minimum: 0 }),
      image: str('The hot image the target asks for there now (its status.updateImage).'),
      version: str(
        "The version of that image: its tag, or the first 12 hex digits of its digest (as the controller's metrics name it).",
      ),
      previousImage: str('The hot image the target ran before this release: what a rollback restores.'),
      reachable: bool('Whether the member answered the last probe.'),
      message: str(
        'What is wrong there, if anything: unreachable, no such HotDeployment, a failed handover.',
      ),
    },
    { required: ['name'] },
  );

const gateStatus = (): JSONSchema =>
  obj(
    "A gate step's evaluations.",
    {
      step: int("The gate's step number (1-based).", { minimum: 1 }),
      state: str('Evaluating, Passed or Failed.', { enum: [...GATE_STATES] }),
      results: list(
        'The last round: one result per cluster.',
        obj(
          'One evaluation of the query for one cluster.',
          {
            cluster: str('The MemberCluster the query was evaluated for.'),
            value: num('The result; absent when the query returned no single number.'),
            passed: bool('Whether value <op> threshold held.'),
            at: dateTime('When the query was evaluated (RFC 3339).'),
            message: str('Why there is no value (an error, no data, several series).'),
          },
          { required: ['cluster', 'passed', 'at'] },
        ),
        { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['cluster'] },
      ),
      failures: int('Failed rounds in total; failureLimit of them fail the gate.', { minimum: 0 }),
      successes: int('Passed rounds in a row; samples of them pass the gate.', { minimum: 0 }),
    },
    { required: ['step', 'state'] },
  );

const hotReleaseStatus = (): JSONSchema =>
  obj('Where the release stands, written by the hub controller.', {
    observedGeneration: int('The metadata.generation this status describes.', {
      format: 'int64',
      minimum: 0,
    }),
    phase: str(
      'Pending (not started), Progressing (upgrading, in a timed pause or at a gate), Paused (spec.paused, or a manual pause waiting for spec.approved), and the final Succeeded, Failed, RolledBack and Aborted.',
      { enum: [...RELEASE_PHASES] },
    ),
    currentStep: int(
      '1-based number of the step running or waiting (spec.approved.step counts the same way); absent before the first step.',
      { minimum: 1 },
    ),
    stepStartedAt: dateTime('When the current step started (RFC 3339); timed pauses count from here.'),
    lastProgressTime: dateTime(
      'When an upgrade last moved in a member cluster (RFC 3339); spec.progressDeadlineSeconds counts from here.',
    ),
    startedAt: dateTime('When the first step started (RFC 3339).'),
    completedAt: dateTime('When the release reached a final phase (RFC 3339).'),
    clusters: list(
      'Per member cluster of the release: the progress of the target there.',
      clusterProgress(),
      {
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
      },
    ),
    gates: list('Per gate step: its evaluations.', gateStatus(), {
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['step'],
    }),
    conditions: conditions(
      'Progressing, Paused, Degraded and Reachable (every cluster of the release answered its last probe); see docs/crd-reference.md.',
    ),
  });

const HOT_RELEASE_COLUMNS: PrinterColumn[] = [
  { name: 'Target', type: 'string', jsonPath: '.spec.target.name', description: 'The HotDeployment.' },
  { name: 'Image', type: 'string', jsonPath: '.spec.image', description: 'The new hot image.' },
  { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Where the release stands.' },
  {
    name: 'Step',
    type: 'integer',
    jsonPath: '.status.currentStep',
    description: 'The step running or waiting (1-based).',
  },
  {
    name: 'Progress',
    type: 'string',
    jsonPath: '.status.conditions[?(@.type=="Progressing")].reason',
    description: 'The reason of the Progressing condition.',
    priority: 1,
  },
  {
    name: 'Paused',
    type: 'string',
    jsonPath: '.status.conditions[?(@.type=="Paused")].reason',
    description: 'The reason of the Paused condition.',
    priority: 1,
  },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'Time since creation.' },
];

/** The HotRelease CRD as the API server and YAML spell it. */
export function hotReleaseCrdManifest(): CrdManifest {
  return crdManifest(
    HOT_RELEASE,
    'Namespaced',
    root(
      `One hot image rolled out over member clusters from the hub (${API_VERSION}): the target HotDeployment in each, upgraded in steps with pauses and Prometheus gates.`,
      HOT_RELEASE.kind,
      hotReleaseSpec(),
      hotReleaseStatus(),
    ),
    HOT_RELEASE_COLUMNS,
  );
}

export function hotReleaseCrd(): V1CustomResourceDefinition {
  return toClientModel(hotReleaseCrdManifest());
}
