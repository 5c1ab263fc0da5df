// The HotRelease `release` creates: built from its flags, or read from a YAML or JSON
// document (-f). Checks here what the command line can get wrong (names, the image, the
// step syntax, a URL); the API server's schema and CEL rules check the whole object.
// Pure: the caller reads the file.
import { loadYaml, type V1LabelSelector, type V1LabelSelectorRequirement } from '@kubernetes/client-node';
import type { HotRelease, HotReleaseSpec, ReleaseStep } from '../hub/api/types.ts';
import { API_VERSION, HOT_RELEASE } from '../hub/constants.ts';
import { checkPrometheusUrl, parseClusterList, parseSeconds, parseStep, STEP_EXAMPLES } from './steps.ts';

export type ReleaseResult = { ok: true; release: HotRelease } | { ok: false; message: string };

/** The flags of `release NAME ...`, as given. */
export interface ReleaseFlags {
  name: string;
  target?: string;
  targetNamespace?: string;
  image?: string;
  clusters?: string;
  selector?: string;
  allClusters: boolean;
  steps: string[];
  autoRollback: boolean;
  progressDeadline?: string;
  prometheus?: string;
}

/** An object name: a DNS-1123 subdomain. */
const OBJECT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A HotDeployment name in the CRD (at most 63 characters), and a namespace. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
/** The longest progress deadline taken, in seconds (a day). */
const MAX_DEADLINE_SECONDS = 86_400;

/** A plan to show when --step is missing. */
export const EXAMPLE_STEPS = STEP_EXAMPLES.map((s) => `--step ${s}`).join(' ');

/**
 * kubectl's equality-based selector: `k=v` (or `k==v`), `k!=v`, `k` (has the label),
 * `!k` (has not), separated by commas.
 */
export function parseSelector(
  raw: string,
): { ok: true; selector: V1LabelSelector } | { ok: false; message: string } {
  const matchLabels: Record<string, string> = {};
  const matchExpressions: V1LabelSelectorRequirement[] = [];
  const bad = (part: string, why: string) => ({
    ok: false as const,
    message: `--selector: "${part}" ${why}; write e.g. --selector env=prod,tier!=canary (k=v, k!=v, k, !k; separated by commas)`,
  });
  for (const part of raw.split(',').map((p) => p.trim())) {
    const m = /^(!)?([^=!]+?)\s*(?:(==|=|!=)\s*(.*))?$/.exec(part);
    if (!m) return bad(part, 'is not a requirement');
    const [, not, key = '', op, value = ''] = m;
    if (!LABEL_KEY.test(key)) return bad(part, `has no valid label key ("${key}")`);
    if (not && op) return bad(part, 'mixes ! with a value');
    if (op && !LABEL_VALUE.test(value)) return bad(part, `has no valid label value ("${value}")`);
    if (not) matchExpressions.push({ key, operator: 'DoesNotExist' });
    else if (op === '!=') matchExpressions.push({ key, operator: 'NotIn', values: [value] });
    else if (op) {
      if (key in matchLabels && matchLabels[key] !== value)
        return bad(part, `contradicts ${key}=${matchLabels[key] ?? ''}`);
      matchLabels[key] = value;
    } else matchExpressions.push({ key, operator: 'Exists' });
  }
  return {
    ok: true,
    selector: {
      ...(Object.keys(matchLabels).length ? { matchLabels } : {}),
      ...(matchExpressions.length ? { matchExpressions } : {}),
    },
  };
}

