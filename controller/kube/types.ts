// The few shapes of the Kubernetes wire format the runtime layer needs. Objects stay plain
// JSON (timestamps are strings), unlike @kubernetes/client-node's model classes.

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  deletionTimestamp?: string;
  managedFields?: unknown[];
  [field: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

/** metav1.Status: the body of every API error. */
export interface KubeStatus {
  kind?: 'Status';
  apiVersion?: string;
  status?: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  code?: number;
  details?: {
    name?: string;
    kind?: string;
    causes?: { reason?: string; message?: string; field?: string }[];
  };
}

export interface KubeList<T> {
  items: T[];
  /** The collection's resourceVersion: where a watch continues without missing a change. */
  resourceVersion: string;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export type WatchEvent<T> =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: T }
  | { type: 'BOOKMARK'; object: KubeObject }
  | { type: 'ERROR'; object: KubeStatus };

/**
 * An API call's outcome as a value. `reason` is the Status reason (NotFound, Conflict,
 * AlreadyExists, Invalid, Expired, ...); network failures have status 0 and reason
 * NetworkError (or Aborted when the caller's signal fired).
 */
export type KubeResult<T> =
  | { ok: true; status: number; body: T }
  | { ok: false; status: number; reason: string; message: string; details?: KubeStatus['details'] };

export type KubeError = Extract<KubeResult<unknown>, { ok: false }>;

/** `namespace/name`, or `name` for cluster-scoped objects (client-go's MetaNamespaceKeyFunc). */
export function objectKey(obj: KubeObject): string {
  const m = obj.metadata ?? {};
  return m.namespace ? `${m.namespace}/${m.name ?? ''}` : (m.name ?? '');
}
