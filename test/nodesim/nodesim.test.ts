// The node simulator against a real control plane (no scheduler, no kubelet): process
// mode runs this repo's demo, placeholder and sidecar for real in the pod layout of
// docs/controller.md; fake mode runs 500 pods on timers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANNOTATIONS, NAMES, POD_DEFAULTS, slotReadyPath } from '../../controller/constants.ts';
import {
  checkTier,
  externalKubeconfig,
  startControlPlane,
  until,
  type ControlPlane,
} from '../cluster/harness.ts';
import { pauseApiServer, restartApiServer } from '../cluster/controlplane.ts';
import { PROJECT_IMAGES, projectCatalog } from './catalog.ts';
import { DEMO, createBody, simplePod, slotPod } from './fixtures.ts';
import { startNodeSim, type NodeSim } from './index.ts';
import { clientFromKubeconfig, type KubeClient, type Result } from './kube.ts';
import type { List, Pod } from './wire.ts';

const skip = checkTier('control-plane');

const MISSING = 'hotupgrade.local/missing:v1';
const CRASH = 'hotupgrade.local/crash:v1';
const PROC_NS = 'nodesim-proc';
const FAKE_NS = 'nodesim-fake';

const podsPath = (ns: string): string => `/api/v1/namespaces/${ns}/pods`;

async function must<T>(what: string, r: Promise<Result<T>>): Promise<T> {
  const res = await r;
  if (!res.ok) throw new Error(`${what}: ${res.status} ${res.reason}: ${res.message}`);
  return res.value;
}

function status(p: Pod, container: string) {
  return p.status?.containerStatuses?.find((c) => c.name === container);
}

const isReady = (p: Pod): boolean =>
  p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

async function getJSON(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body };
}

