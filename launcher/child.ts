// A server process run by the launcher. Two kinds:
//  - a protocol server: control channel at descriptor 3, inherited listening sockets at
//    4, 5, ... (HOTUPGRADE_LISTEN_FDS), everything else inherited;
//  - a plain server (--plain): systemd socket activation, listening sockets from 3
//    (LISTEN_FDS, LISTEN_PID), no control channel; it is drained by SIGTERM. Any server
//    that supports socket activation then adopts hot upgrades by its entrypoint alone.
import { spawn, type ChildProcess } from 'node:child_process';
import type net from 'node:net';
import { ENV } from '../sdk/constants.ts';
import { ControlClient, type Command } from '../sdk/control.ts';

export interface ChildSpec {
  command: string[];
  cwd?: string;
  env: NodeJS.ProcessEnv;
  listenFds: number[];
  /** A server that does not speak the control channel (see the top of this file). */
  plain?: boolean;
}

/** What the launcher needs from a child's control channel; ControlClient, or PlainControl for plain servers. */
export interface Control {
  readonly ready: Promise<void>;
  command(cmd: Command, timeoutMs: number, arg?: string): Promise<void>;
  close(): void;
}

/**
 * The control channel of a plain server, in signals: it is ready and owns from the start
 * (it cannot be told otherwise), drains by SIGTERM (resolved when it exited; bounded by the
 * deadline, then SIGKILL), and cannot resume.
 */
export class PlainControl implements Control {
  readonly ready = Promise.resolve();
  private readonly proc: ChildProcess;
  private readonly exited: Promise<string>;
  constructor(proc: ChildProcess, exited: Promise<string>) {
    this.proc = proc;
    this.exited = exited;
  }
  async command(cmd: Command, _timeoutMs: number, arg?: string): Promise<void> {
    if (cmd === 'listen' || cmd === 'own') return;
    if (cmd === 'resume') throw new Error('a plain server cannot resume after SIGTERM');
    const deadline = Number(arg);
    await terminate(this.proc, this.exited, (Number.isFinite(deadline) ? deadline : Date.now()) - Date.now());
  }
  close(): void {}
}

export interface RunningChild {
  proc: ChildProcess;
  control: Control;
  plain: boolean;
  /** Resolves with the exit code (or signal) when the process ends. */
  exited: Promise<string>;
  pid: number;
}

export function startChild(spec: ChildSpec): RunningChild {
  const [cmd, ...args] = spec.command;
  if (!cmd)
    throw new Error('no server command given: put it after "--", e.g. hotupgrade-launcher -- node server.js');
  const bin = cmd === 'node' ? process.execPath : cmd;
  const proc = spec.plain
    ? // sd_listen_fds() wants LISTEN_PID to be the server's own pid, known only after the
      // fork: a shell exports its $$ and execs the server, which keeps that pid.
      spawn(
        '/bin/sh',
        ['-c', 'LISTEN_PID=$$; export LISTEN_PID; exec "$@"', 'hotupgrade-launcher', bin, ...args],
        {
          cwd: spec.cwd,
          stdio: ['inherit', 'inherit', 'inherit', ...spec.listenFds],
          env: {
            ...spec.env,
            LISTEN_FDS: String(spec.listenFds.length),
            LISTEN_FDNAMES: spec.listenFds.map((_, i) => `listen${i}`).join(':'),
          },
        },
      )
    : spawn(bin, args, {
        cwd: spec.cwd,
        stdio: ['inherit', 'inherit', 'inherit', 'pipe', ...spec.listenFds],
        env: {
          ...spec.env,
          [ENV.controlFd]: '3',
          [ENV.listenFds]: spec.listenFds.map((_, i) => String(4 + i)).join(','),
        },
      });
  const exited = new Promise<string>((resolve) => {
    proc.once('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `exit code ${code}`));
    proc.once('error', (err) => resolve(`failed to start: ${err.message}`));
  });
  const control = spec.plain
    ? new PlainControl(proc, exited)
    : new ControlClient(proc.stdio[3] as net.Socket);
  return { proc, control, exited, pid: proc.pid ?? -1, plain: spec.plain === true };
}

/** Sends SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
async function terminate(proc: ChildProcess, exited: Promise<string>, graceMs: number): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), Math.max(0, graceMs));
  await exited;
  clearTimeout(timer);
}

/** Stops a child (see terminate) and closes its control channel. */
export async function stopChild(child: RunningChild, graceMs: number): Promise<void> {
  await terminate(child.proc, child.exited, graceMs);
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
