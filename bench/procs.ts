// The processes a benchmark run starts, and nothing else: each in its own process
// group (so a launcher's children go with it), its output in a log file, stopped by
// its own id with SIGTERM and then SIGKILL after a bound.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface Started {
  name: string;
  pid: number;
  log: string;
  /** Resolves with "exit code N" or "signal S" when the process ends. */
  exited: Promise<string>;
  child: ChildProcess;
}

export class Processes {
  private readonly logDir: string;
  private readonly running = new Map<number, Started>();
  private seq = 0;

  constructor(logDir: string) {
    this.logDir = logDir;
    fs.mkdirSync(logDir, { recursive: true });
  }

  /** Starts `node ARGS...` with the benchmark's own Node (Node 24). */
  startNode(name: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Started {
    const log = path.join(this.logDir, `${String(++this.seq).padStart(3, '0')}-${name}.log`);
    const fd = fs.openSync(log, 'a');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, args, { cwd, env, detached: true, stdio: ['ignore', fd, fd] });
    } finally {
      fs.closeSync(fd);
    }
    const pid = child.pid ?? -1;
    const exited = new Promise<string>((resolve) => {
      child.once('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `exit code ${code}`));
      child.once('error', (err) => resolve(`failed to start: ${err.message}`));
    });
    const s: Started = { name, pid, log, exited, child };
    if (pid > 0) {
      this.running.set(pid, s);
      void exited.then(() => this.running.delete(pid));
    }
    return s;
  }

  /** Sends `signal` to the process group of `s`, then SIGKILL after graceMs; resolves with how it ended. */
  async stop(s: Started, graceMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<string> {
    if (!this.running.has(s.pid)) return s.exited;
    signalGroup(s.pid, signal);
    const timer = setTimeout(() => signalGroup(s.pid, 'SIGKILL'), graceMs);
    const how = await s.exited;
    clearTimeout(timer);
    // A launcher's child may outlive it by a moment: the group goes too.
    signalGroup(s.pid, 'SIGKILL');
    return how;
  }

  async stopAll(graceMs: number): Promise<void> {
    await Promise.all([...this.running.values()].map((s) => this.stop(s, graceMs)));
  }

  /** Synchronous last resort (process 'exit' handler): SIGKILL every group still running. */
  killAllNow(): void {
    for (const pid of this.running.keys()) signalGroup(pid, 'SIGKILL');
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}
