// The plugin's way to the cluster: the kubeconfig chosen as kubectl chooses it, and the few
// calls the commands make, through the project's own client (results as values).
import type { V1Pod } from '@kubernetes/client-node';
import type { HotDeployment } from '../controller/api/types.ts';
import { LABELS } from '../controller/constants.ts';
import type { HotRelease, MemberCluster } from '../hub/api/types.ts';
import { API_VERSION, HOT_RELEASE, MEMBER_CLUSTER } from '../hub/constants.ts';
import { KubeClient, loadKubeConfig } from '../controller/kube/client.ts';
import type { KubeResult } from '../controller/kube/types.ts';
import { hdPath, podPath } from '../controller/writer.ts';
import type { Connection } from './args.ts';
import { EXIT, FIELD_MANAGER } from './constants.ts';
import type { Patch } from './decide.ts';
import type { Failure } from './errors.ts';

export interface Cluster {
  client: KubeClient;
  namespace: string;
  /** The API server's URL, for messages. */
  server: string;
  /** The kubeconfig context in use, for messages. */
  context: string;
}

/**
 * Loads the kubeconfig (--kubeconfig, else $KUBECONFIG, else ~/.kube/config), switches to
 * --context, and picks the namespace: -n, else the context's, else "default".
 */
export async function connect(
  conn: Connection,
): Promise<{ ok: true; cluster: Cluster } | { ok: false; failure: Failure }> {
  const usage = (message: string): { ok: false; failure: Failure } => ({
    ok: false,
    failure: { code: EXIT.usage, message },
  });
  let kc;
  try {
    kc = loadKubeConfig(conn.kubeconfig);
  } catch (e) {
    const source = conn.kubeconfig
      ? `--kubeconfig ${conn.kubeconfig}`
      : `the kubeconfig (KUBECONFIG=${process.env.KUBECONFIG ?? ''})`;
    return usage(`cannot load ${source}: ${(e as Error).message}`);
  }
  if (conn.context) {
    if (!kc.getContextObject(conn.context)) {
      const names = kc.getContexts().map((c) => c.name);
      return usage(
        `--context ${conn.context} is not in the kubeconfig (contexts: ${names.join(', ') || 'none'})`,
      );
    }
    kc.setCurrentContext(conn.context);
  }
  const context = kc.getCurrentContext();
  const namespace = conn.namespace ?? kc.getContextObject(context)?.namespace ?? 'default';
  let client: KubeClient;
  try {
    client = await KubeClient.fromKubeConfig(kc, {
      fieldManager: FIELD_MANAGER,
      userAgent: 'kubectl-hotupgrade',
      connections: 2,
      watchConnections: 2,
    });
  } catch (e) {
    return usage(`cannot use kubeconfig context "${context}": ${(e as Error).message}`);
  }
  return { ok: true, cluster: { client, namespace, server: client.server, context } };
}

export function getHd(c: Cluster, name: string): Promise<KubeResult<HotDeployment>> {
  return c.client.get<HotDeployment>(hdPath(c.namespace, name));
}

export function patchHd(
  c: Cluster,
  name: string,
  patch: Patch,
  dryRun: boolean,
): Promise<KubeResult<HotDeployment>> {
  const body = patch.type === 'json' ? patch.ops : patch.body;
  return c.client.patch<HotDeployment>(hdPath(c.namespace, name), body, patch.type, { dryRun });
}

/** The label selector of a HotDeployment's pods. */
export const podSelector = (name: string): string => `${LABELS.hotDeployment}=${name}`;

export async function listPods(c: Cluster, name: string): Promise<KubeResult<V1Pod[]>> {
  const r = await c.client.list<V1Pod>(podPath(c.namespace), { labelSelector: podSelector(name) });
  return r.ok ? { ok: true, status: r.status, body: r.body.items } : r;
}

/** The path of the HotReleases of a namespace, or of one. */
export const hrPath = (ns: string, name?: string): string =>
  `/apis/${API_VERSION}/namespaces/${ns}/${HOT_RELEASE.plural}${name !== undefined ? `/${name}` : ''}`;

/** The path of the MemberClusters (cluster-scoped), or of one. */
export const mcPath = (name?: string): string =>
  `/apis/${API_VERSION}/${MEMBER_CLUSTER.plural}${name !== undefined ? `/${name}` : ''}`;

export function getHr(c: Cluster, name: string): Promise<KubeResult<HotRelease>> {
  return c.client.get<HotRelease>(hrPath(c.namespace, name));
}

export function patchHr(
  c: Cluster,
  name: string,
  patch: Patch,
  dryRun: boolean,
): Promise<KubeResult<HotRelease>> {
  const body = patch.type === 'json' ? patch.ops : patch.body;
  return c.client.patch<HotRelease>(hrPath(c.namespace, name), body, patch.type, { dryRun });
}

/**
 * Creates a HotRelease in its metadata.namespace. fieldValidation=Strict: a field the CRD
 * does not know (a typo in a file, `autoRolback`) is an error, not silently dropped.
 */
export function createHr(c: Cluster, hr: HotRelease, dryRun: boolean): Promise<KubeResult<HotRelease>> {
  const path = `${hrPath(hr.metadata.namespace ?? c.namespace)}?fieldValidation=Strict`;
  return c.client.create<HotRelease>(path, hr, { dryRun });
}

export function getMemberCluster(c: Cluster, name: string): Promise<KubeResult<MemberCluster>> {
  return c.client.get<MemberCluster>(mcPath(name));
}

export async function listMemberClusters(
  c: Cluster,
  labelSelector: string,
): Promise<KubeResult<MemberCluster[]>> {
  const r = await c.client.list<MemberCluster>(mcPath(), { labelSelector });
  return r.ok ? { ok: true, status: r.status, body: r.body.items } : r;
}
