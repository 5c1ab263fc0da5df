// Process plumbing: start daemons detached with their output in a log file, remember
// their PIDs in the state dir, stop them by PID (never by name), wait for readiness.
import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../demo/ports.ts';

// ip, iptables, modprobe, dockerd live in sbin dirs that a non-login PATH may lack.
function withSbin(path: string | undefined): string {
  const dirs = (path ?? '').split(':').filter(Boolean);
  for (const d of ['/usr/local/sbin', '/usr/sbin', '/sbin']) if (!dirs.includes(d)) dirs.push(d);
  return dirs.join(':');
}
export const ENV: NodeJS.ProcessEnv = { ...process.env, PATH: withSbin(process.env.PATH) };

export interface Daemon {
  name: string;
  pid: number;
  exe: string;
  log: string;
}

// The PID file lists every daemon a cluster started, so a later `down` (another process)
// or a rerun after a crash can stop exactly those.
function pidFile(dir: string): string {
  return join(dir, 'pids.json');
}
export function readDaemons(dir: string): Daemon[] {
  const f = pidFile(dir);
  if (!existsSync(f)) return [];
  return JSON.parse(readFileSync(f, 'utf8')) as Daemon[];
}
function writeDaemons(dir: string, daemons: Daemon[]): void {
  writeFileSync(pidFile(dir), JSON.stringify(daemons, null, 2));
}

export function startDaemon(
  dir: string,
  name: string,
  exe: string,
  args: string[],
  env: NodeJS.ProcessEnv = ENV,
): Daemon {
  const logs = join(dir, 'logs');
  mkdirSync(logs, { recursive: true });
  const log = join(logs, `${name}.log`);
  const fd = openSync(log, 'a');
  // detached: own process group, so it survives `cluster:up` exiting and a Ctrl-C in the
  // terminal does not kill half a cluster.
  const child = spawn(exe, args, { detached: true, stdio: ['ignore', fd, fd], env });
  closeSync(fd);
  child.unref();
  if (child.pid === undefined) throw new Error(`could not start ${name} (${exe}); see ${log}`);
  const d: Daemon = { name, pid: child.pid, exe, log };
  writeDaemons(dir, [...readDaemons(dir), d]);
  return d;
}

// True if pid is alive and still runs exe (so a recycled PID is never signalled).
export function isOurs(d: Daemon): boolean {
  try {
    const cmdline = readFileSync(`/proc/${d.pid}/cmdline`, 'utf8');
    const stat = readFileSync(`/proc/${d.pid}/stat`, 'utf8');
    return cmdline.split('\0')[0] === d.exe && !/\) Z /.test(stat);
  } catch {
    return false;
  }
}

export async function stopDaemon(d: Daemon, graceMs = 10_000): Promise<void> {
  if (!isOurs(d)) return;
  process.kill(d.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isOurs(d)) return;
    await sleep(50);
  }
  if (isOurs(d)) process.kill(d.pid, 'SIGKILL');
  while (isOurs(d)) await sleep(50);
}

// Stops the daemons listed in dir, newest first (dependents before what they depend on).
export async function stopDaemons(dir: string, names?: string[]): Promise<void> {
  const all = readDaemons(dir);
  if (!all.length) return;
  const chosen = all.filter((d) => !names || names.includes(d.name)).reverse();
  for (const d of chosen) await stopDaemon(d);
  writeDaemons(
    dir,
    all.filter((d) => !chosen.includes(d)),
  );
}

export function assertRunning(d: Daemon): void {
  if (!isOurs(d)) {
    const tail = existsSync(d.log) ? readFileSync(d.log, 'utf8').split('\n').slice(-25).join('\n') : '';
    throw new Error(`${d.name} exited; read ${d.log}\n--- last lines ---\n${tail}`);
  }
}

// Polls check() until it returns true; fails early if a daemon it depends on died.
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  opts: { timeoutMs?: number; daemons?: Daemon[] } = {},
): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let last: unknown;
  while (Date.now() < deadline) {
    for (const d of opts.daemons ?? []) assertRunning(d);
    try {
      if (await check()) return;
    } catch (e) {
      last = e;
    }
    await sleep(100);
  }
  const logs = (opts.daemons ?? []).map((d) => d.log).join(', ');
  throw new Error(`timed out waiting for ${what}${logs ? `; read ${logs}` : ''}: ${String(last ?? '')}`);
}

export interface RunResult {
  stdout: string;
  stderr: string;
}
// Runs a short command; the error names the command and carries its stderr.
export function run(
  exe: string,
  args: string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      exe,
      args,
      { env: opts.env ?? ENV, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${exe} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
        else resolve({ stdout, stderr });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

// Progress lines for long steps (cluster start), with elapsed time.
export function progress(prefix: string): (msg: string) => void {
  const t0 = Date.now();
  return (msg) => console.error(`[${prefix} ${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);
}

export { freePort };
