// Walking a CRD schema, alone or together with a value: what the CRD tests
// (controller/api/crd.test.ts, hub/api/crd.test.ts) use to hold the schema, the types in
// types.ts and docs/crd-reference.md to one shape. Only tests import this file.
import type { JSONSchema, ValidationRule } from './schema.ts';

/**
 * T with every optional field of our own types required, recursively, so that tsc makes
 * a fixture complete. Fields named in `Keep` (the API server's metadata, a pod template
 * kept as it is) stay as they are.
 */
export type Full<T, Keep extends string = 'metadata'> = T extends (infer U)[]
  ? Full<U, Keep>[]
  : T extends object
    ? { [K in keyof T]-?: K extends Keep ? T[K] : Full<NonNullable<T[K]>, Keep> }
    : T;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every property path the schema declares: `.spec.selector.matchLabels.*`, `.spec.updateStrategy.batches[].replicas`. */
export function schemaPaths(s: JSONSchema, path = ''): string[] {
  const out: string[] = [];
  for (const [k, child] of Object.entries(s.properties ?? {})) {
    out.push(`${path}.${k}`, ...schemaPaths(child, `${path}.${k}`));
  }
  if (s.items) out.push(...schemaPaths(s.items, `${path}[]`));
  if (s.additionalProperties) {
    out.push(`${path}.*`, ...schemaPaths(s.additionalProperties, `${path}.*`));
  }
  return out;
}

/** Walks a value along the schema: returns the paths it covered and where the two disagree. */
export function walk(
  value: unknown,
  s: JSONSchema,
  path = '',
  seen = new Set<string>(),
  problems: string[] = [],
): { seen: Set<string>; problems: string[] } {
  if (path) seen.add(path);
  const where = path || '(root)';
  if (s['x-kubernetes-int-or-string']) {
    if (!Number.isInteger(value) && typeof value !== 'string')
      problems.push(`${where}: not an int or string`);
  } else if (s.type === 'object') {
    if (!isPlainObject(value)) problems.push(`${where}: not an object`);
    else {
      for (const [k, v] of Object.entries(value)) {
        const child = s.properties?.[k];
        if (child) walk(v, child, `${path}.${k}`, seen, problems);
        else if (s.additionalProperties) walk(v, s.additionalProperties, `${path}.*`, seen, problems);
        else if (s['x-kubernetes-preserve-unknown-fields'] || !s.properties) continue;
        else problems.push(`${path}.${k}: in the value but not in the schema`);
      }
    }
  } else if (s.type === 'array') {
    if (!Array.isArray(value)) problems.push(`${where}: not an array`);
    else if (s.items) for (const v of value) walk(v, s.items, `${path}[]`, seen, problems);
  } else if (s.type === 'integer') {
    if (!Number.isInteger(value)) problems.push(`${where}: not an integer`);
  } else if (s.type === 'number') {
    if (typeof value !== 'number') problems.push(`${where}: not a number`);
  } else if (s.type === 'string') {
    if (typeof value !== 'string') problems.push(`${where}: not a string`);
  } else if (s.type === 'boolean') {
    if (typeof value !== 'boolean') problems.push(`${where}: not a boolean`);
  } else {
    problems.push(`${where}: the test knows no schema type ${String(s.type)}`);
  }
  return { seen, problems };
}

/** The schema node at a path from schemaPaths(), under `root`. */
export function at(root: JSONSchema, path: string): JSONSchema {
  let s: JSONSchema | undefined = root;
  for (const part of path.match(/\.[^.[]+|\[\]/g) ?? []) {
    if (part === '[]') s = s?.items;
    else if (part === '.*') s = s?.additionalProperties;
    else s = s?.properties?.[part.slice(1)];
  }
  if (!s) throw new Error(`no schema at ${path}`);
  return s;
}

/** Every node of the schema with its path. */
export function nodes(s: JSONSchema, path = ''): [string, JSONSchema][] {
  return [
    [path, s],
    ...Object.entries(s.properties ?? {}).flatMap(([k, c]) => nodes(c, `${path}.${k}`)),
    ...(s.items ? nodes(s.items, `${path}[]`) : []),
    ...(s.additionalProperties ? nodes(s.additionalProperties, `${path}.*`) : []),
  ];
}

/** Every CEL rule of the schema with the path of the node it sits on. */
export function rules(s: JSONSchema): (readonly [string, ValidationRule])[] {
  return nodes(s).flatMap(([p, n]) => (n['x-kubernetes-validations'] ?? []).map((r) => [p, r] as const));
}
