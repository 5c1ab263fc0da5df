// Schema pieces both hub CRDs (MemberCluster, HotRelease) share: the CRD around a
// schema, the root object, a Prometheus address, a set of MemberCluster names, and the
// bounds that keep CEL's cost estimates within what the API server accepts.
import { OPERATOR_VERSION, VERSION_ANNOTATION } from '../../controller/version.ts';
import {
  list,
  obj,
  rule,
  str,
  type CrdManifest,
  type JSONSchema,
  type PrinterColumn,
} from '../../controller/api/schema.ts';
import { API_VERSION, GROUP, VERSION } from '../constants.ts';

/** A MemberCluster name: a DNS subdomain of at most 63 characters (see the metadata.name rule). */
export const CLUSTER_NAME = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

/** Most member clusters a release names, and a step names (bounds CEL's cost estimates). */
export const MAX_CLUSTER_NAMES = 100;
export const MAX_STEP_CLUSTERS = 32;
export const MAX_STEPS = 50;

/** A CRD of the hub: group hotupgrade.io, one version, a status subresource, category hotupgrade. */
export const crdManifest = (
  names: { kind: string; plural: string; singular: string; shortNames: readonly string[] },
  scope: 'Namespaced' | 'Cluster',
  schema: JSONSchema,
  additionalPrinterColumns: PrinterColumn[],
): CrdManifest => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${names.plural}.${GROUP}`, annotations: { [VERSION_ANNOTATION]: OPERATOR_VERSION } },
  spec: {
    group: GROUP,
    scope,
    names: { ...names, shortNames: [...names.shortNames], categories: ['hotupgrade'] },
    versions: [
      {
        name: VERSION,
        served: true,
        storage: true,
        schema: { openAPIV3Schema: schema },
        subresources: { status: {} },
        additionalPrinterColumns,
      },
    ],
  },
});

/** The root of a schema: apiVersion, kind, metadata, spec and status. */
export const root = (
  description: string,
  kind: string,
  spec: JSONSchema,
  status: JSONSchema,
  extra: Omit<JSONSchema, 'type' | 'description' | 'properties'> = {},
): JSONSchema =>
  obj(
    description,
    {
      apiVersion: str(`The API version: ${API_VERSION}.`),
      kind: str(`The kind: ${kind}.`),
      // The API server allows nothing but the type here (not even a description).
      metadata: { type: 'object' },
      spec,
      status,
    },
    { required: ['spec'], ...extra },
  );

/** An object with the url of a Prometheus HTTP API; `path` names it in the message. */
export const prometheus = (description: string, path: string): JSONSchema =>
  obj(
    description,
    {
      url: str(
        'The base URL of the Prometheus HTTP API (the hub appends /api/v1/query), e.g. http://prometheus.monitoring:9090.',
        {
          minLength: 1,
          maxLength: 2048,
          'x-kubernetes-validations': [
            rule(
              "isURL(self) && url(self).getScheme() in ['http', 'https'] && url(self).getHost() != ''",
              `${path}.url: must be the http or https URL of a Prometheus API, e.g. http://prometheus.monitoring:9090`,
            ),
          ],
        },
      ),
    },
    { required: ['url'] },
  );

/**
 * A set of MemberCluster names. Checked in CEL rather than by a pattern, for a message
 * that says what to do instead of "*".
 */
export const clusterNames = (description: string, path: string, everyCluster: string, maxItems: number) =>
  list(
    description,
    str('A MemberCluster name.', {
      maxLength: 63,
      'x-kubernetes-validations': [
        rule(
          `self.matches('${CLUSTER_NAME}')`,
          `${path}[]: must be the name of a MemberCluster (lower-case letters, digits, "-" and ".")`,
          {
            messageExpression:
              `self == '*' ? '${path}[]: "*" is not a cluster name; ${everyCluster}' : ` +
              `'${path}[]: "' + self + '" is not the name of a MemberCluster (lower-case letters, digits, "-" and ".")'`,
          },
        ),
      ],
    }),
    { minItems: 1, maxItems, 'x-kubernetes-list-type': 'set' },
  );
