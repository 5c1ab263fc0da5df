// The controller's Kubernetes runtime (controller/kube) against a real API server: the
// REST client's values, the informer through API server crashes, frozen connections and
// 410s, and leader election handovers between two replicas.
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Informer,
  KubeClient,
  LeaderElector,
  loadKubeConfig,
  type KubeObject,
  type LeaseSpec,
} from '../../controller/kube/index.ts';
import { pauseApiServer, stopApiServer } from '../cluster/controlplane.ts';
import { checkTier, externalKubeconfig, startControlPlane, type ControlPlane } from '../cluster/harness.ts';
import { gate, testLogger, waitUntil } from './kube-helpers.ts';

const skip = checkTier('control-plane');
const ours = !externalKubeconfig();

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

const RUN = Date.now().toString(36);
const LABEL = 'kube-test';

describe.skipIf(skip)('controller/kube against a real API server', () => {
  let cp: ControlPlane | undefined;
  let kubeconfig: string;
  let client: KubeClient;
  let registry: Registry;
  const namespaces: string[] = [];

  async function namespace(prefix: string): Promise<string> {
    const name = `${prefix}-${RUN}`;
    const r = await client.create('/api/v1/namespaces', { metadata: { name } });
    if (!r.ok) throw new Error(`namespace ${name}: ${r.message}`);
    namespaces.push(name);
    return name;
  }
  const cms = (ns: string): string => `/api/v1/namespaces/${ns}/configmaps`;
  const cm = (name: string, data: Record<string, string> = {}, labels = { app: LABEL }): ConfigMap => ({
    metadata: { name, labels },
    data,
  });

  beforeAll(async () => {
    const ext = externalKubeconfig();
    if (ext) kubeconfig = ext;
    else {
      cp = await startControlPlane({ name: 'it-kube' });
      kubeconfig = cp.kubeconfig;
    }
    registry = new Registry();
    client = await KubeClient.fromKubeConfig(loadKubeConfig(kubeconfig), {
      fieldManager: 'kube-test',
      registry,
    });
  });

  afterAll(async () => {
    for (const ns of namespaces) await client?.delete(`/api/v1/namespaces/${ns}`);
    await client?.close();
    await cp?.stop();
  });

  it('returns conflicts and misses as values, and pages lists', async () => {
    const ns = await namespace('client');
    const path = cms(ns);
    const made = await client.create<ConfigMap>(path, cm('a', { v: '1' }));
    expect(made).toMatchObject({ ok: true, status: 201 });
    if (!made.ok) return;
    expect(made.body.metadata?.managedFields).toEqual([expect.objectContaining({ manager: 'kube-test' })]);
    const staleRv = made.body.metadata?.resourceVersion;

    expect(await client.create(path, cm('a'))).toMatchObject({
      ok: false,
      status: 409,
      reason: 'AlreadyExists',
    });
    expect(await client.get(`${path}/missing`)).toMatchObject({ ok: false, status: 404, reason: 'NotFound' });

    // Every patch type; a merge patch carrying the resourceVersion it was decided on.
    expect(await client.patch(`${path}/a`, { data: { v: '2' } }, 'merge')).toMatchObject({ ok: true });
    expect(
      await client.patch(`${path}/a`, { metadata: { resourceVersion: staleRv }, data: { v: '3' } }, 'merge'),
    ).toMatchObject({ ok: false, status: 409, reason: 'Conflict' });
    expect(await client.patch(`${path}/a`, { data: { s: 'x' } }, 'strategic')).toMatchObject({ ok: true });
    expect(
      await client.patch(`${path}/a`, [{ op: 'add', path: '/data/j', value: 'y' }], 'json'),
    ).toMatchObject({ ok: true });
    const applied = await client.patch<ConfigMap>(
      `${path}/a`,
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, data: { v: 'applied' } },
      'apply',
      { fieldManager: 'kube-test-apply', force: true },
    );
    expect(applied.ok && applied.body.data).toMatchObject({ v: 'applied', s: 'x', j: 'y' });

    // Replace with a stale resourceVersion: optimistic concurrency says no.
    expect(
      await client.replace(`${path}/a`, { ...cm('a'), metadata: { name: 'a', resourceVersion: staleRv } }),
    ).toMatchObject({ ok: false, status: 409, reason: 'Conflict' });

    // Delete with preconditions: the wrong uid is a Conflict, the right one deletes.
    expect(await client.delete(`${path}/a`, { preconditions: { uid: 'not-the-uid' } })).toMatchObject({
      ok: false,
      status: 409,
      reason: 'Conflict',
    });
    expect(
      await client.delete(`${path}/a`, {
        preconditions: { uid: made.body.metadata?.uid },
        gracePeriodSeconds: 0,
      }),
    ).toMatchObject({ ok: true });
    expect(await client.get(`${path}/a`)).toMatchObject({ status: 404 });

    // A validation error names the field.
    const invalid = await client.create(path, { metadata: { name: 'Not_Valid' } });
    expect(invalid).toMatchObject({ ok: false, status: 422, reason: 'Invalid' });

    for (let i = 0; i < 7; i++) await client.create(path, cm(`p${i}`));
    const listed = await client.list<ConfigMap, string>(
      path,
      { labelSelector: `app=${LABEL}`, limit: 3 },
      (o) => o.metadata?.name ?? '',
    );
    expect(listed.ok && listed.body.items.sort()).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
    expect(listed.ok && Number(listed.body.resourceVersion)).toBeGreaterThan(0);

    const metrics = await registry.getSingleMetricAsString('rest_client_requests_total');
    expect(metrics).toMatch(/rest_client_requests_total\{code="409",method="PATCH",host="[^"]+"\} 1/);
  });

  it('returns a refused connection as status 0 with the errno, and rate-limits', async () => {
    const kc = loadKubeConfig(kubeconfig);
    kc.loadFromOptions({
      clusters: [{ name: 'nowhere', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
      users: [{ name: 'nobody' }],
      contexts: [{ name: 'nowhere', cluster: 'nowhere', user: 'nobody' }],
      currentContext: 'nowhere',
    });
    const dead = await KubeClient.fromKubeConfig(kc);
    const r = await dead.get('/api/v1/namespaces');
    await dead.close();
    expect(r).toMatchObject({ ok: false, status: 0, reason: 'NetworkError' });
    expect(!r.ok && r.message).toContain('ECONNREFUSED');

    // burst 1 at 20 qps: 6 calls take at least 5 x 50 ms.
    const slow = await KubeClient.fromKubeConfig(loadKubeConfig(kubeconfig), { qps: 20, burst: 1 });
    const t0 = Date.now();
    for (let i = 0; i < 6; i++) await slow.get('/api/v1/namespaces/default');
    await slow.close();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(245);
  });

  it('informer: lists, then delivers adds, updates and deletes into its cache', async () => {
    const ns = await namespace('inf');
    const path = cms(ns);
    for (const n of ['a', 'b', 'c']) await client.create(path, cm(n, { v: '1' }));
    const { logger } = testLogger();
    const seen: string[] = [];
    const inf = new Informer<ConfigMap>({
      client,
      path,
      logger,
      labelSelector: `app=${LABEL}`,
      transform: (o) => {
        delete o.metadata?.managedFields;
        return o;
      },
      index: (o) => o.data?.v,
    });
    inf.addHandlers({
      onAdd: (o) => seen.push(`add ${o.metadata?.name}`),
      onUpdate: (old, o) => seen.push(`update ${o.metadata?.name} ${old.data?.v}->${o.data?.v}`),
      onDelete: (o) => seen.push(`delete ${o.metadata?.name}`),
    });
    inf.start();
    try {
      expect(await inf.waitForSync(10_000)).toBe(true);
      expect(inf.store.keys().sort()).toEqual([`${ns}/a`, `${ns}/b`, `${ns}/c`]);
      expect(inf.store.get(`${ns}/a`)?.metadata?.managedFields).toBeUndefined();

      await client.create(path, cm('d', { v: '1' }));
      await client.patch(`${path}/a`, { data: { v: '2' } }, 'merge');
      await client.delete(`${path}/b`);
      await client.create(path, cm('unlabelled', {}, { app: 'other' }));
      await waitUntil('the informer to see d, a@2 and b gone', () => seen.length >= 6);
      expect(seen.sort()).toEqual(['add a', 'add b', 'add c', 'add d', 'delete b', 'update a 1->2']);
      expect(
        inf.store
          .byIndex('1')
          .map((o) => o.metadata?.name)
          .sort(),
      ).toEqual(['c', 'd']);
      expect(inf.health()).toMatchObject({ synced: true, healthy: true, connected: true, restarts: 0 });
    } finally {
      await inf.stop();
    }
  });

  it.skipIf(!ours)(
    'informer: survives an API server crash, reports unhealthy while it is down, relists on 410 and ends with the final state',
    async () => {
      if (!cp) throw new Error('no control plane');
      const ns = await namespace('crash');
      const path = cms(ns);
      for (const n of ['a', 'b', 'c']) await client.create(path, cm(n, { v: '1' }));
      const { logger, lines } = testLogger();
      const g = gate(client);
      const events: string[] = [];
      const inf = new Informer<ConfigMap>({
        client: g.client,
        path,
        logger,
        labelSelector: `app=${LABEL}`,
        unhealthyAfterMs: 1000,
        backoff: { initialMs: 100, maxMs: 1000 },
      });
      inf.addHandlers({
        onAdd: (o) => events.push(`add ${o.metadata?.name}`),
        onUpdate: (_, o) => events.push(`update ${o.metadata?.name} v=${o.data?.v}`),
        onDelete: (o) => events.push(`delete ${o.metadata?.name}`),
      });
      inf.start();
      try {
        expect(await inf.waitForSync(10_000)).toBe(true);
        await waitUntil('the watch to open', () => inf.health().connected);
        // A write elsewhere moves the revision past the informer's, so the restarted API
        // server's fresh watch cache cannot serve the informer's resourceVersion: 410.
        await client.create(cms('default'), cm(`bump-${RUN}`));

        const down = await stopApiServer(cp, { crash: true });
        const downAt = Date.now();
        const unhealthyMs = await waitUntil('health to turn unhealthy', () => !inf.health().healthy, 10_000);
        expect(inf.health().lastError).toMatch(/NetworkError|ECONNREFUSED|other side closed|ECONNRESET/);
        // Keep the informer away until the changes below are made, so it must find them by relisting.
        g.hold();
        await down.start();
        const upAt = Date.now();
        await client.patch(`${path}/a`, { data: { v: '2' } }, 'merge');
        await client.delete(`${path}/b`);
        await client.create(path, cm('d', { v: '1' }));
        g.release();

        const recoverMs = await waitUntil('health to turn healthy again', () => inf.health().healthy, 30_000);
        await waitUntil('the informer to catch up', () => events.length >= 6, 10_000);
        const final = await client.list<ConfigMap>(path, { labelSelector: `app=${LABEL}` });
        if (!final.ok) throw new Error(final.message);
        const want = final.body.items.map((o) => `${o.metadata?.name}@${o.metadata?.resourceVersion}`).sort();
        const got = inf.store.list().map((o) => `${o.metadata?.name}@${o.metadata?.resourceVersion}`);
        expect(got.sort()).toEqual(want);
        expect(events.slice(3).sort()).toEqual(['add d', 'delete b', 'update a v=2']);
        const restarts = lines.filter((l) => l.msg === 'informer restarting').map((l) => String(l.err));
        expect(restarts.some((e) => /410/.test(e))).toBe(true);
        console.error(
          `[kube.test] unhealthy ${unhealthyMs} ms after the crash; API server down ${upAt - downAt} ms; ` +
            `informer healthy ${recoverMs} ms after the gate opened; restarts: ${inf.health().restarts}`,
        );
      } finally {
        g.release();
        await inf.stop();
      }
    },
  );

  it.skipIf(!ours)(
    'informer: the watchdog cuts a connection that went silent, and the informer recovers',
    async () => {
      if (!cp) throw new Error('no control plane');
      const ns = await namespace('silent');
      const path = cms(ns);
      await client.create(path, cm('a', { v: '1' }));
      const { logger, lines } = testLogger();
      // A client whose requests time out quickly, so reconnects to the frozen server fail fast.
      const quick = await KubeClient.fromKubeConfig(loadKubeConfig(kubeconfig), { timeoutMs: 2000 });
      const inf = new Informer<ConfigMap>({
        client: quick,
        path,
        logger,
        labelSelector: `app=${LABEL}`,
        watchTimeoutSeconds: 5,
        watchdogMarginMs: 1000,
        unhealthyAfterMs: 1000,
        backoff: { initialMs: 100, maxMs: 1000 },
      });
      inf.start();
      let resume: (() => void) | undefined;
      try {
        expect(await inf.waitForSync(10_000)).toBe(true);
        await waitUntil('the watch to open', () => inf.health().connected);
        resume = pauseApiServer(cp);
        const t0 = Date.now();
        await waitUntil(
          'the watchdog to fire',
          () => lines.some((l) => /watchdog/.test(String(l.err))),
          45_000,
        );
        const firedMs = Date.now() - t0;
        await waitUntil('health to turn unhealthy', () => !inf.health().healthy, 10_000);
        resume();
        resume = undefined;
        await client.patch(`${path}/a`, { data: { v: '3' } }, 'merge');
        await waitUntil('the informer to see v=3', () => inf.store.get(`${ns}/a`)?.data?.v === '3', 30_000);
        await waitUntil('health to turn healthy again', () => inf.health().healthy, 10_000);
        console.error(`[kube.test] watchdog cut the frozen watch ${firedMs} ms after the freeze`);
        // Silence is allowed for the server-side timeout (5 s +- 10 %) plus the 1 s margin.
        expect(firedMs).toBeLessThan(5_500 + 1_000 + 1_000);
      } finally {
        resume?.();
        await inf.stop();
        await quick.close();
      }
    },
  );

  describe('leader election', () => {
    const timing = { leaseDurationSeconds: 4, renewDeadlineMs: 3000, retryPeriodMs: 500 };

    interface Replica {
      elector: LeaderElector;
      gate: ReturnType<typeof gate>;
      stop: AbortController;
      run: Promise<void>;
      startedAt?: number;
      stoppedAt?: number;
      signal?: AbortSignal;
    }

    function replica(identity: string, lease: string, ns: string, onStart?: () => void): Replica {
      const g = gate(client);
      const r: Partial<Replica> & { stop: AbortController; gate: typeof g } = {
        stop: new AbortController(),
        gate: g,
      };
      r.elector = new LeaderElector({
        client: g.client,
        namespace: ns,
        name: lease,
        identity,
        logger: testLogger().logger,
        registry: new Registry(),
        ...timing,
        onStartedLeading: (signal) => {
          r.startedAt = Date.now();
          r.signal = signal;
          onStart?.();
        },
        onStoppedLeading: () => (r.stoppedAt = Date.now()),
      });
      r.run = r.elector.run(r.stop.signal);
      return r as Replica;
    }

    async function leaseSpec(ns: string, name: string): Promise<LeaseSpec | undefined> {
      const r = await client.get<{ spec?: LeaseSpec }>(
        `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/${name}`,
      );
      return r.ok ? r.body.spec : undefined;
    }

    it('one replica leads; when it stops renewing, it stops acting before the other takes over within leaseDuration', async () => {
      const ns = await namespace('leader');
      const a = replica('replica-a', 'ctl', ns);
      let aWasLeaderWhenBStarted: boolean | undefined;
      try {
        await waitUntil('a to lead', () => a.elector.isLeader(), 10_000);
        const b = replica('replica-b', 'ctl', ns, () => (aWasLeaderWhenBStarted = a.elector.isLeader()));
        try {
          await new Promise((r) => setTimeout(r, 1500));
          expect(b.elector.isLeader()).toBe(false);
          expect(b.elector.leader).toBe('replica-a');

          // Freeze a: its renewals hang, as if its process or network stalled.
          a.gate.hold();
          const frozenAt = Date.now();
          await waitUntil('b to lead', () => b.elector.isLeader(), 15_000);
          const failoverMs = (b.startedAt ?? 0) - frozenAt;
          const aStoppedMs = (a.stoppedAt ?? 0) - frozenAt;
          console.error(
            `[kube.test] leader froze: a stopped acting after ${aStoppedMs} ms, b took over after ${failoverMs} ms`,
          );
          expect(a.elector.isLeader()).toBe(false);
          expect(a.signal?.aborted).toBe(true);
          expect(aWasLeaderWhenBStarted).toBe(false);
          expect(a.stoppedAt).toBeLessThan(b.startedAt ?? 0);
          expect(aStoppedMs).toBeLessThanOrEqual(timing.renewDeadlineMs + 200);
          // b sees a's last renewal on its next poll and takes over on the first poll after
          // leaseDuration from then: at most leaseDuration + 2 polls (each <= 1.2 retryPeriod).
          expect(failoverMs).toBeLessThan(
            timing.leaseDurationSeconds * 1000 + 2 * timing.retryPeriodMs * 1.2 + 300,
          );

          const spec = await leaseSpec(ns, 'ctl');
          expect(spec).toMatchObject({
            holderIdentity: 'replica-b',
            leaseTransitions: 1,
            leaseDurationSeconds: 4,
          });
          expect(spec?.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
        } finally {
          b.stop.abort();
          await b.run;
        }
      } finally {
        a.gate.release();
        a.stop.abort();
        await a.run;
      }
    });

    it('a released lease is taken over within about retryPeriod', async () => {
      const ns = await namespace('release');
      const a = replica('replica-a', 'ctl', ns);
      await waitUntil('a to lead', () => a.elector.isLeader(), 10_000);
      const b = replica('replica-b', 'ctl', ns);
      try {
        await new Promise((r) => setTimeout(r, 1000));
        expect(b.elector.isLeader()).toBe(false);
        const releasedAt = Date.now();
        a.stop.abort(); // run() releases on cancel
        await a.run;
        expect(a.elector.isLeader()).toBe(false);
        await waitUntil('b to lead', () => b.elector.isLeader(), 10_000);
        const handoverMs = (b.startedAt ?? 0) - releasedAt;
        console.error(`[kube.test] released lease taken over after ${handoverMs} ms`);
        expect(handoverMs).toBeLessThan(timing.retryPeriodMs * 1.2 + 1000);
        expect(await leaseSpec(ns, 'ctl')).toMatchObject({
          holderIdentity: 'replica-b',
          leaseTransitions: 1,
        });
      } finally {
        b.stop.abort();
        await b.run;
      }
      // b released on its way out: nobody holds the lease.
      expect(await leaseSpec(ns, 'ctl')).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    });
  });
});
