// The app against a real shared volume in a temporary directory. Slots are played by this
// process: OFD locks taken here through other open file descriptions conflict with the
// sidecar's probes exactly as another process's would.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { PATHS } from '../sdk/constants.ts';
import { slotFilePath, writeVersionFile, type VersionFile } from '../sdk/versionFile.ts';
import { ActiveLock, ensureVolume, holdAlive } from '../sdk/volume.ts';
import { buildApp, type PodState } from './app.ts';
import { makeFile, makeHandover } from './fixtures.ts';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function tempVolume(withSlots = true): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hu-sidecar-'));
  if (withSlots) ensureVolume(dir);
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A slot's process: its liveness lock, its version file and, if it serves, the active lock. */
function startSlot(dir: string, file: VersionFile, opts: { lock?: boolean } = {}): { die(): void } {
  const aliveFd = holdAlive(dir, file.slot);
  writeVersionFile(dir, file);
  const lock = opts.lock ? new ActiveLock(dir) : undefined;
  if (lock && !lock.tryAcquire()) throw new Error('test setup: the active lock is taken');
  let dead = false;
  const die = (): void => {
    if (dead) return;
    dead = true;
    fs.closeSync(aliveFd);
    if (lock) fs.closeSync(lock.fd);
  };
  cleanups.push(die);
  return { die };
}

interface Harness {
  app: FastifyInstance;
  logs: Record<string, unknown>[];
}

async function sidecar(dir: string, startMs = 0): Promise<Harness> {
  const logs: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const app = buildApp({
    dir,
    log,
    now: () => startMs,
    rescanMs: 60_000,
    pod: { name: 'web-0', namespace: 'media' },
  });
  await app.ready();
  cleanups.push(() => void app.close());
  return { app, logs };
}

async function get(
  app: FastifyInstance,
  url: string,
): Promise<{ status: number; body: string; json: () => unknown }> {
  const r = await app.inject({ method: 'GET', url });
  return { status: r.statusCode, body: r.body, json: () => r.json() };
}

async function state(app: FastifyInstance): Promise<PodState> {
  return (await get(app, '/v1/state')).json() as PodState;
}

const a1 = makeFile({ slot: 'a', version: 'v1', state: 'serving', pid: process.pid });
const b2 = makeFile({ slot: 'b', version: 'v2', state: 'waiting', role: 'successor', announcedAtMs: 9_000 });

