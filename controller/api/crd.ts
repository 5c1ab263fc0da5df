// The HotDeployment CustomResourceDefinition (apiextensions.k8s.io/v1), built from the
// schema helpers in schema.ts (which the hub's MemberCluster and HotRelease CRDs share).
// The shape follows types.ts (crd.test.ts fails when they drift); `npm run crds` writes
// the YAML the chart installs. docs/crd-reference.md is the user's reference for every
// field.
import { OPERATOR_VERSION, VERSION_ANNOTATION } from '../version.ts';
import type { V1CustomResourceDefinition } from '@kubernetes/client-node';
import { API_VERSION, GROUP, KIND, NAMES, PLURAL, REASONS, SLOTS, VERSION } from '../constants.ts';
import {
  bool,
  conditions,
  DNS_LABEL,
  dateTime,
  int,
  intOrPercent,
  labelSelector,
  list,
  namesCel,
  obj,
  preserve,
  quantity,
  rule,
  selectorMatchesCel,
  str,
  stringMap,
  toClientModel,
  type CrdManifest,
  type JSONSchema,
  type PrinterColumn,
} from './schema.ts';

// ---- HotDeployment ----------------------------------------------------------------------

const RESERVED_LABEL_PREFIX = `${GROUP}/`;

/** The slot containers the controller adds for hot container `hot`, as CEL. */
const slotNamesCel = (hot: string): string =>
  `[${SLOTS.map((s) => `${hot} + '-${s}'`).join(', ')}, '${NAMES.sidecar}']`;

const containers = 'self.template.spec.containers';

const podTemplate = (): JSONSchema =>
  obj(
    'The pods to run, as in a Deployment (core/v1 PodTemplateSpec). The controller replaces the hot container by two slot containers and adds its sidecar; see docs/controller.md for the pod it builds.',
    {
      metadata: obj('Labels and annotations of every pod; other metadata is dropped.', {
        labels: stringMap(
          'Labels of every pod. spec.selector must select them. Keys under hotupgrade.io/ are reserved for the controller.',
          63,
          {
            maxProperties: 64,
            'x-kubernetes-validations': [
              rule(
                `self.all(k, !k.startsWith('${RESERVED_LABEL_PREFIX}'))`,
                `spec.template.metadata.labels: keys with the prefix ${RESERVED_LABEL_PREFIX} are reserved for the labels the controller sets on its pods; rename the label`,
              ),
            ],
          },
        ),
        annotations: stringMap('Annotations of every pod.'),
      }),
      spec: obj(
        'The pod spec (core/v1 PodSpec). Only containers is checked here: the API server checks the rest when the controller creates the pods.',
        {
          containers: list(
            'The containers of the pod; one of them is spec.hotContainer.',
            obj(
              'A container (core/v1 Container): all its fields are kept; name, image and command are checked here.',
              {
                name: str('The container name (a DNS label).', { minLength: 1, maxLength: 63 }),
                image: str('The container image.', { minLength: 1 }),
                command: list(
                  "The entrypoint, replacing the image's. The hot container must not set it: use args.",
                  str('An argument.'),
                ),
              },
              { required: ['name', 'image'], ...preserve },
            ),
            {
              minItems: 1,
              maxItems: 32,
              'x-kubernetes-list-type': 'map',
              'x-kubernetes-list-map-keys': ['name'],
            },
          ),
        },
        { required: ['containers'], ...preserve },
      ),
    },
    { required: ['spec'] },
  );

const batchPause = (): JSONSchema =>
  obj(
    'What to do once the batch is done; no pause when absent. Set exactly one of seconds or manual.',
    {
      seconds: int('A timed pause after the batch, in seconds (1 to 86400).', { minimum: 1, maximum: 86400 }),
      manual: bool('true: wait until spec.updateStrategy.approved approves the next batch for this rollout.'),
    },
    {
      'x-kubernetes-validations': [
        rule(
          'has(self.seconds) != has(self.manual)',
          'spec.updateStrategy.batches[].pause: set either seconds (a timed pause) or manual: true (wait for spec.updateStrategy.approved), not both and not neither',
        ),
      ],
    },
  );

