// How the hub reaches member clusters: one API client per MemberCluster, built from the
// kubeconfig in its Secret (or the hub's own client for inCluster), rebuilt when the
// MemberCluster or the Secret changes; and the probe that fills MemberCluster.status.
import { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { HotDeployment } from '../controller/api/types.ts';
import { GROUP, PLURAL } from '../controller/constants.ts';
import { KubeClient } from '../controller/kube/client.ts';
import type { KubeResult } from '../controller/kube/types.ts';
import { VERSION_ANNOTATION } from '../controller/version.ts';
import { hdPath } from '../controller/writer.ts';
import type { MemberCluster } from './api/types.ts';
import { DEFAULT_KUBECONFIG_KEY } from './constants.ts';

/** A member as the hub can use it: a client, or why there is none (a problem to fix on the hub). */
export type MemberAccess = { ok: true; client: KubeClient } | { ok: false; invalid: string };

export interface ProbeResult {
  reachable: boolean;
  /** KubeconfigInvalid rather than ProbeFailed. */
  invalid?: boolean;
  message: string;
  kubernetesVersion?: string;
  operatorVersion?: string;
}

interface Entry {
  /** What the client was built from: the MemberCluster's generation and the Secret's resourceVersion. */
  stamp: string;
  client: KubeClient;
  /** When the Secret was last read, ms. */
  readAt: number;
}

export interface MembersOptions {
  hub: KubeClient;
  log: Logger;
  /** Per-request timeout of member requests, ms. */
  timeoutMs: number;
  /** The Secret is read again at most this often, ms (a rotated kubeconfig is picked up within it). */
  secretTtlMs: number;
  userAgent: string;
  now?: () => number;
}

const CRD_PATH = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${PLURAL}.${GROUP}`;

/** A member answered, or did not: only transport failures, timeouts, 5xx and auth failures are "unreachable". */
export function unreachableMessage(r: Extract<KubeResult<unknown>, { ok: false }>): string | undefined {
  if (r.status === 0 || r.status >= 500 || r.status === 401 || r.status === 403 || r.status === 429)
    return r.message;
  return undefined;
}

export class Members {
  readonly #o: MembersOptions;
  readonly #now: () => number;
  readonly #cache = new Map<string, Entry>();

  constructor(o: MembersOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
  }

  /** Reads of a Secret in flight, per MemberCluster: a probe and a release asking at once share one. */
  readonly #pending = new Map<string, Promise<MemberAccess>>();

  /** The client of `mc`, reading its Secret when the cached one is older than secretTtlMs. */
  async access(mc: MemberCluster): Promise<MemberAccess> {
    const name = mc.metadata.name ?? '';
    const pending = this.#pending.get(name);
    if (pending) return pending;
    const p = this.#access(mc).finally(() => this.#pending.delete(name));
    this.#pending.set(name, p);
    return p;
  }

  async #access(mc: MemberCluster): Promise<MemberAccess> {
    const name = mc.metadata.name ?? '';
    if (mc.spec.inCluster) return { ok: true, client: this.#o.hub };
    const ref = mc.spec.kubeconfigSecretRef;
    if (!ref) return { ok: false, invalid: 'spec sets neither kubeconfigSecretRef nor inCluster' };
    const cached = this.#cache.get(name);
    const now = this.#now();
    if (
      cached &&
      now - cached.readAt < this.#o.secretTtlMs &&
      cached.stamp.startsWith(`${mc.metadata.generation ?? 0}/`)
    )
      return { ok: true, client: cached.client };
    const key = ref.key ?? DEFAULT_KUBECONFIG_KEY;
    const where = `Secret ${ref.namespace}/${ref.name}`;
    const s = await this.#o.hub.get<{
      metadata?: { resourceVersion?: string };
      data?: Record<string, string>;
    }>(`/api/v1/namespaces/${ref.namespace}/secrets/${ref.name}`);
    if (!s.ok) {
      if (s.status === 404)
        return {
          ok: false,
          invalid: `${where} not found: create it with the member's kubeconfig under key "${key}" (kubectl create secret generic ${ref.name} -n ${ref.namespace} --from-file=${key}=PATH)`,
        };
      if (s.status === 403)
        return {
          ok: false,
          invalid: `${where}: the hub may not read it (${s.message}); the chart's hub RBAC reads Secrets in its own namespace only`,
        };
      // The hub's own API server failing: keep the client we have, if any.
      if (cached) return { ok: true, client: cached.client };
      return { ok: false, invalid: `${where}: ${s.message}` };
    }
    const stamp = `${mc.metadata.generation ?? 0}/${s.body.metadata?.resourceVersion ?? ''}/${key}`;
    if (cached && cached.stamp === stamp) {
      cached.readAt = now;
      return { ok: true, client: cached.client };
    }
    const data = s.body.data?.[key];
    if (!data) {
      const keys = Object.keys(s.body.data ?? {});
      return {
        ok: false,
        invalid: `${where} has no key "${key}" (it has ${keys.length > 0 ? keys.join(', ') : 'no keys'}): set spec.kubeconfigSecretRef.key or add the key`,
      };
    }
    let client: KubeClient;
    try {
      const kc = new KubeConfig();
      kc.loadFromString(Buffer.from(data, 'base64').toString('utf8'));
      client = await KubeClient.fromKubeConfig(kc, {
        qps: 50,
        burst: 100,
        connections: 4,
        watchConnections: 1,
        timeoutMs: this.#o.timeoutMs,
        userAgent: this.#o.userAgent,
        fieldManager: 'hotupgrade-hub',
      });
    } catch (err) {
      return {
        ok: false,
        invalid: `${where} key "${key}" is not a usable kubeconfig: ${(err as Error).message}`,
      };
    }
    if (cached) void cached.client.close().catch(() => undefined);
    this.#cache.set(name, { stamp, client, readAt: now });
    this.#o.log.info({ cluster: name, secret: where }, 'member client built');
    return { ok: true, client };
  }

  /** Forget a MemberCluster that is gone. */
  forget(name: string): void {
    const e = this.#cache.get(name);
    this.#cache.delete(name);
    if (e) void e.client.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#cache.values()].map((e) => e.client.close().catch(() => undefined)));
    this.#cache.clear();
  }

  /** /version and the HotDeployment CRD's operator version. */
  async probe(mc: MemberCluster): Promise<ProbeResult> {
    const a = await this.access(mc);
    if (!a.ok) return { reachable: false, invalid: true, message: a.invalid };
    const v = await a.client.get<{ gitVersion?: string }>('/version');
    if (!v.ok) return { reachable: false, message: v.message };
    const crd = await a.client.get<{ metadata?: { annotations?: Record<string, string> } }>(CRD_PATH);
    const operatorVersion = crd.ok
      ? (crd.body.metadata?.annotations?.[VERSION_ANNOTATION] ?? 'unknown')
      : crd.status === 404
        ? 'not installed'
        : 'unknown';
    const note = crd.ok
      ? ''
      : crd.status === 404
        ? '; the HotDeployment CRD is not installed there: install the hotupgrade chart'
        : `; CRD: ${crd.message}`;
    return {
      reachable: true,
      message: `API server ${v.body.gitVersion ?? '?'} answered${note}`,
      ...(v.body.gitVersion ? { kubernetesVersion: v.body.gitVersion } : {}),
      operatorVersion,
    };
  }

  /** The target HotDeployment there: the object, null when it does not exist, or why the member could not be asked. */
  async readTarget(
    client: KubeClient,
    ns: string,
    name: string,
  ): Promise<{ hd: HotDeployment | null } | { unreachable: string } | { invalid: string }> {
    const r = await client.get<HotDeployment>(hdPath(ns, name));
    if (r.ok) return { hd: r.body };
    if (r.status === 404) return { hd: null };
    const u = unreachableMessage(r);
    return u ? { unreachable: u } : { invalid: r.message };
  }
}