describe('sidecar app', () => {
  it('answers /healthz while the volume is empty', async () => {
    const { app } = await sidecar(tempVolume());
    const r = await get(app, '/healthz');
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({ ok: true });
  });

  it('is ready while a slot holds the active lock and serves, and says who', async () => {
    const dir = tempVolume();
    startSlot(dir, a1, { lock: true });
    const { app } = await sidecar(dir);
    const ready = await get(app, '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.json()).toMatchObject({ ready: true, activeSlot: 'a', activeVersion: 'v1', phase: 'none' });
    expect(await state(app)).toMatchObject({
      protocol: 1,
      pod: { name: 'web-0', namespace: 'media' },
      serving: true,
      activeSlot: 'a',
      slots: [{ slot: 'a', alive: true, state: 'serving', version: 'v1', pid: process.pid }],
    });
    const metrics = await get(app, '/metrics');
    expect(metrics.body).toContain('hotupgrade_serving 1');
    expect(metrics.body).toContain('hotupgrade_active_version_info{slot="a",version="v1"} 1');
    expect(metrics.body).toContain('process_resident_memory_bytes');
    expect(metrics.body).not.toContain('nodejs_eventloop_lag'); // its 10 ms timer would cost idle CPU
  });

  it('stays ready while the old server drains for its successor', async () => {
    const dir = tempVolume();
    startSlot(dir, { ...a1, state: 'draining', successor: 'b' }, { lock: true });
    startSlot(dir, b2);
    const { app } = await sidecar(dir);
    expect((await get(app, '/readyz')).status).toBe(200);
    expect(await state(app)).toMatchObject({
      serving: true,
      phase: 'draining',
      activeSlot: 'a',
      successorSlot: 'b',
    });
  });

  it('is not ready once the serving process dies, and says so without waiting for a rescan', async () => {
    const dir = tempVolume();
    const a = startSlot(dir, a1, { lock: true });
    const { app } = await sidecar(dir);
    expect((await get(app, '/readyz')).status).toBe(200);
    a.die();
    const r = await get(app, '/readyz');
    expect(r.status).toBe(503);
    expect(r.json()).toMatchObject({ ready: false, phase: 'unserved' });
    expect((r.json() as { reason: string }).reason).toContain(
      'nobody holds the active lock; slot "a": process gone (last state serving',
    );
  });

  it('counts a handover that happens while it runs once, and not again after a sidecar restart', async () => {
    const dir = tempVolume();
    startSlot(dir, { ...a1, state: 'idle', releasedAtMs: 9_995 });
    const first = await sidecar(dir, 5_000);
    const record = makeHandover({ atMs: 10_000 });
    startSlot(dir, { ...b2, state: 'serving', lockAcquiredAtMs: 9_996, handover: record }, { lock: true });
    for (let i = 0; i < 3; i++) await get(first.app, '/metrics');
    expect(await state(first.app)).toMatchObject({
      handovers: { completed: 1, failed: 0 },
      lastHandover: record,
    });
    expect((await get(first.app, '/metrics')).body).toContain(
      'hotupgrade_handovers_total{result="completed"} 1',
    );
    expect(first.logs.filter((l) => l.event === 'handover')).toHaveLength(1);

    const restarted = await sidecar(dir, 20_000);
    expect(await state(restarted.app)).toMatchObject({
      handovers: { completed: 0, failed: 0 },
      lastHandover: record,
    });
    expect((await get(restarted.app, '/metrics')).body).toContain(
      'hotupgrade_handovers_total{result="completed"} 0',
    );
  });

  it('notices a change through the watch, without any request', async () => {
    const dir = tempVolume();
    const { logs } = await sidecar(dir);
    startSlot(dir, b2);
    await expect
      .poll(() => logs.some((l) => l.event === 'process' && l.slot === 'b'), { timeout: 2_000 })
      .toBe(true);
  });

  it('watches the slots directory once a slot creates it, even if it was missing at start', async () => {
    const dir = tempVolume(false);
    const { app, logs } = await sidecar(dir);
    await get(app, '/readyz');
    ensureVolume(dir);
    await get(app, '/readyz'); // the look that notices the directory and starts the watch
    startSlot(dir, b2);
    await expect
      .poll(() => logs.some((l) => l.event === 'process' && l.slot === 'b'), { timeout: 2_000 })
      .toBe(true);
  });
});

describe('sidecar app with bad input in the shared volume', () => {
  const huge = JSON.stringify({ ...a1, padding: 'x'.repeat(200 * 1024) });
  const cases: [string, (dir: string) => void, string][] = [
    ['an empty version file', (d) => fs.writeFileSync(slotFilePath(d, 'a'), ''), 'file is empty'],
    [
      'a truncated version file',
      (d) => fs.writeFileSync(slotFilePath(d, 'a'), JSON.stringify(a1).slice(0, 40)),
      'not valid JSON',
    ],
    [
      'a version file with wrong types',
      (d) => fs.writeFileSync(slotFilePath(d, 'a'), JSON.stringify({ ...a1, pid: 'one' })),
      'field "pid"',
    ],
    ['a huge version file', (d) => fs.writeFileSync(slotFilePath(d, 'a'), huge), 'larger than'],
    [
      'a directory where the version file should be',
      (d) => fs.mkdirSync(slotFilePath(d, 'a')),
      'cannot read',
    ],
    [
      'a liveness file without a version file',
      (d) => fs.writeFileSync(path.join(d, PATHS.slotsDir, 'a.alive'), ''),
      'no version file yet',
    ],
  ];

  it.each(cases)('answers every endpoint with a clear state for %s', async (_t, setup, problem) => {
    const dir = tempVolume();
    setup(dir);
    const { app, logs } = await sidecar(dir);
    expect((await get(app, '/healthz')).status).toBe(200);
    const ready = await get(app, '/readyz');
    expect(ready.status).toBe(503);
    expect((ready.json() as { reason: string }).reason).toContain(problem);
    const s = await state(app);
    expect(s.serving).toBe(false);
    expect(s.slots).toHaveLength(1);
    expect(s.slots[0]).toMatchObject({ slot: 'a', state: null, version: null });
    expect(s.slots[0]?.problem).toContain(problem);
    expect((await get(app, '/metrics')).status).toBe(200);
    // One warn line naming the file, however many looks there were.
    const warned = logs.filter((l) => l.event === 'problem');
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ level: 40, slot: 'a', file: slotFilePath(dir, 'a') });
  });

  it('counts a malformed file once, not per read, and logs when it is readable again', async () => {
    const dir = tempVolume();
    fs.writeFileSync(slotFilePath(dir, 'a'), '{"protocol":');
    const { app, logs } = await sidecar(dir);
    for (let i = 0; i < 5; i++) await get(app, '/readyz');
    expect((await get(app, '/metrics')).body).toContain('hotupgrade_version_file_errors_total{slot="a"} 1');
    writeVersionFile(dir, makeFile({ slot: 'a', state: 'stopped' }));
    await get(app, '/readyz');
    expect(logs.filter((l) => l.event === 'problem-cleared')).toHaveLength(1);
  });

  it('answers with a clear state when the slots directory is missing', async () => {
    const dir = tempVolume(false);
    const { app } = await sidecar(dir);
    const ready = await get(app, '/readyz');
    expect(ready.status).toBe(503);
    expect((ready.json() as { reason: string }).reason).toContain(
      `no slot has started: nothing in ${path.join(dir, 'slots')}`,
    );
    expect(await state(app)).toMatchObject({ serving: false, phase: 'unserved', slots: [] });
    expect((await get(app, '/metrics')).body).toContain('hotupgrade_serving 0');
  });

  it("reports a dead process's stale file as not alive, and is not ready", async () => {
    const dir = tempVolume();
    writeVersionFile(dir, a1); // written, but no process holds its liveness lock
    const { app } = await sidecar(dir);
    expect((await get(app, '/readyz')).status).toBe(503);
    expect((await state(app)).slots[0]).toMatchObject({ slot: 'a', alive: false, state: 'serving' });
    expect((await get(app, '/metrics')).body).toContain('hotupgrade_slot_state{slot="a",state="serving"} 0');
  });
});

