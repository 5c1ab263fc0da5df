// Reliability: two controller replicas on one Lease (default/hotupgrade-controller; lease
// 15 s, renew deadline 10 s, retry 2 s). Exactly one leads and only it writes; when it
// stops (SIGTERM: it releases the lease), dies (SIGKILL: the lease expires) or freezes
// (SIGSTOP: the lease expires; on SIGCONT it must notice it lost the lease and exit
// without writing), the other takes over and the rollout completes with no pod upgraded
// twice and somebody serving at every pod version. Prints the failover times.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sample, sumSamples } from '../../bench/prom.ts';
import { checkTier } from '../cluster/harness.ts';
import { demoImage, IMAGES, startEnv, until, type ControllerProc, type Env } from './env.ts';
import {
  condition,
  createHd,
  fakeCatalog,
  listPods,
  logLines,
  readLease,
  rolledOut,
  rolloutHd,
  scrape,
  setImage,
  waitHd,
} from './fixtures.ts';
import { notUpgradedOnce, podSlots, watchPods, type PodWatchReport } from './invariants.ts';

const skip = checkTier('control-plane');
const NS = 'leader';
const NAME = 'web';
const REPLICAS = 40;
const LEASE = { name: 'hotupgrade-controller' };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const rules = { placeholderImage: IMAGES.placeholder, hotContainer: 'app' };

/** A replica's requests by method, from its /metrics. */
async function requests(p: ControllerProc): Promise<Record<string, number>> {
  const text = await scrape(p.port);
  const out: Record<string, number> = {};
  for (const m of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])
    out[m] = sumSamples(text, 'rest_client_requests_total', (l) => l.method === m);
  return out;
}

/** POST, PUT, PATCH and DELETE requests a replica made. */
async function writes(p: ControllerProc): Promise<number> {
  const r = await requests(p);
  return (r.POST ?? 0) + (r.PUT ?? 0) + (r.PATCH ?? 0) + (r.DELETE ?? 0);
}

async function masterStatus(p: ControllerProc): Promise<number | undefined> {
  return sample(await scrape(p.port), 'leader_election_master_status', LEASE);
}

