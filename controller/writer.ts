// The Writer plans are executed against, on a KubeClient: every write goes through a
// leader check first, so a replica that lost its lease never writes again (a request
// already on the wire when the lease is lost cannot be recalled; the resourceVersion
// preconditions make such a late write fail when the new leader has moved on).
import type { V1Pod } from '@kubernetes/client-node';
import type { HotDeployment } from './api/types.ts';
import { GROUP, PLURAL, VERSION } from './constants.ts';
import type { Writer, WriteResult } from './execute.ts';
import type { KubeClient } from './kube/client.ts';
import type { KubeResult } from './kube/types.ts';

export const hdPath = (ns: string, name?: string): string =>
  `/apis/${GROUP}/${VERSION}/namespaces/${ns}/${PLURAL}${name ? `/${name}` : ''}`;
export const podPath = (ns: string, name?: string): string =>
  `/api/v1/namespaces/${ns}/pods${name ? `/${name}` : ''}`;

const NOT_LEADER: WriteResult<never> = {
  ok: false,
  status: 0,
  reason: 'NotLeader',
  message: 'this replica does not hold the leader lease',
};

function value<T>(r: KubeResult<T>): WriteResult<T> {
  return r.ok
    ? { ok: true, body: r.body }
    : { ok: false, status: r.status, reason: r.reason, message: r.message };
}

export function kubeWriter(client: KubeClient, isLeader: () => boolean): Writer {
  const guard = async <T>(call: () => Promise<KubeResult<T>>): Promise<WriteResult<T>> =>
    isLeader() ? value(await call()) : NOT_LEADER;
  return {
    createPod: (ns, pod) => guard(() => client.create<V1Pod>(podPath(ns), pod)),
    deletePod: (ns, name, uid) =>
      guard(async () => {
        const r = await client.delete<V1Pod>(podPath(ns, name), { preconditions: { uid } });
        return r as KubeResult<V1Pod>;
      }),
    patchPod: (ns, name, patch) => guard(() => client.patch<V1Pod>(podPath(ns, name), patch, 'strategic')),
    jsonPatchHotDeployment: (ns, name, ops) =>
      guard(() => client.patch<HotDeployment>(hdPath(ns, name), ops, 'json')),
    patchStatus: (ns, name, patch) =>
      guard(() => client.patch<HotDeployment>(`${hdPath(ns, name)}/status`, patch, 'merge')),
    createEvent: (ns, event) => guard(() => client.create(`/api/v1/namespaces/${ns}/events`, event)),
  };
}