describe("sidecar app: slot readiness (the slot containers' readiness probe)", () => {
  const placeholder = makeFile({ slot: 'b', version: 'placeholder', state: 'placeholder', role: 'standby' });

  it('answers 200 for the serving slot and for the placeholder beside it, with state and version', async () => {
    const dir = tempVolume();
    startSlot(dir, a1, { lock: true });
    startSlot(dir, placeholder);
    const { app } = await sidecar(dir);
    const a = await get(app, '/v1/slots/a/ready');
    expect(a.status).toBe(200);
    expect(a.json()).toEqual({ ready: true, slot: 'a', state: 'serving', version: 'v1' });
    const b = await get(app, '/v1/slots/b/ready');
    expect(b.status).toBe(200);
    expect(b.json()).toEqual({ ready: true, slot: 'b', state: 'placeholder', version: 'placeholder' });
  });

  it('answers 503 with the reason while the new version waits for the active lock', async () => {
    const dir = tempVolume();
    startSlot(dir, a1, { lock: true });
    startSlot(dir, b2);
    const { app } = await sidecar(dir);
    const r = await get(app, '/v1/slots/b/ready');
    expect(r.status).toBe(503);
    expect(r.json()).toEqual({
      ready: false,
      slot: 'b',
      state: 'waiting',
      version: 'v2',
      reason: 'slot "b": version v2 is waiting for the active lock (handover in progress)',
    });
  });

  it('reads the volume afresh: a killed placeholder is not ready at the next probe', async () => {
    const dir = tempVolume();
    startSlot(dir, a1, { lock: true });
    const b = startSlot(dir, placeholder);
    const { app } = await sidecar(dir);
    expect((await get(app, '/v1/slots/b/ready')).status).toBe(200);
    b.die();
    const r = await get(app, '/v1/slots/b/ready');
    expect(r.status).toBe(503);
    expect(r.json()).toMatchObject({ ready: false, slot: 'b', state: null, version: null });
    expect((r.json() as { reason: string }).reason).toContain('slot "b": no live process');
  });

  it('answers 503 for a slot with nothing in the volume, even without a slots directory', async () => {
    const { app } = await sidecar(tempVolume(false));
    const r = await get(app, '/v1/slots/b/ready');
    expect(r.status).toBe(503);
    expect((r.json() as { reason: string }).reason).toBe(
      'slot "b": no live process (the container is starting, or its process died)',
    );
  });

  it('with waitMs, answers as soon as the new version takes over instead of at the next probe', async () => {
    const dir = tempVolume();
    const a = startSlot(dir, a1, { lock: true });
    startSlot(dir, b2);
    const { app } = await sidecar(dir);
    const t0 = Date.now();
    const pending = get(app, '/v1/slots/b/ready?waitMs=5000');
    await new Promise((r) => setTimeout(r, 150));
    // The handover: a lets go of the lock, b takes it and serves.
    a.die();
    const lock = new ActiveLock(dir);
    expect(lock.tryAcquire()).toBe(true);
    cleanups.push(() => fs.closeSync(lock.fd));
    writeVersionFile(dir, { ...b2, state: 'serving' });
    const r = await pending;
    const waited = Date.now() - t0;
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({ ready: true, slot: 'b', state: 'serving', version: 'v2' });
    expect(waited).toBeGreaterThanOrEqual(150);
    expect(waited).toBeLessThan(4000);
  });

  it('with waitMs, answers 503 after the wait when the slot stays unsettled, and at once when ready', async () => {
    const dir = tempVolume();
    startSlot(dir, a1, { lock: true });
    startSlot(dir, b2);
    const { app } = await sidecar(dir);
    const t0 = Date.now();
    expect((await get(app, '/v1/slots/b/ready?waitMs=200')).status).toBe(503);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
    const t1 = Date.now();
    expect((await get(app, '/v1/slots/a/ready?waitMs=5000')).status).toBe(200);
    expect(Date.now() - t1).toBeLessThan(1000);
  });

  it.each([['-1'], ['abc'], ['10001'], ['1.5']])(
    'answers 400 for waitMs=%s, naming the parameter',
    async (w) => {
      const { app } = await sidecar(tempVolume());
      const r = await get(app, `/v1/slots/b/ready?waitMs=${w}`);
      expect(r.status).toBe(400);
      expect((r.json() as { reason: string }).reason).toContain(
        'waitMs must be a whole number of milliseconds from 0 to 10000',
      );
    },
  );

  it.each([['B'], ['a.b'], ['-a'], ['%20a']])('answers 400 for %j, which names no slot', async (name) => {
    const { app } = await sidecar(tempVolume());
    const r = await get(app, `/v1/slots/${name}/ready`);
    expect(r.status).toBe(400);
    expect((r.json() as { reason: string }).reason).toContain('is not a slot name');
  });
});
