// Building blocks of the project's CustomResourceDefinitions (apiextensions.k8s.io/v1):
// the HotDeployment (controller/api/crd.ts), and the hub's MemberCluster and HotRelease
// (hub/api/crd.ts). Small helpers for schema nodes, CEL rules whose messages name the
// field, and the shapes Kubernetes defines (label selectors, metav1.Condition).
//
// The schema is written in the API server's spelling (`default`, `enum`,
// `x-kubernetes-validations`), not in client-node's model names (`_default`,
// `x_kubernetes_validations`): client-node types `items` and `additionalProperties` as
// `any` and (de)serializes them untouched, so a model-spelled rule under `items` would
// reach the API server with an unknown name and be dropped without an error.
import { loadYaml, type V1CustomResourceDefinition } from '@kubernetes/client-node';

export interface JSONSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'boolean' | 'number';
  description?: string;
  format?: string;
  default?: unknown;
  enum?: unknown[];
  properties?: Record<string, JSONSchema>;
  required?: string[];
  additionalProperties?: JSONSchema;
  items?: JSONSchema;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  'x-kubernetes-int-or-string'?: true;
  'x-kubernetes-preserve-unknown-fields'?: true;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-validations'?: ValidationRule[];
}

/** A CEL rule. Messages name the field and the fix: they are all a user sees of a rejection. */
export interface ValidationRule {
  rule: string;
  message: string;
  /** Evaluated on failure for a message with the offending values; `message` when it fails. */
  messageExpression?: string;
  /** The field the error is reported on, relative to where the rule sits (".hotContainer"). */
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

export interface PrinterColumn {
  name: string;
  type: 'integer' | 'number' | 'string' | 'boolean' | 'date';
  jsonPath: string;
  description: string;
  /** 0: shown by `kubectl get`; 1: only with `-o wide`. */
  priority?: number;
}

/** A CRD as the API server and YAML spell it. */
export interface CrdManifest {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    group: string;
    scope: 'Namespaced' | 'Cluster';
    names: { plural: string; singular: string; kind: string; shortNames?: string[]; categories?: string[] };
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      schema: { openAPIV3Schema: JSONSchema };
      subresources?: {
        status?: Record<string, never>;
        scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string };
      };
      additionalPrinterColumns?: PrinterColumn[];
    }[];
  };
}

// ---- building blocks ------------------------------------------------------------------

type Extra = Omit<JSONSchema, 'type' | 'description'>;

export const rule = (
  expr: string,
  message: string,
  extra: Omit<ValidationRule, 'rule' | 'message'> = {},
): ValidationRule => ({ rule: expr, message, ...extra });

export const obj = (
  description: string,
  properties: Record<string, JSONSchema>,
  extra: Extra = {},
): JSONSchema => ({
  type: 'object',
  description,
  properties,
  ...extra,
});

export const str = (description: string, extra: Extra = {}): JSONSchema => ({
  type: 'string',
  description,
  ...extra,
});

/** An integer; int32 unless `format` says otherwise. */
export const int = (description: string, extra: Extra = {}): JSONSchema => ({
  type: 'integer',
  description,
  format: 'int32',
  ...extra,
});

/** A JSON number (integer or fraction): thresholds, metric values. */
export const num = (description: string, extra: Extra = {}): JSONSchema => ({
  type: 'number',
  description,
  ...extra,
});

export const bool = (description: string, extra: Extra = {}): JSONSchema => ({
  type: 'boolean',
  description,
  ...extra,
});

export const list = (description: string, items: JSONSchema, extra: Extra = {}): JSONSchema => ({
  type: 'array',
  description,
  items,
  ...extra,
});

/** A map of strings (labels, annotations); CEL needs `maxProperties` to bound its cost. */
export const stringMap = (description: string, valueMaxLength?: number, extra: Extra = {}): JSONSchema => ({
  type: 'object',
  description,
  additionalProperties: {
    type: 'string',
    ...(valueMaxLength === undefined ? {} : { maxLength: valueMaxLength }),
  },
  ...extra,
});

export const dateTime = (description: string): JSONSchema => str(description, { format: 'date-time' });

/** A DNS-1123 label (container names, ...). */
export const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

/** An API server quantity ("512Mi", "1Gi", "1.5G"), as in core/v1. */
export const QUANTITY =
  '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';

/** A positive quantity of bytes; `path` names the field in the message. */
export const quantity = (description: string, path: string): JSONSchema =>
  str(description, {
    pattern: QUANTITY,
    maxLength: 64,
    'x-kubernetes-validations': [
      rule(
        "isQuantity(self) && quantity(self).isGreaterThan(quantity('0'))",
        `${path}: must be a positive quantity of bytes such as "256Mi" or "1Gi"`,
      ),
    ],
  });

/**
 * A count of pods or a percent of spec.replicas: an integer >= min, or "min%".."100%".
 * `path` names the field in the message; `of` what the percent is of (spec.replicas).
 */
export const intOrPercent = (
  description: string,
  path: string,
  opts: { min: 0 | 1; example: string; default?: number | string; of?: string },
): JSONSchema => {
  const { min, example, of = 'spec.replicas' } = opts;
  const percent = min === 1 ? '^(100|[1-9][0-9]?)%$' : '^(100|[1-9]?[0-9])%$';
  return {
    description,
    'x-kubernetes-int-or-string': true,
    ...(opts.default === undefined ? {} : { default: opts.default }),
    // "100%" is the longest valid string; the bound keeps CEL's cost estimate small.
    maxLength: 4,
    'x-kubernetes-validations': [
      rule(
        `type(self) == int ? self >= ${min} : self.matches('${percent}')`,
        `${path}: must be a number of pods >= ${min} or a percent of ${of} from "${min}%" to "100%", e.g. ${example}`,
        {
          messageExpression:
            `'${path}: ' + (type(self) == int ? string(self) : '"' + string(self) + '"') + ` +
            `' is neither a number of pods >= ${min} nor a percent of ${of} from "${min}%" to "100%"; use e.g. ${example}'`,
        },
      ),
    ],
  };
};