/** A label selector as the API's ?labelSelector= spells it ("" selects everything). */
export function selectorString(s: V1LabelSelector): string {
  const parts = Object.entries(s.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of s.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

/** Why `image` is not an image reference; undefined when it is one. */
export function checkImage(image: string): string | undefined {
  if (image === '' || /\s/.test(image)) return `"${image}" is not an image reference (no spaces)`;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(image)) return `"${image}" is a URL, not an image reference`;
  if (image !== image.trim() || image.startsWith('-')) return `"${image}" is not an image reference`;
  return undefined;
}

export function buildRelease(f: ReleaseFlags): ReleaseResult {
  const fail = (message: string): ReleaseResult => ({ ok: false, message });
  if (f.name.length > 253 || !OBJECT_NAME.test(f.name)) {
    return fail(
      `NAME "${f.name}" is not a valid name for a HotRelease: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit (e.g. web-v2)`,
    );
  }
  if (f.target === undefined)
    return fail('--target is missing: name the HotDeployment to upgrade in every cluster, e.g. --target web');
  if (!DNS_LABEL.test(f.target)) {
    return fail(
      `--target "${f.target}" is not a HotDeployment name: lowercase letters, digits and "-", at most 63 characters`,
    );
  }
  if (f.targetNamespace !== undefined && !DNS_LABEL.test(f.targetNamespace)) {
    return fail(
      `--target-namespace "${f.targetNamespace}" is not a namespace name (a DNS label: lowercase letters, digits and "-")`,
    );
  }
  if (f.image === undefined)
    return fail('--image is missing: the new hot image, e.g. --image registry.example.com/web:v2');
  const imageWhy = checkImage(f.image);
  if (imageWhy) return fail(`--image ${imageWhy}; write e.g. registry.example.com/web:v2`);

  const choices = [f.clusters !== undefined, f.selector !== undefined, f.allClusters].filter(Boolean).length;
  if (choices !== 1) {
    return fail(
      `${choices === 0 ? 'no member clusters given' : 'give the member clusters one way only'}: use --clusters a,b (MemberCluster names), --selector env=prod (by label) or --all-clusters`,
    );
  }
  let clusters: HotReleaseSpec['clusters'];
  if (f.clusters !== undefined) {
    const list = parseClusterList(f.clusters, '--clusters');
    if (!list.ok) return fail(list.message);
    clusters = { names: list.names };
  } else if (f.selector !== undefined) {
    if (f.selector.trim() === '')
      return fail('--selector is empty: give labels (env=prod), or --all-clusters for every member cluster');
    const sel = parseSelector(f.selector);
    if (!sel.ok) return fail(sel.message);
    clusters = { selector: sel.selector };
  } else {
    clusters = { selector: {} };
  }

  if (f.steps.length === 0) {
    return fail(
      `no --step given: a release has no default plan; say how to roll out, step by step, e.g.\n  ${EXAMPLE_STEPS}\n(see: kubectl hotupgrade release --help)`,
    );
  }
  const steps: ReleaseStep[] = [];
  for (const raw of f.steps) {
    const s = parseStep(raw);
    if (!s.ok) return fail(s.message);
    steps.push(s.step);
  }

  const spec: HotReleaseSpec = {
    target: { name: f.target, ...(f.targetNamespace !== undefined ? { namespace: f.targetNamespace } : {}) },
    image: f.image,
    clusters,
    steps,
  };
  if (f.prometheus !== undefined) {
    const why = checkPrometheusUrl(f.prometheus);
    if (why) return fail(`--prometheus ${why}`);
    spec.prometheus = { url: f.prometheus };
  }
  if (f.autoRollback) spec.autoRollback = true;
  if (f.progressDeadline !== undefined) {
    const s = parseSeconds(f.progressDeadline, MAX_DEADLINE_SECONDS);
    if (s === undefined) {
      return fail(
        `--progress-deadline "${f.progressDeadline}" is not a deadline: whole seconds from 1 to 86400 (600, or 10m)`,
      );
    }
    spec.progressDeadlineSeconds = s;
  }
  return {
    ok: true,
    release: {
      apiVersion: API_VERSION,
      kind: HOT_RELEASE.kind,
      metadata: { name: f.name },
      spec,
    } as HotRelease,
  };
}

/** A HotRelease from the text of a YAML or JSON document (`source` names it in messages). */
export function readRelease(text: string, source: string): ReleaseResult {
  const fail = (message: string): ReleaseResult => ({ ok: false, message: `${source}: ${message}` });
  // The documents between `---` lines that hold more than comments (client-node's
  // loadAllYaml fails on an empty one, as a file ending in `---` has).
  const chunks = text.split(/^---[ \t]*(?:#.*)?$/m).filter((c) => /^[ \t]*[^\s#]/m.test(c));
  const docs: unknown[] = [];
  for (const chunk of chunks) {
    try {
      docs.push(loadYaml(chunk));
    } catch (e) {
      return fail(`not YAML or JSON: ${(e as Error).message.split('\n')[0] ?? ''}`);
    }
  }
  if (docs.length !== 1) {
    return fail(
      docs.length === 0
        ? 'no object in it'
        : `${docs.length} objects in it; release creates one HotRelease per file`,
    );
  }
  const o = docs[0] as Partial<HotRelease> & Record<string, unknown>;
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return fail('not an object');
  if (o.kind !== HOT_RELEASE.kind || o.apiVersion !== API_VERSION) {
    return fail(
      `kind ${String(o.kind)} (apiVersion ${String(o.apiVersion)}) is not a HotRelease; write apiVersion: ${API_VERSION} and kind: ${HOT_RELEASE.kind}`,
    );
  }
  const name = o.metadata?.name;
  if (typeof name !== 'string' || name === '') {
    return fail(
      o.metadata?.generateName
        ? 'metadata.generateName is not supported: give metadata.name'
        : 'metadata.name is missing',
    );
  }
  if (o.status !== undefined) return fail('has a status: the hub controller writes it; leave it out');
  return { ok: true, release: o as HotRelease };
}

/**
 * Where the release goes: its own namespace, or the connection's. A namespace in the
 * document that -n contradicts is an error, as with kubectl apply.
 */
export function placeRelease(
  hr: HotRelease,
  namespace: string,
  explicit: boolean,
): { ok: true; release: HotRelease } | { ok: false; message: string } {
  const own = hr.metadata.namespace;
  if (own && explicit && own !== namespace) {
    return {
      ok: false,
      message: `the HotRelease's metadata.namespace "${own}" does not match -n ${namespace}: leave one of them out, or make them the same`,
    };
  }
  return { ok: true, release: { ...hr, metadata: { ...hr.metadata, namespace: own || namespace } } };
}
