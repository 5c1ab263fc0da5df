// A container's environment as the kubelet builds it, from the pod object current at the
// container's (re)start: literal values with $(VAR) expansion and downward-API fieldRefs.
// That the annotations are read at each start is what tells a restarted slot its new
// version (docs/protocol.md §1.3). Pure.
import type { Container, Pod } from './wire.ts';

export interface FieldSource {
  pod: Pod;
  podIP: string;
  hostIP: string;
  nodeName: string;
}

/** metadata.annotations['x'] / metadata.labels['x'] (single or double quotes). */
const SUBSCRIPT = /^metadata\.(annotations|labels)\[(['"])(.*)\2\]$/;

/** The value of a downward-API fieldPath, or undefined when the path is not supported. */
export function fieldValue(path: string, src: FieldSource): string | undefined {
  const m = SUBSCRIPT.exec(path);
  if (m) {
    const map = m[1] === 'annotations' ? src.pod.metadata.annotations : src.pod.metadata.labels;
    return map?.[m[3] ?? ''] ?? '';
  }
  switch (path) {
    case 'metadata.name':
      return src.pod.metadata.name;
    case 'metadata.namespace':
      return src.pod.metadata.namespace ?? 'default';
    case 'metadata.uid':
      return src.pod.metadata.uid;
    case 'spec.nodeName':
      return src.nodeName;
    case 'spec.serviceAccountName':
      return src.pod.spec.serviceAccountName ?? 'default';
    case 'status.podIP':
    case 'status.podIPs':
      return src.podIP;
    case 'status.hostIP':
    case 'status.hostIPs':
      return src.hostIP;
    default:
      return undefined;
  }
}

/**
 * Kubernetes' $(VAR) expansion: a reference to a variable defined before it (or in
 * `defined`) is replaced, `$$` is a literal `$`, anything else stays as written.
 */
export function expand(value: string, defined: Record<string, string>): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch !== '$' || i + 1 >= value.length) {
      out += ch;
      continue;
    }
    const next = value[i + 1];
    if (next === '$') {
      out += '$';
      i++;
      continue;
    }
    if (next === '(') {
      const close = value.indexOf(')', i + 2);
      if (close > 0) {
        const name = value.slice(i + 2, close);
        const v = defined[name];
        if (v !== undefined) {
          out += v;
          i = close;
          continue;
        }
      }
    }
    out += ch;
  }
  return out;
}

export interface ResolvedEnv {
  env: Record<string, string>;
  /** What could not be resolved (configMap/secret refs, unknown fieldPaths): set to "". */
  unsupported: string[];
}

/** The spec's env of one container, in order, resolved against the pod as it is now. */
export function resolveEnv(container: Container, src: FieldSource): ResolvedEnv {
  const env: Record<string, string> = {};
  const unsupported: string[] = [];
  for (const e of container.env ?? []) {
    if (e.valueFrom) {
      const path = e.valueFrom.fieldRef?.fieldPath;
      const v = path === undefined ? undefined : fieldValue(path, src);
      if (v === undefined) {
        unsupported.push(`${e.name} (${path ?? Object.keys(e.valueFrom).join(',')})`);
        env[e.name] = '';
      } else {
        env[e.name] = v;
      }
    } else {
      env[e.name] = expand(e.value ?? '', env);
    }
  }
  return { env, unsupported };
}

/** A path inside the container translated to the host dir of the volume mounted there. */
export function hostPath(path: string, mounts: { mountPath: string; hostDir: string }[]): string | undefined {
  for (const m of mounts) {
    const mp = m.mountPath.replace(/\/+$/, '');
    if (path === mp) return m.hostDir;
    if (path.startsWith(`${mp}/`)) return m.hostDir + path.slice(mp.length);
  }
  return undefined;
}