/**
 * CEL over a batches list: among the batches whose replicas are counts, every later count
 * is greater, and likewise among percents. A count and a percent are not compared: they
 * resolve against spec.replicas, which kubectl scale and an HPA change after the fact.
 */
const batchesIncreaseCel =
  'self.all(i, a, self.all(j, b, j <= i || ' +
  '(type(a.replicas) == int && type(b.replicas) == int ? int(a.replicas) < int(b.replicas) : ' +
  "type(a.replicas) == string && type(b.replicas) == string ? int(string(a.replicas).replace('%', '')) < int(string(b.replicas).replace('%', '')) : true)))";

const updateStrategy = (): JSONSchema =>
  obj(
    'How changes to the template reach the pods: hot upgrades of the hot container image, in batches; pod recreation for anything else.',
    {
      partition: int(
        'Pods kept at the old version: pods with an ordinal below this number are never hot-upgraded or recreated. At most spec.replicas. Default 0.',
        { minimum: 0, default: 0 },
      ),
      maxUnavailable: intOrPercent(
        'How many pods may be unavailable (upgrading, recreating or not ready) at once: a number of pods >= 1 or a percent of spec.replicas ("1%" to "100%", rounded down, at least 1 pod). Default "25%".',
        'spec.updateStrategy.maxUnavailable',
        { min: 1, example: '1 or "25%"', default: '25%' },
      ),
      batches: list(
        'The batches of a hot upgrade, in order: each names how many pods run the new version once it is done (cumulative). Counts above the pods in range (spec.replicas minus partition) mean all of them; when the last batch does not reach all of them, the rest follow as one more batch. Absent: one batch of all pods. At most 20.',
        obj(
          'One batch of a hot upgrade.',
          {
            replicas: intOrPercent(
              'Cumulative: how many pods run the new version once this batch is done, a number of pods >= 1 or a percent of spec.replicas ("1%" to "100%", rounded up). Each count must be greater than the counts before it, and each percent greater than the percents before it; a batch that resolves to no more pods than the one before (few replicas) completes at once.',
              'spec.updateStrategy.batches[].replicas',
              { min: 1, example: '1 or "50%"' },
            ),
            pause: batchPause(),
          },
          { required: ['replicas'] },
        ),
        {
          maxItems: 20,
          'x-kubernetes-validations': [
            rule(
              batchesIncreaseCel,
              'spec.updateStrategy.batches: replicas are cumulative (pods at the new version once the batch is done), so each count must be greater than the counts before it and each percent greater than the percents before it, e.g. 1, "50%", "100%"',
            ),
          ],
        },
      ),
      paused: bool(
        'true: start no new pod upgrades or recreations; pods in the middle of a handover finish. Default false.',
        { default: false },
      ),
      approved: obj(
        'Approves manual pauses of one rollout: batches up to and including batch may start. Set by hand or with kubectl patch; an approval never carries over to another rollout.',
        {
          revision: str('The rollout the approval is for: status.updateRevision when you approve.', {
            minLength: 1,
          }),
          batch: int('Batches up to this number (1-based) may start.', { minimum: 1 }),
        },
        { required: ['revision', 'batch'] },
      ),
      progressDeadlineSeconds: int(
        'A rollout that makes no progress for this many seconds (pauses and approvals do not count) is Degraded with reason ProgressDeadlineExceeded and stops; with autoRollback it is rolled back. Must be greater than spec.handoverDeadlineSeconds. Default 600.',
        { minimum: 1, default: 600 },
      ),
      autoRollback: bool(
        'true: on a failed handover or a passed progress deadline, the controller writes the previous hot image back into spec.template (recording it in the hotupgrade.io/rollback annotation), and every pod is hot-upgraded back to it, without batches or pauses. false: the rollout stops and the old version keeps serving on the pods not upgraded yet. Default false.',
        { default: false },
      ),
    },
    // {} so that the defaults inside apply when updateStrategy is left out.
    { default: {} },
  );