/** Runs f over items with at most n in flight. */
async function pool<T>(items: T[], n: number, f: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await f(items[next++] as T);
    }),
  );
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(skip)('node simulator', () => {
  let cp: ControlPlane | undefined;
  let kubeconfig: string;
  let api: KubeClient;
  let proc: NodeSim | undefined;
  let fake: NodeSim | undefined;

  beforeAll(async () => {
    const ext = externalKubeconfig();
    if (ext) kubeconfig = ext;
    else {
      cp = await startControlPlane({ name: 'it-nodesim' });
      kubeconfig = cp.kubeconfig;
    }
    api = await clientFromKubeconfig(kubeconfig);
    for (const ns of [PROC_NS, FAKE_NS]) {
      await api.call('POST', '/api/v1/namespaces', {
        body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
      });
      await until(`service account default in ${ns}`, async () => {
        const r = await api.call('GET', `/api/v1/namespaces/${ns}/serviceaccounts/default`);
        return r.ok || undefined;
      });
    }
    proc = await startNodeSim({
      kubeconfig,
      nodeName: 'nodesim-proc',
      mode: 'process',
      namespaces: [PROC_NS],
      bindUnscheduled: true,
      images: { ...projectCatalog(), [CRASH]: { crash: true } },
      pullBackoff: { initialMs: 1_000, maxMs: 4_000 },
      crashBackoff: { initialMs: 1_000, maxMs: 4_000 },
      crashAfterMs: 300,
      maxKillGraceMs: 5_000,
    });
  });

  afterAll(async () => {
    await proc?.stop();
    await fake?.stop();
    await api?.close();
    await cp?.stop();
  });

  const getPod = (ns: string, name: string): Promise<Pod> =>
    must(`get ${name}`, api.call<Pod>('GET', `${podsPath(ns)}/${name}`));

  describe('process mode', () => {
    let first: Pod;

    it('binds a slot pod, runs it, and restarts only app-b on an in-place image change', async () => {
      const t0 = Date.now();
      await must(
        'create demo-0',
        api.call('POST', podsPath(PROC_NS), { body: createBody(slotPod('demo-0', PROC_NS)) }),
      );
      first = await until('demo-0 Running with every container running', async () => {
        const p = await getPod(PROC_NS, 'demo-0');
        const running = p.status?.containerStatuses?.every((c) => c.state.running) ?? false;
        return p.status?.phase === 'Running' && running ? p : undefined;
      });
      expect(first.spec.nodeName).toBe('nodesim-proc');
      expect(first.status?.podIP).toMatch(/^127\.\d+\.\d+\.\d+$/);
      expect(first.status?.hostIP).toBe('127.0.0.1');
      expect(first.status?.startTime).toBeTruthy();
      for (const c of first.status?.containerStatuses ?? []) {
        expect(c.containerID).toMatch(/^sim:\/\/[0-9a-f]{32}$/);
        expect(c.restartCount).toBe(0);
        expect(c.image).toBe(first.spec.containers.find((s) => s.name === c.name)?.image);
      }
      const ip = first.status?.podIP ?? '';
      const v1 = await until('the demo answers on podIP:8080', async () => {
        const r = await getJSON(`http://${ip}:8080/version`);
        return r.status === 200 ? (r.body as { version: string; slot: string }) : undefined;
      });
      expect(v1).toMatchObject({ version: 'v1', slot: 'a' });
      console.log(`[nodesim] process pod Running and serving v1 in ${Date.now() - t0} ms`);

      // Whether this sidecar has the slot readiness route decides what readiness can prove.
      const route = await until('the sidecar answers', () =>
        getJSON(`http://${ip}:${POD_DEFAULTS.sidecarPort}${slotReadyPath('a')}`),
      );
      const hasRoute = route.status !== 404;
      if (hasRoute) {
        first = await until('demo-0 Ready (slot probes pass through the sidecar)', async () => {
          const p = await getPod(PROC_NS, 'demo-0');
          return isReady(p) ? p : undefined;
        });
      }
      const before = Object.fromEntries(
        (first.status?.containerStatuses ?? []).map((c) => [c.name, c.containerID]),
      );

      // docs/protocol.md §1.3: the version and the active slot change in the same patch as the image.
      const t1 = Date.now();
      await must(
        'patch app-b',
        api.call('PATCH', `${podsPath(PROC_NS)}/demo-0`, {
          patch: 'strategic',
          body: {
            metadata: { annotations: { [ANNOTATIONS.version('b')]: 'v2', [ANNOTATIONS.activeSlot]: 'b' } },
            spec: { containers: [{ name: 'app-b', image: DEMO('v2') }] },
          },
        }),
      );
      const restarted = await until('app-b restarted with a new container ID', async () => {
        const p = await getPod(PROC_NS, 'demo-0');
        const b = status(p, 'app-b');
        return b?.state.running && b.containerID !== before['app-b'] && b.image === DEMO('v2')
          ? p
          : undefined;
      });
      const b = status(restarted, 'app-b');
      expect(b?.restartCount).toBe(1);
      expect(b?.lastState.terminated?.containerID).toBe(before['app-b']);
      expect(status(restarted, 'app-a')?.containerID).toBe(before['app-a']);
      expect(status(restarted, 'app-a')?.restartCount).toBe(0);
      expect(status(restarted, NAMES.sidecar)?.containerID).toBe(before[NAMES.sidecar]);

      if (!hasRoute) {
        console.warn(
          `[nodesim] SKIPPED ASSERTION: the sidecar answers 404 on ${slotReadyPath('b')}: slot readiness ` +
            '(and so the completion signal) cannot be checked until that route lands',
        );
        return;
      }
      await until(
        'app-b ready (the sidecar reports slot b settled)',
        async () => {
          const p = await getPod(PROC_NS, 'demo-0');
          const s = status(p, 'app-b');
          return s?.ready && s.containerID === b?.containerID ? true : undefined;
        },
        60_000,
      );
      console.log(`[nodesim] app-b v2 ready (handover done) ${Date.now() - t1} ms after the patch`);
      const v2 = await getJSON(`http://${ip}:8080/version`);
      expect(v2.body).toMatchObject({ version: 'v2', slot: 'b' });
    });

    it('deletes the pod: containers stopped, processes gone, pod object removed', async () => {
      const pids = proc?.pids() ?? [];
      expect(pids.length).toBeGreaterThanOrEqual(3);
      const ip = first.status?.podIP ?? '';
      const t0 = Date.now();
      await must('delete demo-0', api.call('DELETE', `${podsPath(PROC_NS)}/demo-0`));
      await until('demo-0 gone', async () => {
        const r = await api.call('GET', `${podsPath(PROC_NS)}/demo-0`);
        return r.ok ? undefined : r.status === 404 || undefined;
      });
      console.log(`[nodesim] pod deleted in ${Date.now() - t0} ms`);
      await until('its processes gone', async () => (pids.some(alive) ? undefined : true), 10_000);
      expect(proc?.pids()).toEqual([]);
      await expect(
        fetch(`http://${ip}:8080/version`, { signal: AbortSignal.timeout(1_000) }),
      ).rejects.toThrow();
    });

    it('reports a missing image as ErrImagePull / ImagePullBackOff and runs the others', async () => {
      await must(
        'create missing-0',
        api.call('POST', podsPath(PROC_NS), {
          body: createBody(
            simplePod('missing-0', PROC_NS, [
              ['ok', PROJECT_IMAGES.placeholder],
              ['bad', MISSING],
            ]),
          ),
        }),
      );
      const reasons = new Set<string>();
      const p = await until('ImagePullBackOff', async () => {
        const p = await getPod(PROC_NS, 'missing-0');
        const reason = status(p, 'bad')?.state.waiting?.reason;
        if (reason) reasons.add(reason);
        return reason === 'ImagePullBackOff' && status(p, 'ok')?.ready ? p : undefined;
      });
      await until('ErrImagePull on the retry', async () => {
        const reason = status(await getPod(PROC_NS, 'missing-0'), 'bad')?.state.waiting?.reason;
        if (reason) reasons.add(reason);
        return reasons.has('ErrImagePull') || undefined;
      });
      const bad = status(p, 'bad');
      expect(bad?.state.waiting?.message).toContain(MISSING);
      expect(bad?.ready).toBe(false);
      expect(bad?.containerID).toBeUndefined();
      expect(status(p, 'ok')?.state.running).toBeTruthy();
      expect(p.status?.phase).toBe('Pending');
      expect(isReady(p)).toBe(false);
    });

    it('crash-loops a crashing image with a growing restartCount', async () => {
      await must(
        'create crash-0',
        api.call('POST', podsPath(PROC_NS), {
          body: createBody(
            simplePod('crash-0', PROC_NS, [
              ['ok', PROJECT_IMAGES.placeholder],
              ['bad', CRASH],
            ]),
          ),
        }),
      );
      const ids = new Set<string>();
      const p = await until(
        'CrashLoopBackOff with restartCount >= 2',
        async () => {
          const p = await getPod(PROC_NS, 'crash-0');
          const s = status(p, 'bad');
          if (s?.containerID) ids.add(s.containerID);
          return s?.state.waiting?.reason === 'CrashLoopBackOff' && s.restartCount >= 2 ? p : undefined;
        },
        60_000,
      );
      const bad = status(p, 'bad');
      expect(bad?.lastState.terminated?.exitCode).toBe(1);
      expect(bad?.state.waiting?.message).toMatch(
        /^back-off \d+s restarting failed container=bad pod=crash-0_/,
      );
      expect(ids.size).toBeGreaterThanOrEqual(2);
      expect(status(p, 'ok')?.restartCount).toBe(0);
      expect(p.status?.phase).toBe('Running');
    });
  });

  describe('fake mode', () => {
    const N = 500;
    const names = Array.from({ length: N }, (_, i) => `bench-${i}`);

    it(`runs ${N} pods and completes an in-place image change on all of them`, async () => {
      fake = await startNodeSim({
        kubeconfig,
        nodeName: 'nodesim-fake',
        mode: 'fake',
        namespaces: [FAKE_NS],
        bindUnscheduled: true,
        images: projectCatalog(),
        startDelayMs: 100,
      });
      const t0 = Date.now();
      await pool(names, 32, async (n) => {
        const p = slotPod(n, FAKE_NS);
        await must(`create ${n}`, api.call('POST', podsPath(FAKE_NS), { body: createBody(p) }));
      });
      const tCreated = Date.now();
      const list = async (): Promise<Pod[]> =>
        (await must('list', api.call<List<Pod>>('GET', podsPath(FAKE_NS)))).items;
      const ready = await until(
        `${N} pods Ready`,
        async () => {
          const pods = await list();
          return pods.length === N && pods.every(isReady) ? pods : undefined;
        },
        240_000,
        1_000,
      );
      const tReady = Date.now();
      const writesAfterStart = fake.stats().statusWrites;
      const before = new Map(ready.map((p) => [p.metadata.name, p]));

      await pool(names, 32, async (n) => {
        await must(
          `patch ${n}`,
          api.call('PATCH', `${podsPath(FAKE_NS)}/${n}`, {
            patch: 'strategic',
            body: {
              metadata: { annotations: { [ANNOTATIONS.version('b')]: 'v2' } },
              spec: { containers: [{ name: 'app-b', image: DEMO('v2') }] },
            },
          }),
        );
      });
      const tPatched = Date.now();
      const done = await until(
        `app-b restarted and ready on all ${N} pods`,
        async () => {
          const pods = await list();
          const ok = pods.every((p) => {
            const s = status(p, 'app-b');
            const old = status(before.get(p.metadata.name) as Pod, 'app-b');
            return s?.ready && s.image === DEMO('v2') && s.containerID !== old?.containerID && isReady(p);
          });
          return ok ? pods : undefined;
        },
        240_000,
        1_000,
      );
      const tDone = Date.now();
      for (const p of done) {
        const old = before.get(p.metadata.name) as Pod;
        const changed = (p.status?.containerStatuses ?? []).filter(
          (c) => c.containerID !== status(old, c.name)?.containerID,
        );
        expect(changed.map((c) => c.name)).toEqual(['app-b']);
        expect(status(p, 'app-b')?.restartCount).toBe(1);
      }
      const s = fake.stats();
      expect(s.podsManaged).toBe(N);
      console.log(
        `[nodesim] fake mode, ${N} pods: created in ${tCreated - t0} ms, all Ready ${tReady - t0} ms after the first create ` +
          `(${writesAfterStart} status writes); image change patched in ${tPatched - tReady} ms, all app-b ready ` +
          `${tDone - tReady} ms after the first patch (${s.statusWrites - writesAfterStart} status writes); ` +
          `stats ${JSON.stringify(s)}; rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB`,
      );
    });
  });

  it('carries on after the API server is killed and restarted, and after it froze', async (ctx) => {
    if (!cp) return ctx.skip(true, 'the cluster is not ours: its API server cannot be restarted');
    const before = { proc: proc?.stats(), fake: fake?.stats() };
    const t0 = Date.now();
    await restartApiServer(cp, { crash: true, downMs: 3_000 });
    console.log(
      `[nodesim] kube-apiserver killed, down 3 s, ready again ${Date.now() - t0} ms after the kill`,
    );
    // A frozen API server keeps its connections open and silent (a dead NAT entry).
    const thaw = pauseApiServer(cp);
    await new Promise((r) => setTimeout(r, 5_000));
    thaw();

    await must(
      'create after-restart',
      api.call('POST', podsPath(PROC_NS), {
        body: createBody(simplePod('after-restart', PROC_NS, [['ok', PROJECT_IMAGES.placeholder]])),
      }),
    );
    await until(
      'a pod created after the restart runs',
      async () => {
        const p = await getPod(PROC_NS, 'after-restart');
        return isReady(p) || undefined;
      },
      60_000,
    );
    if (fake) {
      await must(
        'patch bench-0',
        api.call('PATCH', `${podsPath(FAKE_NS)}/bench-0`, {
          patch: 'strategic',
          body: { spec: { containers: [{ name: 'app-b', image: DEMO('v3') }] } },
        }),
      );
      await until(
        'bench-0 restarted app-b on v3',
        async () => {
          const s = status(await getPod(FAKE_NS, 'bench-0'), 'app-b');
          return (s?.ready && s.image === DEMO('v3') && s.restartCount === 2) || undefined;
        },
        60_000,
      );
    }
    const after = { proc: proc?.stats(), fake: fake?.stats() };
    expect((after.proc?.relists ?? 0) + (after.proc?.rewatches ?? 0)).toBeGreaterThan(
      (before.proc?.relists ?? 0) + (before.proc?.rewatches ?? 0),
    );
    const node = await must(
      'node',
      api.call<{ status: { conditions: { type: string; status: string }[] } }>(
        'GET',
        '/api/v1/nodes/nodesim-proc',
      ),
    );
    expect(node.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
  });
});
