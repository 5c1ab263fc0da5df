// The control channel between the launcher and the server it runs: a stream socket at
// the descriptor named by HOTUPGRADE_CONTROL_FD, one command per line. The launcher
// says what to do; the server answers when it is done. Language-neutral: any server
// that reads and writes lines on a descriptor can take part (docs/protocol.md §7).
import type net from 'node:net';
import { EventEmitter } from 'node:events';

/** launcher -> server, and the reply the server sends when it has done it. */
export const COMMANDS = {
  listen: 'listening',
  own: 'owned',
  drain: 'drained',
  resume: 'resumed',
} as const;
export type Command = keyof typeof COMMANDS;
export type Reply = (typeof COMMANDS)[Command] | 'ready';

/** Splits a stream into lines and emits each one; tolerates partial writes and junk. */
export class LineChannel extends EventEmitter<{ line: [string]; close: [] }> {
  readonly socket: net.Socket;
  private buf = '';
  constructor(socket: net.Socket) {
    super();
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buf += chunk;
      if (this.buf.length > 64 * 1024) this.buf = this.buf.slice(-1024); // a peer that never ends a line cannot grow us
      let i: number;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i).trim();
        this.buf = this.buf.slice(i + 1);
        if (line) this.emit('line', line);
      }
    });
    socket.on('close', () => this.emit('close'));
    socket.on('error', () => undefined);
  }
  send(line: string): void {
    if (!this.socket.destroyed) this.socket.write(line + '\n');
  }
}

/** The launcher's end: sends a command and resolves when its reply arrives, or rejects at the timeout or on close. */
export class ControlClient {
  private readonly ch: LineChannel;
  private readonly waiters = new Map<string, Array<{ resolve: () => void; reject: (e: Error) => void }>>();
  readonly ready: Promise<void>;
  constructor(socket: net.Socket) {
    this.ch = new LineChannel(socket);
    this.ready = this.expect('ready', 0);
    this.ch.on('line', (line) => {
      const [word = '', arg = ''] = line.split(' ');
      if (word === 'error') {
        // `error <cmd>`: the command failed; fail its waiter now rather than at the timeout.
        const reply = (COMMANDS as Record<string, string>)[arg];
        const w = reply === undefined ? undefined : this.waiters.get(reply)?.shift();
        w?.reject(new Error(`server could not ${arg}`));
        return;
      }
      this.waiters.get(word)?.shift()?.resolve();
    });
    this.ch.on('close', () => {
      for (const ws of this.waiters.values())
        for (const w of ws) w.reject(new Error('server closed the control channel (it exited)'));
      this.waiters.clear();
    });
  }
  private expect(reply: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const list = this.waiters.get(reply) ?? [];
      const entry = { resolve, reject };
      list.push(entry);
      this.waiters.set(reply, list);
      if (timeoutMs > 0) {
        const t = setTimeout(() => {
          const l = this.waiters.get(reply);
          const i = l?.indexOf(entry) ?? -1;
          if (l && i >= 0) l.splice(i, 1);
          reject(new Error(`server did not answer "${reply}" within ${timeoutMs} ms`));
        }, timeoutMs);
        t.unref();
      }
    });
  }
  async command(cmd: Command, timeoutMs: number, arg?: string): Promise<void> {
    const p = this.expect(COMMANDS[cmd], timeoutMs);
    this.ch.send(arg === undefined ? cmd : `${cmd} ${arg}`);
    await p;
  }
  close(): void {
    this.ch.socket.destroy();
  }
}
