// HotDeployment objects and waits shared by the controller suites.
import { readFileSync } from 'node:fs';
import type { V1Pod } from '@kubernetes/client-node';
import type { Batch, HotDeployment, UpdateStrategy } from '../../controller/api/types.ts';
import type { KubeClient } from '../../controller/kube/client.ts';
import { projectCatalog } from '../nodesim/catalog.ts';
import type { ImageBehaviour } from '../nodesim/index.ts';
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

// ---- The reliability suites (reliability-*.test.ts) ----

/** Fake-mode images: the project's (each starts fine), demo:bad (cannot be pulled) and demo:crash (exits 1 soon after it starts). */
export function fakeCatalog(): Record<string, ImageBehaviour> {
  return {
    ...projectCatalog(),
    [demoImage('bad')]: { missing: true },
    [demoImage('crash')]: { crash: true },
  };
}

/** A HotDeployment for rollouts at scale: the demo template with the strategy given. */
export function rolloutHd(
  name: string,
  ns: string,
  o: {
    replicas: number;
    image?: string;
    maxUnavailable?: number | string;
    batches?: Batch[];
    handoverDeadlineSeconds?: number;
    autoRollback?: boolean;
  },
): HotDeployment {
  const hd = demoHd(name, ns, {
    replicas: o.replicas,
    ...(o.image ? { image: o.image } : {}),
    strategy: {
      ...(o.maxUnavailable !== undefined ? { maxUnavailable: o.maxUnavailable } : {}),
      ...(o.batches ? { batches: o.batches } : {}),
      ...(o.autoRollback !== undefined ? { autoRollback: o.autoRollback } : {}),
    },
  });
  if (o.handoverDeadlineSeconds !== undefined) hd.spec.handoverDeadlineSeconds = o.handoverDeadlineSeconds;
  return hd;
}

export const LEASE_PATH = '/apis/coordination.k8s.io/v1/namespaces/default/leases/hotupgrade-controller';

/** The controller's Lease: who holds it and how often it changed hands (undefined: no Lease yet). */
export async function readLease(
  client: KubeClient,
): Promise<{ holder: string; transitions: number; renewTime: string } | undefined> {
  const r = await client.get<{
    spec?: { holderIdentity?: string; leaseTransitions?: number; renewTime?: string };
  }>(LEASE_PATH);
  if (!r.ok) return undefined;
  return {
    holder: r.body.spec?.holderIdentity ?? '',
    transitions: r.body.spec?.leaseTransitions ?? 0,
    renewTime: r.body.spec?.renewTime ?? '',
  };
}

/** A controller's /readyz: status code and body, or undefined when it does not answer within 2 s. */
export async function readyz(
  port: number,
): Promise<{ status: number; body: Record<string, unknown> } | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  } catch {
    return undefined;
  }
}

/** The JSON lines of a controller's log file (other lines skipped). */
export function logLines(file: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a line cut by a SIGKILL
    }
  }
  return out;
}
