// `npm run demo`: the product's heart on one machine, no Kubernetes needed. Two local
// "slots" share a temporary directory standing in for the pod's shared volume; the demo
// server runs in slot a, a steady load runs against it, and it is hot-upgraded
// v1 -> v2 (slot b) -> v3 (slot a again), printing what happens at each step and what
// a user of the service noticed: failed requests, the longest gap, sessions kept.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readVolume } from '../sdk/volume.ts';
import { summarize } from '../sdk/handover.ts';
import { startLoad } from './loadgen.ts';
import { freePort } from './ports.ts';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'hotupgrade-demo-'));
const vol = path.join(work, 'volume');
const shm = path.join(work, 'shm');
const procs = new Set<ChildProcess>();

function say(line: string): void {
  process.stdout.write(`${new Date().toISOString().slice(11, 23)}  ${line}\n`);
}

function startSlot(slot: string, version: string, port: number): ChildProcess {
  const p = spawn(
    process.execPath,
    [path.join(root, 'launcher/main.ts'), '--', 'node', path.join(root, 'demo/server.ts')],
    {
      env: {
        ...process.env,
        HOTUPGRADE_DIR: vol,
        HOTUPGRADE_SHM_DIR: shm,
        HOTUPGRADE_SLOT: slot,
        HOTUPGRADE_VERSION: version,
        HOTUPGRADE_ACTIVE_SLOT: slot,
        HOTUPGRADE_LISTEN: `127.0.0.1:${port}`,
        HOTUPGRADE_DRAIN_TIMEOUT_MS: '2000',
      },
      stdio: ['ignore', 'ignore', fs.openSync(path.join(work, `${slot}-${version}.log`), 'w')],
    },
  );
  procs.add(p);
  p.on('exit', () => procs.delete(p));
  return p;
}

/** Prints every state change of the volume until `until` holds, or fails after `timeoutMs`. */
async function follow(until: () => boolean, timeoutMs: number): Promise<void> {
  let last = '';
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const view = readVolume(vol);
    const s = summarize(view);
    const line = view.slots
      .map(
        (x) =>
          `${x.slot}: ${x.file?.state ?? x.problem}${x.file ? ` ${x.file.version}` : ''}${x.alive ? '' : ' (exited)'}`,
      )
      .join(' | ');
    const text = `${line}   [lock ${view.lockHeld ? 'held' : 'free'}, phase ${s.phase}]`;
    if (text !== last) say(text);
    last = text;
    if (until()) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`demo step did not finish within ${timeoutMs} ms; logs are in ${work}`);
}

const serving = (slot: string, version: string) => (): boolean => {
  const f = readVolume(vol).slots.find((x) => x.slot === slot)?.file;
  return f?.state === 'serving' && f.version === version;
};

async function main(): Promise<void> {
  const port = await freePort();
  say(`shared volume ${vol}; the demo server listens on 127.0.0.1:${port}`);
  let a = startSlot('a', 'v1', port);
  await follow(serving('a', 'v1'), 15_000);
  const load = startLoad({
    url: `http://127.0.0.1:${port}`,
    rate: 500,
    sessions: 200,
    keepAliveShare: 0.7,
    durationMs: 60_000,
  });
  await new Promise((r) => setTimeout(r, 1_000));
  say('--- hot upgrade v1 -> v2: the controller would patch slot b from the placeholder image to v2');
  startSlot('b', 'v2', port);
  await follow(serving('b', 'v2'), 30_000);
  say('--- slot a is idle: the controller would patch it back to the placeholder image (its process stops)');
  a.kill('SIGTERM');
  await new Promise((r) => a.once('exit', r));
  await new Promise((r) => setTimeout(r, 1_000));
  say('--- hot upgrade v2 -> v3 in slot a');
  a = startSlot('a', 'v3', port);
  await follow(serving('a', 'v3'), 30_000);
  await new Promise((r) => setTimeout(r, 1_000));
  const report = await load.stop();
  const b = readVolume(vol).slots.find((x) => x.slot === 'a')?.file?.handover;
  say('--- what the clients noticed');
  console.log(
    JSON.stringify(
      {
        requests: report.ok + report.failed,
        failed: report.failed,
        failureReasons: report.failureReasons,
        maxGapMs: report.maxGapMs,
        p99Ms: report.latencyMs.p99,
        sessions: report.sessionsSeen,
        sessionsLost: report.sessionsLost,
        answersPerVersion: report.versions,
        lastHandover: b,
      },
      null,
      2,
    ),
  );
  if (report.failed > 0 || report.sessionsLost > 0) process.exitCode = 1;
}

function cleanup(): void {
  for (const p of procs) p.kill('SIGKILL');
  fs.rmSync(work, { recursive: true, force: true });
}

process.once('SIGINT', () => {
  cleanup();
  process.exit(130);
});
main()
  .catch((err: unknown) => {
    console.error(`demo failed: ${(err as Error).message}`);
    process.exitCode = 1;
  })
  .finally(() => {
    if (process.exitCode) {
      for (const p of procs) p.kill('SIGKILL');
      console.error(`logs kept in ${work}`);
    } else cleanup();
  });