const hotDeploymentSpec = (): JSONSchema =>
  obj(
    'The desired state: the pods and how they are hot-upgraded.',
    {
      replicas: int(
        'How many pods to run, not fewer than spec.updateStrategy.partition. Default 1. Also set by kubectl scale and a HorizontalPodAutoscaler.',
        {
          minimum: 0,
          default: 1,
        },
      ),
      selector: labelSelector(
        'Selects the pods of this HotDeployment; must match spec.template.metadata.labels. Immutable.',
        'spec.selector',
        [
          rule(
            'self == oldSelf',
            'spec.selector is immutable (as in a Deployment); to change it, create a new HotDeployment',
          ),
        ],
      ),
      template: podTemplate(),
      hotContainer: str(
        'The name of the container in spec.template.spec.containers that is hot-upgraded: a change of its image is rolled out in place. It must not set command. Each pod runs it as two slot containers <hotContainer>-a and <hotContainer>-b, so it has at most 61 characters. Immutable.',
        {
          minLength: 1,
          maxLength: 61,
          pattern: DNS_LABEL,
          'x-kubernetes-validations': [
            rule(
              'self == oldSelf',
              'spec.hotContainer is immutable (the pods are built around it); to hot-upgrade another container, create a new HotDeployment',
            ),
          ],
        },
      ),
      mode: str(
        'slot (default): the idle slot runs the new image, which takes over from the old one. binary: the idle slot only stages the new binaries in the shared volume and the launcher in the active slot re-executes into them.',
        { enum: ['slot', 'binary'], default: 'slot' },
      ),
      placeholderImage: str("The image an idle slot runs. Default: the controller's --placeholder-image.", {
        minLength: 1,
        pattern: '^\\S+$',
      }),
      handoverDeadlineSeconds: int(
        'How long a new version may take from its start to serving, in seconds (1 to 3600); past it the handover fails and the old version keeps serving. Default 60.',
        { minimum: 1, maximum: 3600, default: 60 },
      ),
      sharedMemory: obj(
        'A memory-backed emptyDir mounted at /dev/shm in both slots, so state in shared memory survives a handover. No such volume when absent.',
        {
          sizeLimit: quantity(
            'The size limit of the volume (a quantity of bytes, e.g. "1Gi"); it counts against the memory of the pod. No limit when absent.',
            'spec.sharedMemory.sizeLimit',
          ),
        },
      ),
      updateStrategy: updateStrategy(),
    },
    {
      required: ['selector', 'template', 'hotContainer'],
      'x-kubernetes-validations': [
        rule(
          `${containers}.exists(c, c.name == self.hotContainer)`,
          'spec.hotContainer: is not the name of a container of spec.template.spec.containers; set it to one of them',
          {
            fieldPath: '.hotContainer',
            messageExpression:
              `'spec.hotContainer: "' + self.hotContainer + '" is not a container of spec.template.spec.containers (containers: ' + ` +
              `${namesCel(containers, 8)} + '); set it to one of them'`,
          },
        ),
        rule(
          `${containers}.all(c, c.name != self.hotContainer || !has(c.command) || size(c.command) == 0)`,
          'spec.template.spec.containers: the hot container sets command; remove command and pass options in args: the idle slot runs the placeholder image with the same container spec, so each image must start with its own entrypoint',
          {
            fieldPath: '.template.spec.containers',
            messageExpression:
              `'spec.template.spec.containers: the hot container "' + self.hotContainer + '" sets command; remove command and pass options in args: ' + ` +
              `'the idle slot runs the placeholder image with the same container spec, so each image must start with its own entrypoint'`,
          },
        ),
        rule(
          `${containers}.all(c, !(c.name in ${slotNamesCel('self.hotContainer')}))`,
          `spec.template.spec.containers: a container has a name the controller gives to the slot containers (<hotContainer>-a, <hotContainer>-b) or the sidecar (${NAMES.sidecar}); rename it`,
          {
            fieldPath: '.template.spec.containers',
            messageExpression:
              `'spec.template.spec.containers: the names "' + self.hotContainer + '-a", "' + self.hotContainer + '-b" and "${NAMES.sidecar}" are reserved ` +
              `for the slot containers and the sidecar the controller adds to every pod; rename the container'`,
          },
        ),
        rule(
          `has(self.template.metadata) && has(self.template.metadata.labels) ? ${selectorMatchesCel('self.selector', 'self.template.metadata.labels')} : ${selectorMatchesCel('self.selector', '{}')}`,
          'spec.selector: does not select the pods of spec.template: every matchLabels entry must be in spec.template.metadata.labels with the same value, and every matchExpressions requirement must hold for those labels; make the selector and the template labels agree',
          { fieldPath: '.selector' },
        ),
        rule(
          '!has(self.updateStrategy) || !has(self.updateStrategy.partition) || !has(self.replicas) || self.updateStrategy.partition <= self.replicas',
          'spec.updateStrategy.partition: is more than spec.replicas; set it to at most spec.replicas (equal keeps every pod at the old version)',
          {
            fieldPath: '.updateStrategy.partition',
            messageExpression:
              "'spec.updateStrategy.partition: %d is more than spec.replicas (%d); set it to at most %d (equal keeps every pod at the old version)'.format([self.updateStrategy.partition, self.replicas, self.replicas])",
          },
        ),
        rule(
          '!has(self.updateStrategy) || !has(self.updateStrategy.progressDeadlineSeconds) || !has(self.handoverDeadlineSeconds) || self.updateStrategy.progressDeadlineSeconds > self.handoverDeadlineSeconds',
          'spec.updateStrategy.progressDeadlineSeconds: must be greater than spec.handoverDeadlineSeconds (a single handover may take that long); raise it or lower spec.handoverDeadlineSeconds',
          {
            fieldPath: '.updateStrategy.progressDeadlineSeconds',
            messageExpression:
              "'spec.updateStrategy.progressDeadlineSeconds: %d must be greater than spec.handoverDeadlineSeconds (%d, the time a single handover may take); raise it or lower spec.handoverDeadlineSeconds'.format([self.updateStrategy.progressDeadlineSeconds, self.handoverDeadlineSeconds])",
          },
        ),
      ],
    },
  );

