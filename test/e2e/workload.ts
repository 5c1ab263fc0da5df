// The demo service as a user deploys it: a HotDeployment of the demo server with a
// restricted security context, and a ClusterIP Service in front of it.
import type { V1Service } from '@kubernetes/client-node';
import type { HotDeployment, UpdateStrategy } from '../../controller/api/types.ts';
import type { KubeClient } from '../../controller/kube/client.ts';
import { demoHd } from '../controller/fixtures.ts';
import { until } from '../cluster/harness.ts';
import { demoImage } from './env.ts';

/** The restricted Pod Security Standard, for the slots (they share the hot container's spec). */
export const RESTRICTED = {
  runAsNonRoot: true,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

export function demoHotDeployment(
  name: string,
  ns: string,
  o: { replicas: number; image?: string; strategy?: UpdateStrategy },
): HotDeployment {
  const hd = demoHd(name, ns, {
    replicas: o.replicas,
    image: o.image ?? demoImage('v1'),
    ...(o.strategy ? { strategy: o.strategy } : {}),
  });
  const app = hd.spec.template.spec?.containers[0];
  if (app) {
    app.securityContext = RESTRICTED;
    app.resources = { requests: { cpu: '20m', memory: '48Mi' }, limits: { memory: '192Mi' } };
  }
  return hd;
}

export function demoService(name: string, ns: string): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns },
    spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
  };
}

/** Creates the Service (if missing) and returns its URL once it has a ClusterIP. */
export async function exposeDemo(client: KubeClient, name: string, ns: string): Promise<string> {
  const path = `/api/v1/namespaces/${ns}/services`;
  const r = await client.create(path, demoService(name, ns));
  if (!r.ok && r.reason !== 'AlreadyExists') throw new Error(`service ${ns}/${name}: ${r.message}`);
  const ip = await until(
    `a ClusterIP for service ${ns}/${name}`,
    async () => {
      const g = await client.get<V1Service>(`${path}/${name}`);
      return g.ok ? g.body.spec?.clusterIP : undefined;
    },
    30_000,
    100,
  );
  return `http://${ip}:80`;
}

/** Ready endpoints behind a Service now (what kube-proxy routes new connections to). */
export async function readyEndpoints(
  client: KubeClient,
  name: string,
  ns: string,
): Promise<number | undefined> {
  const g = await client.list<{ endpoints?: { conditions?: { ready?: boolean } }[] }>(
    `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`,
    { labelSelector: `kubernetes.io/service-name=${name}` },
  );
  if (!g.ok) return undefined;
  return g.body.items.flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions?.ready).length;
}

/** Samples the ready endpoints every `everyMs` until stopped; the smallest count seen. */
export function watchEndpoints(
  client: KubeClient,
  name: string,
  ns: string,
  everyMs = 100,
): { stop(): Promise<{ min: number; samples: number }> } {
  let min = Number.POSITIVE_INFINITY;
  let samples = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const n = await readyEndpoints(client, name, ns);
      if (n !== undefined) {
        min = Math.min(min, n);
        samples++;
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { min, samples };
    },
  };
}

/** Waits until the Service's endpoints list `n` ready addresses (kube-proxy routes to them). */
export async function waitEndpoints(client: KubeClient, name: string, ns: string, n: number): Promise<void> {
  await until(
    `${n} ready endpoints behind service ${ns}/${name}`,
    async () => ((await readyEndpoints(client, name, ns)) === n ? true : undefined),
    120_000,
    200,
  );
}
