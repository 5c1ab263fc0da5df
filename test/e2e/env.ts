// The end-to-end environment, as a user meets the product: a cluster with a real kubelet
// (the single node of test/cluster, or the user's own through KUBECONFIG_E2E), the
// project's images built from the repository's Dockerfile, and the chart installed with
// helm. Shared by the e2e suite, `npm run bench:e2e` and `npm run demo`.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HotDeployment } from '../../controller/api/types.ts';
import { KubeClient, loadKubeConfig } from '../../controller/kube/client.ts';
import { hdPath } from '../../controller/writer.ts';
import { buildProjectImages } from '../../scripts/images.ts';
import { BIN, k8sBin } from '../cluster/config.ts';
import { externalKubeconfig, startNode, until, type TestCluster } from '../cluster/harness.ts';
import { run } from '../cluster/proc.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const CHART = join(REPO, 'charts/hotupgrade');
export const RELEASE = 'hotupgrade';
export const OPERATOR_NS = 'hotupgrade-system';
/** Where the images live; the e2e cluster gets them imported, kind gets them loaded. */
export const REGISTRY = process.env.HOTUPGRADE_E2E_REGISTRY ?? 'hotupgrade.local';
export const TAG = process.env.HOTUPGRADE_E2E_TAG ?? 'dev';

export const demoImage = (v: string): string => `${REGISTRY}/demo:${v}`;
export const projectImage = (name: 'controller' | 'sidecar' | 'placeholder'): string =>
  `${REGISTRY}/${name}:${TAG}`;

export interface E2E {
  cluster: TestCluster;
  kubeconfig: string;
  client: KubeClient;
  /** Scratch directory of this run (logs, Prometheus data). */
  dir: string;
  helm(args: string[], timeoutMs?: number): Promise<string>;
  kubectl(args: string[], input?: string): Promise<string>;
  /** `helm upgrade --install` of the chart with the images of this run, plus `set` values; waits for the controller. */
  install(set?: Record<string, string>): Promise<void>;
  namespace(ns: string): Promise<void>;
  getHd(ns: string, name: string): Promise<HotDeployment>;
  stop(): Promise<void>;
}

export interface E2EOptions {
  /** Name of the single node cluster started when no kubeconfig is given (default e2e). */
  name?: string;
  /** A kubeconfig to use instead of starting the single node (default: KUBECONFIG_E2E, or KUBECONFIG when asked). */
  kubeconfig?: string;
  /** Progress lines. */
  log?: (line: string) => void;
}

const quiet = (): void => undefined;

/**
 * The cluster and the images. On the single node started here the images are built and
 * imported into its containerd; on a user's cluster they are handed to
 * HOTUPGRADE_IMAGE_LOADER (e.g. `kind load image-archive --name e2e`) when it is set,
 * and otherwise assumed to be there already (pushed to HOTUPGRADE_E2E_REGISTRY).
 */
export async function startE2E(o: E2EOptions = {}): Promise<E2E> {
  const log = o.log ?? quiet;
  const ext = o.kubeconfig ?? externalKubeconfig();
  let cluster: TestCluster;
  if (ext) {
    log(`using the cluster of ${ext}`);
    cluster = { kubeconfig: ext, ours: false, stop: async () => undefined };
  } else {
    log(
      'starting the single node cluster (etcd, kube-apiserver, scheduler, controller-manager, containerd, kubelet, kube-proxy)',
    );
    const node = await startNode({ name: o.name ?? 'e2e', log });
    cluster = {
      kubeconfig: node.kubeconfig,
      ours: true,
      containerdSocket: node.containerdSocket,
      stop: () => node.stop(),
    };
  }
  try {
    const loader = process.env.HOTUPGRADE_IMAGE_LOADER;
    if (cluster.containerdSocket || loader) {
      log('building the images from the Dockerfile and loading them into the cluster');
      await buildProjectImages({
        registry: REGISTRY,
        tag: TAG,
        ...(cluster.containerdSocket ? { containerdSocket: cluster.containerdSocket } : {}),
        ...(!cluster.containerdSocket && loader ? { loader } : {}),
        log,
      });
    }
    const client = await KubeClient.fromKubeConfig(loadKubeConfig(cluster.kubeconfig), { qps: 0 });
    const dir = mkdtempSync(join(tmpdir(), 'hotupgrade-e2e-'));
    const helmExe = existsSync(BIN.helm) ? BIN.helm : 'helm';
    const kubectlExe = existsSync(k8sBin('kubectl')) ? k8sBin('kubectl') : 'kubectl';
    const env: E2E = {
      cluster,
      kubeconfig: cluster.kubeconfig,
      client,
      dir,
      async helm(args, timeoutMs = 300_000) {
        const r = await run(helmExe, ['--kubeconfig', cluster.kubeconfig, ...args], { timeoutMs });
        return r.stdout;
      },
      async kubectl(args, input) {
        const r = await run(
          kubectlExe,
          [`--kubeconfig=${cluster.kubeconfig}`, ...args],
          input === undefined ? {} : { input },
        );
        return r.stdout;
      },
      async install(set = {}) {
        const values = {
          'image.registry': REGISTRY,
          'image.tag': TAG,
          ...set,
        };
        await env.helm([
          'upgrade',
          '--install',
          RELEASE,
          CHART,
          '--namespace',
          OPERATOR_NS,
          '--create-namespace',
          ...Object.entries(values).flatMap(([k, v]) => ['--set', `${k}=${v}`]),
          '--wait',
          '--timeout',
          '4m',
        ]);
      },
      async namespace(ns) {
        const r = await client.create('/api/v1/namespaces', { metadata: { name: ns } });
        if (!r.ok && r.reason !== 'AlreadyExists') throw new Error(`namespace ${ns}: ${r.message}`);
        // The ServiceAccount admission plugin refuses pods until the namespace has its default account.
        await until(
          `serviceaccount default in ${ns}`,
          async () =>
            (await client.get(`/api/v1/namespaces/${ns}/serviceaccounts/default`)).ok ? true : undefined,
          30_000,
          100,
        );
      },
      async getHd(ns, name) {
        const r = await client.get<HotDeployment>(hdPath(ns, name));
        if (!r.ok) throw new Error(`get hotdeployment ${ns}/${name}: ${r.message}`);
        return r.body;
      },
      async stop() {
        await client.close();
        await cluster.stop();
      },
    };
    return env;
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}