const batchStatus = (): JSONSchema =>
  obj(
    'Where the hot upgrade stands among its batches; state Completed once the last batch is done.',
    {
      number: int('1-based number of the current batch.', { minimum: 1 }),
      total: int('How many batches the rollout has, including the implicit last one.', { minimum: 1 }),
      state: str(
        'Upgrading: pods of the batch are being upgraded. Paused: a timed pause runs. AwaitingApproval: a manual pause waits for spec.updateStrategy.approved. Completed: the last batch is done.',
        { enum: ['Upgrading', 'Paused', 'AwaitingApproval', 'Completed'] },
      ),
      target: int('Cumulative pods at the new version this batch aims for.', { minimum: 0 }),
      updated: int('Pods at the new version now.', { minimum: 0 }),
      pauseStartedAt: dateTime('When the pause after this batch began (RFC 3339).'),
      pauseEndsAt: dateTime('When a timed pause ends (RFC 3339).'),
    },
    { required: ['number', 'total', 'state', 'target', 'updated'] },
  );

const hotDeploymentStatus = (): JSONSchema =>
  obj('The observed state, written by the controller.', {
    observedGeneration: int('The metadata.generation this status describes.', {
      format: 'int64',
      minimum: 0,
    }),
    replicas: int('Pods that exist.', { minimum: 0 }),
    readyReplicas: int('Pods whose Ready condition is true.', { minimum: 0 }),
    availableReplicas: int(
      'Ready pods, counted as in a Deployment (an HPA reads this through the scale subresource too).',
      { minimum: 0 },
    ),
    updatedReplicas: int('Pods at the update revision (template and hot image).', { minimum: 0 }),
    upgradingReplicas: int('Pods in the middle of a hot upgrade.', { minimum: 0 }),
    currentImage: str('The hot container image most pods ran before the rollout.'),
    updateImage: str('The hot container image the spec asks for.'),
    currentRevision: str('The revision (template and hot image) most pods ran before the rollout.'),
    updateRevision: str(
      'The revision the spec asks for; spec.updateStrategy.approved.revision names it to approve a batch.',
    ),
    rolloutKind: str(
      'How the current rollout changes pods: None (no rollout), Hot (the hot image changed: in place) or Recreate (anything else in the template changed: new pods).',
      { enum: ['None', 'Hot', 'Recreate'] },
    ),
    batch: batchStatus(),
    lastProgressTime: dateTime(
      'When the rollout last moved (a pod started or finished an upgrade, was created or deleted), RFC 3339; spec.updateStrategy.progressDeadlineSeconds counts from here.',
    ),
    selector: str('spec.selector in string form, for the scale subresource (kubectl scale, HPA).'),
    conditions: conditions(
      `Available, Progressing, Paused and Degraded, with reasons such as ${REASONS.hotUpgrading}, ${REASONS.awaitingApproval} and ${REASONS.handoverFailed} (see docs/crd-reference.md).`,
    ),
  });

