// Where the API server is and how to authenticate, read from a kubeconfig through
// @kubernetes/client-node's KubeConfig (files, in-cluster service account, exec and
// auth-provider plugins), turned into what undici needs: TLS options and headers.
import { KubeConfig } from '@kubernetes/client-node';
import type { RequestOptions as HttpsRequestOptions } from 'node:https';
import type { ConnectionOptions } from 'node:tls';

/** Loads a kubeconfig: the given file, else $KUBECONFIG / ~/.kube/config / in-cluster. */
export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}

export interface Endpoint {
  /** scheme://host:port */
  origin: string;
  /** Path prefix of the server URL (a proxy like https://host/k8s/clusters/c-1), no trailing /. */
  prefix: string;
  /** host:port, the `host` label of the client metrics. */
  host: string;
  tls: Pick<ConnectionOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized' | 'servername'>;
}

// How long auth headers are reused before asking the kubeconfig again, in ms: exec
// plugins and in-cluster token files rotate credentials (tokens live >= 10 min).
const AUTH_REFRESH_MS = 60_000;

/** The current context's server and TLS identity. Throws when the kubeconfig is unusable. */
export async function endpointOf(kc: KubeConfig): Promise<Endpoint> {
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) {
    throw new Error(
      `kubeconfig context "${kc.getCurrentContext()}" names no cluster server: set --kubeconfig or KUBECONFIG`,
    );
  }
  const url = new URL(cluster.server);
  const o: HttpsRequestOptions = {};
  await kc.applyToHTTPSOptions(o);
  return {
    origin: url.origin,
    prefix: url.pathname.replace(/\/+$/, ''),
    host: url.host,
    tls: {
      ...(o.ca ? { ca: o.ca } : {}),
      ...(o.cert ? { cert: o.cert } : {}),
      ...(o.key ? { key: o.key } : {}),
      ...(o.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
      ...(o.servername ? { servername: o.servername } : {}),
    },
  };
}

/** Auth headers (bearer token, basic auth, impersonation), re-read from the kubeconfig every minute. */
export class Credentials {
  readonly #kc: KubeConfig;
  #headers: Record<string, string> = {};
  #at = 0;
  #refreshing: Promise<void> | undefined;

  constructor(kc: KubeConfig) {
    this.#kc = kc;
  }

  async headers(): Promise<Record<string, string>> {
    if (Date.now() - this.#at > AUTH_REFRESH_MS) {
      this.#refreshing ??= this.#refresh().finally(() => (this.#refreshing = undefined));
      await this.#refreshing;
    }
    return this.#headers;
  }

  /** After a 401: the credentials rotated; read them again before the next call. */
  invalidate(): void {
    this.#at = 0;
  }

  async #refresh(): Promise<void> {
    const o: HttpsRequestOptions = {};
    try {
      await this.#kc.applyToHTTPSOptions(o);
      const h: Record<string, string> = {};
      for (const [k, v] of Object.entries(o.headers ?? {})) if (typeof v === 'string') h[k.toLowerCase()] = v;
      if (o.auth) h.authorization = `Basic ${Buffer.from(o.auth).toString('base64')}`;
      this.#headers = h;
    } catch {
      // Keep the old credentials: an exec plugin that fails once should not fail every call.
    }
    this.#at = Date.now();
  }
}
