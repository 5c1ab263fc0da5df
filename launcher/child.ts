// A server process run by the launcher: control channel at descriptor 3, inherited
// listening sockets at 4, 5, ... (HOTUPGRADE_LISTEN_FDS), everything else inherited.
import { spawn, type ChildProcess } from 'node:child_process';
import type net from 'node:net';
import { ENV } from '../sdk/constants.ts';
import { ControlClient } from '../sdk/control.ts';

export interface ChildSpec {
  command: string[];
  cwd?: string;
  env: NodeJS.ProcessEnv;
  listenFds: number[];
}

export interface RunningChild {
  proc: ChildProcess;
  control: ControlClient;
  /** Resolves with the exit code (or signal) when the process ends. */
  exited: Promise<string>;
  pid: number;
}

export function startChild(spec: ChildSpec): RunningChild {
  const [cmd, ...args] = spec.command;
  if (!cmd)
    throw new Error('no server command given: put it after "--", e.g. hotupgrade-launcher -- node server.js');
  const first = 4;
  const proc = spawn(cmd === 'node' ? process.execPath : cmd, args, {
    cwd: spec.cwd,
    stdio: ['inherit', 'inherit', 'inherit', 'pipe', ...spec.listenFds],
    env: {
      ...spec.env,
      [ENV.controlFd]: '3',
      [ENV.listenFds]: spec.listenFds.map((_, i) => String(first + i)).join(','),
    },
  });
  const exited = new Promise<string>((resolve) => {
    proc.once('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `exit code ${code}`));
    proc.once('error', (err) => resolve(`failed to start: ${err.message}`));
  });
  const control = new ControlClient(proc.stdio[3] as net.Socket);
  return { proc, control, exited, pid: proc.pid ?? -1 };
}

/** Sends SIGTERM, then SIGKILL after `graceMs`; resolves when the child is gone. */
export async function stopChild(child: RunningChild, graceMs: number): Promise<void> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  child.proc.kill('SIGTERM');
  const timer = setTimeout(() => child.proc.kill('SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(timer);
  child.control.close();
}

/** Rejects when the child exits first: a server that dies mid-step fails the step at once, not at a timeout. */
export function orExit<T>(child: RunningChild, step: Promise<T>, what: string): Promise<T> {
  return Promise.race([
    step,
    child.exited.then((how) => {
      throw new Error(`server ${what} failed: it exited (${how})`);
    }),
  ]);
}