const PRINTER_COLUMNS: PrinterColumn[] = [
  { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas', description: 'Desired pods.' },
  { name: 'Ready', type: 'integer', jsonPath: '.status.readyReplicas', description: 'Ready pods.' },
  {
    name: 'Updated',
    type: 'integer',
    jsonPath: '.status.updatedReplicas',
    description: 'Pods at the update revision.',
  },
  {
    name: 'Available',
    type: 'integer',
    jsonPath: '.status.availableReplicas',
    description: 'Available pods.',
    priority: 1,
  },
  {
    name: 'Image',
    type: 'string',
    jsonPath: '.status.updateImage',
    description: 'The hot image the spec asks for.',
  },
  {
    name: 'Batch',
    type: 'integer',
    jsonPath: '.status.batch.number',
    description: 'The current batch of the rollout (1-based).',
  },
  {
    name: 'Batches',
    type: 'integer',
    jsonPath: '.status.batch.total',
    description: 'How many batches the rollout has.',
  },
  {
    name: 'State',
    type: 'string',
    jsonPath: '.status.batch.state',
    description: 'Upgrading, Paused, AwaitingApproval or Completed.',
  },
  {
    name: 'Progress',
    type: 'string',
    jsonPath: '.status.conditions[?(@.type=="Progressing")].reason',
    description: 'The reason of the Progressing condition.',
    priority: 1,
  },
  { name: 'Mode', type: 'string', jsonPath: '.spec.mode', description: 'slot or binary.', priority: 1 },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'Time since creation.' },
];

/** The HotDeployment CRD as the API server and YAML spell it. */
export function hotDeploymentCrdManifest(): CrdManifest {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${PLURAL}.${GROUP}`, annotations: { [VERSION_ANNOTATION]: OPERATOR_VERSION } },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: {
        plural: PLURAL,
        singular: 'hotdeployment',
        kind: KIND,
        shortNames: ['hd', 'hotdeploy'],
        categories: ['all', 'hotupgrade'],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: obj(
              `A workload whose pods are hot-upgraded in place (${API_VERSION}): a change of the hot container image restarts one container of each pod, in the same pod, with the same IP and shared memory, while the old version serves until the new one takes over.`,
              {
                apiVersion: str(`The API version: ${API_VERSION}.`),
                kind: str(`The kind: ${KIND}.`),
                // The API server allows nothing but the type here (not even a description).
                metadata: { type: 'object' },
                spec: hotDeploymentSpec(),
                status: hotDeploymentStatus(),
              },
              {
                required: ['spec'],
                'x-kubernetes-validations': [
                  rule(
                    'size(self.metadata.name) <= 63',
                    'metadata.name: must have at most 63 characters: it is the value of the hotupgrade.io/hotdeployment label on every pod',
                  ),
                ],
              },
            ),
          },
          subresources: {
            status: {},
            scale: {
              specReplicasPath: '.spec.replicas',
              statusReplicasPath: '.status.replicas',
              labelSelectorPath: '.status.selector',
            },
          },
          additionalPrinterColumns: PRINTER_COLUMNS,
        },
      ],
    },
  };
}

/**
 * The same CRD as a client-node model, for ApiextensionsV1Api and dumpYaml, which
 * serialize it back to exactly hotDeploymentCrdManifest(). Nested schemas under `items`
 * and `additionalProperties` keep the API server's spelling (client-node types them `any`).
 */
export function hotDeploymentCrd(): V1CustomResourceDefinition {
  return toClientModel(hotDeploymentCrdManifest());
}