describe.skipIf(skip)('two controller replicas on one lease', () => {
  let env: Env;
  const figures: string[] = [];

  beforeAll(async () => {
    env = await startEnv('rel-leader', { mode: 'fake', images: fakeCatalog(), startDelayMs: 400 });
    await env.namespace(NS);
  }, 180_000);

  afterAll(async () => {
    console.log(`[reliability-leader] ${figures.join('\n  ')}`);
    await env?.stop();
  });

  /** Starts a replica and waits until it has read the Lease (as leader or standby). */
  async function replica(identity: string): Promise<ControllerProc> {
    const p = await env.startController({ identity });
    await until(`${identity} to observe a leader`, 30_000, async () =>
      logLines(p.log).some((l) => l.msg === 'new leader observed') ? true : undefined,
    );
    return p;
  }

  async function holder(): Promise<string | undefined> {
    return (await readLease(env.client))?.holder;
  }

  /** Measures from now until `identity` holds the lease, in ms (polled every 100 ms). */
  async function takeover(identity: string, timeoutMs: number): Promise<number> {
    const t0 = Date.now();
    return until(`${identity} to hold the lease`, timeoutMs, async () =>
      (await holder()) === identity ? Date.now() - t0 : undefined,
    );
  }

  /** Sets `version`, runs `fault` once a fifth of the pods run it, and waits for the rollout to end. */
  async function rollout(
    version: string,
    fault: () => Promise<void>,
  ): Promise<{ seconds: number; report: PodWatchReport; problems: string[] }> {
    const { client } = env;
    const before = podSlots(await listPods(client, NS, NAME), 'app');
    const watch = watchPods(client, NS, NAME, rules);
    await watch.synced;
    const t0 = Date.now();
    await setImage(client, NS, NAME, demoImage(version));
    await waitHd(
      client,
      NS,
      NAME,
      `a fifth of the pods at ${version}`,
      (hd) => (hd.status?.updatedReplicas ?? 0) >= REPLICAS / 5,
      60_000,
    );
    await fault();
    const hd = await waitHd(
      client,
      NS,
      NAME,
      `the rollout to ${version}`,
      rolledOut(demoImage(version), REPLICAS),
      120_000,
    );
    const seconds = (Date.now() - t0) / 1000;
    await sleep(1000);
    const report = await watch.stop();
    const after = podSlots(await listPods(client, NS, NAME), 'app');
    expect(condition(hd, 'Degraded')).toBe('False/Healthy');
    for (const s of after) expect(s).toMatchObject({ serves: demoImage(version), inFlight: false });
    return { seconds, report, problems: notUpgradedOnce(before, after) };
  }

  it('elects exactly one leader; the standby only reads', async () => {
    const a = await replica('ctl-a');
    expect(await holder()).toBe('ctl-a');
    const b = await replica('ctl-b');
    await createHd(env.client, rolloutHd(NAME, NS, { replicas: REPLICAS, maxUnavailable: '10%' }));
    await waitHd(env.client, NS, NAME, `${REPLICAS} ready pods at v1`, rolledOut(demoImage('v1'), REPLICAS));
    expect(await holder()).toBe('ctl-a');
    expect(await masterStatus(a)).toBe(1);
    expect(await masterStatus(b)).toBe(0);
    const reqA = await requests(a);
    const reqB = await requests(b);
    figures.push(
      `while ctl-a created ${REPLICAS} pods: ctl-a requests ${JSON.stringify(reqA)}, standby ctl-b ${JSON.stringify(reqB)}`,
    );
    expect(reqA.POST).toBeGreaterThanOrEqual(REPLICAS);
    // The standby reads the Lease (GET) and keeps its caches warm (list, watch): no write at all.
    expect({ POST: reqB.POST, PUT: reqB.PUT, PATCH: reqB.PATCH, DELETE: reqB.DELETE }).toEqual({
      POST: 0,
      PUT: 0,
      PATCH: 0,
      DELETE: 0,
    });
    expect(reqB.GET).toBeGreaterThan(0);
  });

  it('SIGTERM: the leader releases the lease, the standby takes over within seconds, the rollout completes', async () => {
    const [a, b] = env.controllers;
    if (!a || !b) throw new Error('the first test starts ctl-a and ctl-b');
    let failoverMs = 0;
    let exitCode: number | null = null;
    const r = await rollout('v2', async () => {
      const exited = a.kill('SIGTERM');
      failoverMs = await takeover('ctl-b', 30_000);
      exitCode = await exited;
    });
    figures.push(
      `SIGTERM of the leader mid-rollout: ctl-b held the lease ${failoverMs} ms after the signal; rollout of ${REPLICAS} pods ${r.seconds.toFixed(1)} s; ${r.report.violations.length} violations`,
    );
    expect(exitCode).toBe(0);
    expect(logLines(a.log).some((l) => l.msg === 'released the lease')).toBe(true);
    expect(await masterStatus(b)).toBe(1);
    expect(failoverMs).toBeLessThan(5_000);
    expect(r.report.violations).toEqual([]);
    expect(r.problems).toEqual([]);
  });

  it('SIGKILL: the standby takes over once the lease expires, the rollout completes', async () => {
    const b = env.controllers[1];
    if (!b) throw new Error('ctl-b runs');
    const a = await replica('ctl-a');
    let failoverMs = 0;
    let standbyWrites = -1;
    const r = await rollout('v3', async () => {
      standbyWrites = await writes(a);
      const t0 = Date.now();
      await b.kill('SIGKILL');
      await takeover('ctl-a', 40_000);
      failoverMs = Date.now() - t0;
    });
    figures.push(
      `SIGKILL of the leader mid-rollout: ctl-a held the lease ${failoverMs} ms after the kill (lease 15 s); rollout ${r.seconds.toFixed(1)} s; ${r.report.violations.length} violations`,
    );
    expect(standbyWrites, 'writes of the standby before the failover').toBe(0);
    expect(await masterStatus(a)).toBe(1);
    expect(failoverMs).toBeLessThan(20_000);
    expect(r.report.violations).toEqual([]);
    expect(r.problems).toEqual([]);
  });

  it('SIGSTOP: the standby takes over; the frozen leader, thawed, exits without writing', async () => {
    const a = env.controllers[env.controllers.length - 1];
    if (!a || a.identity !== 'ctl-a') throw new Error('ctl-a leads');
    const b = await replica('ctl-b');
    let standbyWrites = -1;
    let failoverMs = 0;
    let exitMs = 0;
    let exitCode: number | null = null;
    let contAt = 0;
    let transitions = 0;
    const r = await rollout('v4', async () => {
      standbyWrites = await writes(b);
      a.child.kill('SIGSTOP');
      failoverMs = await takeover('ctl-b', 40_000);
      transitions = (await readLease(env.client))?.transitions ?? 0;
      contAt = Date.now();
      a.child.kill('SIGCONT');
      exitCode = await Promise.race([a.exited, sleep(15_000).then(() => -1)]);
      exitMs = Date.now() - contAt;
    });
    const lines = logLines(a.log).filter((l) => Number(l.time) >= contAt);
    const why = lines
      .filter((l) => l.msg === 'stopped leading' || l.msg === 'shutting down')
      .map((l) => l.why);
    const refused = lines.filter((l) => l.msg === 'write failed' && l.reason === 'NotLeader').length;
    const plans = lines.filter((l) => l.msg === 'plan').length;
    figures.push(
      `SIGSTOP of the leader mid-rollout: ctl-b held the lease ${failoverMs} ms after the freeze; ctl-a, thawed, exited with ${exitCode} after ${exitMs} ms (${JSON.stringify(why)}; after the thaw it made ${plans} plans, ${refused} writes refused as NotLeader); rollout ${r.seconds.toFixed(1)} s; ${r.report.violations.length} violations`,
    );
    expect(standbyWrites, 'writes of the standby before the failover').toBe(0);
    expect(await masterStatus(b)).toBe(1);
    expect(failoverMs).toBeLessThan(20_000);
    expect(exitCode).toBe(1);
    expect(exitMs).toBeLessThan(5_000);
    expect(why).toContain('lost the leader lease');
    const lease = await readLease(env.client);
    expect(lease).toMatchObject({ holder: 'ctl-b', transitions });
    expect(r.report.violations).toEqual([]);
    expect(r.problems).toEqual([]);
  });
});