/**
 * metav1.LabelSelector over the labels of a `subject` (pod by default); `path` names the
 * field in messages. Never empty unless `allowEmpty` (then {} selects every subject).
 */
export const labelSelector = (
  description: string,
  path: string,
  rules: ValidationRule[] = [],
  opts: { subject?: string; allowEmpty?: boolean } = {},
): JSONSchema => {
  const { subject = 'pod', allowEmpty = false } = opts;
  const notEmpty = rule(
    '(has(self.matchLabels) && size(self.matchLabels) > 0) || (has(self.matchExpressions) && size(self.matchExpressions) > 0)',
    `${path}: must not be empty (it would select every pod in the namespace); set matchLabels to labels of the template, e.g. app: demo`,
  );
  return obj(
    description,
    {
      matchLabels: stringMap(
        `Labels a ${subject} must have, each with this value (ANDed with matchExpressions).`,
        63,
        { maxProperties: 64 },
      ),
      matchExpressions: list(
        `Requirements on ${subject} labels, all of which must hold (ANDed with matchLabels).`,
        obj(
          'A requirement on one label.',
          {
            key: str('The label key.', { minLength: 1, maxLength: 317 }),
            operator: str('How the label relates to values: In, NotIn, Exists or DoesNotExist.', {
              enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'],
            }),
            values: list(
              'Label values; non-empty for In and NotIn, empty for Exists and DoesNotExist.',
              str('A label value.', { maxLength: 63 }),
              { maxItems: 64 },
            ),
          },
          {
            required: ['key', 'operator'],
            'x-kubernetes-validations': [
              rule(
                "self.operator in ['In', 'NotIn'] ? has(self.values) && size(self.values) > 0 : !has(self.values) || size(self.values) == 0",
                `${path}.matchExpressions: operators In and NotIn need values, Exists and DoesNotExist take none`,
              ),
            ],
          },
        ),
        { maxItems: 32 },
      ),
    },
    {
      'x-kubernetes-map-type': 'atomic',
      ...(allowEmpty && !rules.length
        ? {}
        : { 'x-kubernetes-validations': [...(allowEmpty ? [] : [notEmpty]), ...rules] }),
    },
  );
};

/** CEL: do the labels `labels` (a map expression) satisfy the selector `sel`? */
export const selectorMatchesCel = (sel: string, labels: string): string =>
  `(!has(${sel}.matchLabels) || ${sel}.matchLabels.all(k, k in ${labels} && ${labels}[k] == ${sel}.matchLabels[k])) && ` +
  `(!has(${sel}.matchExpressions) || ${sel}.matchExpressions.all(e, ` +
  `e.operator == 'In' ? e.key in ${labels} && has(e.values) && ${labels}[e.key] in e.values : ` +
  `e.operator == 'NotIn' ? !(e.key in ${labels}) || !has(e.values) || !(${labels}[e.key] in e.values) : ` +
  `e.operator == 'Exists' ? e.key in ${labels} : !(e.key in ${labels})))`;

/** metav1.Condition list, keyed by type (what kubebuilder generates for []metav1.Condition). */
export const conditions = (description: string): JSONSchema =>
  list(
    description,
    obj(
      'One aspect of the current state (metav1.Condition).',
      {
        type: str('The condition type, in CamelCase (e.g. Available).', {
          maxLength: 316,
          pattern:
            '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
        }),
        status: str('True, False or Unknown.', { enum: ['True', 'False', 'Unknown'] }),
        observedGeneration: int('The metadata.generation the condition was set for.', {
          format: 'int64',
          minimum: 0,
        }),
        lastTransitionTime: dateTime('When the status last changed (RFC 3339).'),
        reason: str('Why the condition has its status: a CamelCase word a program can switch on.', {
          minLength: 1,
          maxLength: 1024,
          pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
        }),
        message: str('What a human should know about the condition; may be empty.', { maxLength: 32768 }),
      },
      { required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'] },
    ),
    { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'], maxItems: 16 },
  );

/** `x-kubernetes-preserve-unknown-fields: true` on an object schema. */
export const preserve = { 'x-kubernetes-preserve-unknown-fields': true } as const;

/**
 * CEL: the names of the first `max` items of `list`, comma-separated, then ", ..." when
 * there are more. Spelled out item by item: CEL's cost estimate of map(...).join(...)
 * has no bound, and the API server rejects the CRD for it.
 */
export const namesCel = (list: string, max: number): string =>
  [
    `(size(${list}) > 0 ? ${list}[0].name : '')`,
    ...Array.from(
      { length: max - 1 },
      (_, i) => `(size(${list}) > ${i + 1} ? ', ' + ${list}[${i + 1}].name : '')`,
    ),
    `(size(${list}) > ${max} ? ', ...' : '')`,
  ].join(' + ');

/** A manifest as a client-node model (JSON is YAML: loadYaml deserializes by apiVersion/kind). */
export function toClientModel(manifest: CrdManifest): V1CustomResourceDefinition {
  return loadYaml<V1CustomResourceDefinition>(JSON.stringify(manifest));
}
