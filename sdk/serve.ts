// The one call a Node business server makes: serveHot(handler, options). Under the
// launcher (HOTUPGRADE_CONTROL_FD set) it obeys the launcher's commands on inherited
// sockets; on its own it runs the protocol itself as a slot participant.
import net from 'node:net';
import { ENV } from './constants.ts';
import { readSlotConfig, parseListen, type SlotConfig } from './config.ts';
import { COMMANDS, LineChannel, type Command } from './control.ts';
import { HotHttpServer, type StateHooks } from './httpServer.ts';
import { defaultLogger, type Logger } from './log.ts';
import { Participant } from './participant.ts';
import { exitNow } from './libc.ts';
import type http from 'node:http';

export interface ServeOptions extends StateHooks {
  /** host:port to listen on in standalone mode; default from HOTUPGRADE_LISTEN, else 0.0.0.0:8080. */
  listen?: string;
  log?: Logger;
  config?: Partial<SlotConfig>;
  env?: NodeJS.ProcessEnv;
  /** Install SIGTERM/SIGINT handlers that stop gracefully and exit (default true). */
  handleSignals?: boolean;
}

export interface HotServe {
  server: http.Server;
  /** Launched mode: the launcher's slot config is not ours to know, so this is null. */
  participant: Participant | null;
  stop(): Promise<void>;
}

export async function serveHot(handler: http.RequestListener, options: ServeOptions = {}): Promise<HotServe> {
  const env = options.env ?? process.env;
  const controlFd = env[ENV.controlFd];
  if (controlFd) return serveLaunched(handler, options, env, Number(controlFd));
  const cfg = readSlotConfig(env, options.config);
  const log = options.log ?? defaultLogger({ slot: cfg.slot, version: cfg.version });
  const { host, port } = parseListen(options.listen ?? env[ENV.listen] ?? '0.0.0.0:8080');
  const hot = new HotHttpServer(handler, { kind: 'port', host, port }, log, options);
  const participant = new Participant({ ...cfg, log }, hot);
  const stop = (): Promise<void> => participant.stop();
  if (options.handleSignals !== false) exitOnSignals(stop, log);
  await participant.start();
  return { server: hot.server, participant, stop };
}

async function serveLaunched(
  handler: http.RequestListener,
  options: ServeOptions,
  env: NodeJS.ProcessEnv,
  controlFd: number,
): Promise<HotServe> {
  const log = options.log ?? defaultLogger({ launched: true });
  const fds = (env[ENV.listenFds] ?? '').split(',').filter(Boolean).map(Number);
  if (fds.length === 0 || fds.some((fd) => !Number.isInteger(fd) || fd < 3)) {
    throw new Error(
      `${ENV.listenFds} must list the inherited listening descriptors (e.g. "4"), got "${env[ENV.listenFds] ?? ''}"`,
    );
  }
  const hot = new HotHttpServer(handler, { kind: 'fds', fds }, log, options);
  const ch = new LineChannel(new net.Socket({ fd: controlFd, readable: true, writable: true }));
  let drainAbort: AbortController | undefined;
  const run: Record<Command, (arg?: string) => Promise<void>> = {
    listen: () => hot.prepare(),
    own: () => hot.own(),
    drain: async (arg) => {
      drainAbort = new AbortController();
      const deadline = Number(arg);
      await hot.drain(Number.isFinite(deadline) ? deadline : Date.now() + 5_000, drainAbort.signal);
    },
    resume: async () => {
      drainAbort?.abort();
      await hot.resume();
    },
  };
  let chain = Promise.resolve();
  ch.on('line', (line) => {
    const [word = '', arg] = line.split(' ');
    if (!(word in COMMANDS)) {
      log.warn({ line }, 'ignoring an unknown control command');
      return;
    }
    const cmd = word as Command;
    // resume must interrupt a drain in progress, so it does not wait its turn.
    if (cmd === 'resume') drainAbort?.abort();
    chain = chain
      .then(() => run[cmd](arg))
      .then(() => {
        ch.send(COMMANDS[cmd]);
        // Drained: the state is handed over. Exit once the last forwarded connection closed.
        if (cmd === 'drain' && !drainAbort?.signal.aborted)
          void hot.settled().then(() => stop().then(() => exitNow(0)));
      })
      .catch((err: unknown) => {
        log.error({ err, cmd }, 'control command failed');
        ch.send(`error ${cmd}`);
      });
  });
  const stop = async (): Promise<void> => {
    await hot.stop();
    ch.socket.destroy();
  };
  // The launcher going away means the container is stopping: finish and exit.
  ch.on('close', () => void stop().then(() => exitNow(0)));
  if (options.handleSignals !== false) exitOnSignals(stop, log);
  ch.send('ready');
  return { server: hot.server, participant: null, stop };
}

function exitOnSignals(stop: () => Promise<void>, log: Logger): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    stop().then(
      () => exitNow(0),
      (err: unknown) => {
        log.error({ err }, 'stop failed');
        exitNow(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}
