// HotDeployment objects and waits shared by the controller suites.
import type { V1Pod } from '@kubernetes/client-node';
import type { HotDeployment, UpdateStrategy } from '../../controller/api/types.ts';
import type { KubeClient } from '../../controller/kube/client.ts';
import { demoImage, hdPath, podPath, until } from './env.ts';

export function demoHd(
  name: string,
  ns: string,
  o: { replicas?: number; image?: string; strategy?: UpdateStrategy } = {},
): HotDeployment {
  return {
    apiVersion: 'hotupgrade.io/v1alpha1',
    kind: 'HotDeployment',
    metadata: { name, namespace: ns },
    spec: {
      replicas: o.replicas ?? 3,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name: 'app',
              image: o.image ?? demoImage('v1'),
              ports: [{ containerPort: 8080, name: 'http' }],
              env: [{ name: 'DEMO_SESSIONS', value: '4096' }],
            },
          ],
        },
      },
      hotContainer: 'app',
      handoverDeadlineSeconds: 20,
      sharedMemory: {},
      updateStrategy: o.strategy ?? {},
    },
  };
}

export async function createHd(client: KubeClient, hd: HotDeployment): Promise<void> {
  const r = await client.create(hdPath(hd.metadata.namespace ?? '', ''), hd);
  if (!r.ok) throw new Error(`create hotdeployment: ${r.message}`);
}

/** Sets the hot container's image (the container is the first one in these fixtures). */
export async function setImage(client: KubeClient, ns: string, name: string, image: string): Promise<void> {
  const r = await client.patch(
    hdPath(ns, name),
    [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: image }],
    'json',
  );
  if (!r.ok) throw new Error(`set image: ${r.message}`);
}

export async function patchStrategy(
  client: KubeClient,
  ns: string,
  name: string,
  s: UpdateStrategy,
): Promise<void> {
  const r = await client.patch(hdPath(ns, name), { spec: { updateStrategy: s } }, 'merge');
  if (!r.ok) throw new Error(`patch strategy: ${r.message}`);
}

export async function listPods(client: KubeClient, ns: string, name: string): Promise<V1Pod[]> {
  const r = await client.list<V1Pod>(podPath(ns), { labelSelector: `hotupgrade.io/hotdeployment=${name}` });
  if (!r.ok) throw new Error(`list pods: ${r.message}`);
  return r.body.items.sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
}

export function condition(hd: HotDeployment, type: string): string {
  const c = hd.status?.conditions?.find((x) => x.type === type);
  return c ? `${c.status}/${c.reason}` : 'none';
}

/** Waits until the HotDeployment's status satisfies `ok` (observed for the latest generation). */
export async function waitHd(
  client: KubeClient,
  ns: string,
  name: string,
  what: string,
  ok: (hd: HotDeployment) => boolean,
  timeoutMs = 120_000,
): Promise<HotDeployment> {
  return until(what, timeoutMs, async () => {
    const r = await client.get<HotDeployment>(hdPath(ns, name));
    if (!r.ok) return undefined;
    const hd = r.body;
    return hd.status?.observedGeneration === hd.metadata.generation && ok(hd) ? hd : undefined;
  });
}

export const rolledOut =
  (image: string, replicas: number) =>
  (hd: HotDeployment): boolean =>
    hd.status?.updateImage === image &&
    hd.status.updatedReplicas === replicas &&
    hd.status.readyReplicas === replicas &&
    condition(hd, 'Progressing') === 'True/RolloutComplete';

export async function events(
  client: KubeClient,
  ns: string,
): Promise<
  { reason: string; message: string; type: string; involvedObject: { kind: string; name: string } }[]
> {
  const r = await client.list<{
    reason: string;
    message: string;
    type: string;
    involvedObject: { kind: string; name: string };
  }>(`/api/v1/namespaces/${ns}/events`);
  return r.ok ? r.body.items : [];
}

export async function scrape(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  return res.text();
}
