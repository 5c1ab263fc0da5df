// The MemberCluster CRD (cluster-scoped): how the hub reaches a member cluster, and what
// its last probe found. Labels on the object select it for HotReleases.
import type { V1CustomResourceDefinition } from '@kubernetes/client-node';
import {
  bool,
  conditions,
  DNS_LABEL,
  dateTime,
  int,
  obj,
  rule,
  str,
  toClientModel,
  type CrdManifest,
  type JSONSchema,
  type PrinterColumn,
} from '../../controller/api/schema.ts';
import { API_VERSION, DEFAULT_KUBECONFIG_KEY, MEMBER_CLUSTER } from '../constants.ts';
import { CLUSTER_NAME, crdManifest, prometheus, root } from './common.ts';

const memberClusterSpec = (): JSONSchema =>
  obj(
    'How the hub reaches the cluster. Set exactly one of kubeconfigSecretRef and inCluster. The labels of the MemberCluster select it for HotRelease.spec.clusters.selector.',
    {
      kubeconfigSecretRef: obj(
        'A kubeconfig in a Secret on the hub; its current context is used. The chart lets the hub read Secrets in its own namespace only.',
        {
          namespace: str('The namespace of the Secret.', { minLength: 1, maxLength: 63, pattern: DNS_LABEL }),
          name: str('The name of the Secret.', { minLength: 1, maxLength: 253, pattern: CLUSTER_NAME }),
          key: str(
            `The key in the Secret's data that holds the kubeconfig. Default "${DEFAULT_KUBECONFIG_KEY}".`,
            {
              minLength: 1,
              maxLength: 253,
              pattern: '^[-._a-zA-Z0-9]+$',
              default: DEFAULT_KUBECONFIG_KEY,
            },
          ),
        },
        { required: ['namespace', 'name'] },
      ),
      inCluster: bool(
        "true: the cluster is the hub itself, reached with the hub controller's own ServiceAccount.",
      ),
      prometheus: prometheus(
        "This cluster's Prometheus, for the gates of HotReleases that name none of their own.",
        'spec.prometheus',
      ),
    },
    {
      'x-kubernetes-validations': [
        rule(
          'has(self.kubeconfigSecretRef) != (has(self.inCluster) && self.inCluster)',
          'spec.kubeconfigSecretRef or spec.inCluster: set exactly one: kubeconfigSecretRef (a kubeconfig in a Secret on the hub) or inCluster: true (the hub itself)',
        ),
      ],
    },
  );

const memberClusterStatus = (): JSONSchema =>
  obj('What the last probe of the cluster found, written by the hub controller.', {
    observedGeneration: int('The metadata.generation this status describes.', {
      format: 'int64',
      minimum: 0,
    }),
    kubernetesVersion: str(
      "The member's Kubernetes version (the gitVersion of its /version, e.g. v1.36.5), from the last successful probe.",
    ),
    operatorVersion: str(
      'The version of the hotupgrade operator in the member (the image tag of its controller), from the last successful probe.',
    ),
    lastProbeTime: dateTime('When the hub last probed the cluster, successfully or not (RFC 3339).'),
    conditions: conditions(
      'Reachable: whether the last probe reached the API server; its message is the error when not.',
    ),
  });

const MEMBER_CLUSTER_COLUMNS: PrinterColumn[] = [
  {
    name: 'Reachable',
    type: 'string',
    jsonPath: '.status.conditions[?(@.type=="Reachable")].status',
    description: 'Whether the last probe reached the cluster.',
  },
  {
    name: 'Kubernetes',
    type: 'string',
    jsonPath: '.status.kubernetesVersion',
    description: "The member's Kubernetes version.",
  },
  {
    name: 'Operator',
    type: 'string',
    jsonPath: '.status.operatorVersion',
    description: 'The version of the hotupgrade operator in the member.',
  },
  {
    name: 'Last Probe',
    type: 'date',
    jsonPath: '.status.lastProbeTime',
    description: 'When the hub last probed the cluster.',
    priority: 1,
  },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'Time since creation.' },
];

/** The MemberCluster CRD as the API server and YAML spell it. */
export function memberClusterCrdManifest(): CrdManifest {
  return crdManifest(
    MEMBER_CLUSTER,
    'Cluster',
    root(
      `A cluster the hub releases to (${API_VERSION}): how to reach its API server, and what the last probe found. Its labels select it for HotReleases.`,
      MEMBER_CLUSTER.kind,
      memberClusterSpec(),
      memberClusterStatus(),
      {
        'x-kubernetes-validations': [
          rule(
            'size(self.metadata.name) <= 63',
            'metadata.name: must have at most 63 characters: HotReleases name member clusters in spec.clusters.names and their steps, and metrics carry the name as a label value',
          ),
        ],
      },
    ),
    MEMBER_CLUSTER_COLUMNS,
  );
}

export function memberClusterCrd(): V1CustomResourceDefinition {
  return toClientModel(memberClusterCrdManifest());
}
