#!/usr/bin/env node
// hotupgrade-launcher: runs any server command under the hot-upgrade protocol, so a team
// adopts hot upgrades by changing only its image's entrypoint.
//
//   hotupgrade-launcher [--listen HOST:PORT]... [--plain] -- COMMAND [ARGS...]
//       Slot mode (HOTUPGRADE_MODE=slot, the default): take part in the handover between
//       the pod's two slots; COMMAND gets the listening sockets and the control channel.
//       Binary mode (HOTUPGRADE_MODE=binary): the same, and when the other slot stages a
//       newer version, switch to it inside this slot without closing the sockets.
//       --plain: COMMAND needs no change at all if it supports systemd socket activation;
//       it then cannot be held before it owns the state (see docs/protocol.md §7).
//   hotupgrade-launcher stage --from DIR -- COMMAND [ARGS...]
//       Binary mode's placeholder step: copy DIR into the shared volume as this slot's
//       version (HOTUPGRADE_VERSION), with COMMAND to run it, then wait to be stopped.
//   hotupgrade-launcher --from DIR [--listen ...] -- COMMAND [ARGS...]   (binary mode)
//       One entrypoint for both slots of a pod, which share one container spec: the slot
//       HOTUPGRADE_ACTIVE_SLOT names serves; the other one stages DIR (as `stage` does).
import { parseArgs } from 'node:util';
import { readSlotConfig, parseListen, ConfigError } from '../sdk/config.ts';
import { ENV } from '../sdk/constants.ts';
import { defaultLogger } from '../sdk/log.ts';
import { exitNow } from '../sdk/libc.ts';
import { Participant } from '../sdk/participant.ts';
import { watchDir, watchSlots } from '../sdk/watch.ts';
import { binariesDir } from './binaries.ts';
import { BinarySwapper } from './binary.ts';
import { runStage } from './stage.ts';
import { LauncherServer } from './slotServer.ts';

const USAGE = `usage:
  hotupgrade-launcher [--listen HOST:PORT]... [--plain] -- COMMAND [ARGS...]
      --plain: COMMAND does not speak the control channel; it gets its listening sockets
      by systemd socket activation (LISTEN_FDS, descriptors from 3) and drains on SIGTERM
  hotupgrade-launcher stage --from DIR -- COMMAND [ARGS...]
  hotupgrade-launcher --from DIR [--listen HOST:PORT]... -- COMMAND [ARGS...]
      binary mode, one entrypoint for both slots: the active slot serves, the other stages DIR
Environment: HOTUPGRADE_SLOT, HOTUPGRADE_VERSION (required), HOTUPGRADE_DIR, HOTUPGRADE_MODE,
HOTUPGRADE_LISTEN (when no --listen), HOTUPGRADE_ACTIVE_SLOT, HOTUPGRADE_HANDOVER_DEADLINE_MS,
HOTUPGRADE_DRAIN_TIMEOUT_MS, HOTUPGRADE_PROBATION_MS. See docs/protocol.md.`;

function fail(message: string): never {
  console.error(`hotupgrade-launcher: ${message}\n\n${USAGE}`);
  process.exit(64);
}

async function main(argv: string[]): Promise<void> {
  const dash = argv.indexOf('--');
  const own = dash >= 0 ? argv.slice(0, dash) : argv;
  const command = dash >= 0 ? argv.slice(dash + 1) : [];
  const { values, positionals } = parseArgs({
    args: own,
    allowPositionals: true,
    options: {
      listen: { type: 'string', multiple: true },
      plain: { type: 'boolean' },
      from: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (command.length === 0) fail('no server command: put it after "--"');
  const cfg = readSlotConfig(process.env);
  const log = defaultLogger({ component: 'launcher', slot: cfg.slot, version: cfg.version });

  if (positionals[0] === 'stage') {
    if (!values.from) fail('stage needs --from DIR, the directory holding the binaries to stage');
    await runStage({ cfg, from: values.from, command, log });
    return;
  }
  if (positionals.length > 0) fail(`unknown subcommand "${positionals[0]}"`);
  // Binary mode in a pod: both slots run this same command line (their container specs are
  // copies); the slot the controller did not make active is the stager (protocol §8.1).
  // (role standby: HOTUPGRADE_ACTIVE_SLOT names another slot.)
  if (cfg.mode === 'binary' && values.from && cfg.role === 'standby') {
    log.info({}, 'binary mode, not the active slot: staging');
    await runStage({ cfg, from: values.from, command, log });
    return;
  }

  const listenRaw = values.listen ?? (process.env[ENV.listen] ? [process.env[ENV.listen] as string] : []);
  if (listenRaw.length === 0) fail(`say where to listen: --listen 0.0.0.0:8080 or ${ENV.listen}`);
  const listen = listenRaw.map((l) => parseListen(l, '--listen'));
  const childEnv = { ...process.env, [ENV.version]: cfg.version, [ENV.slot]: cfg.slot };
  const server = new LauncherServer({
    listen,
    command,
    env: childEnv,
    stepTimeoutMs: cfg.handoverDeadlineMs,
    log,
    plain: values.plain === true,
    onChildLost: (how) => {
      // The serving process died: release everything so the other slot (or a restart of
      // this container) takes over, instead of holding a lock with nobody behind it.
      log.error({ how }, 'the server process exited on its own; exiting so that the lock is released');
      exitNow(70);
    },
  });
  const participant = new Participant({ ...cfg, log }, server);
  const startedAt = Date.now();
  let stopping = false;
  const onSignal = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    void participant.stop().then(() => exitNow(0));
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  await participant.start();
  if (cfg.mode === 'binary') {
    // Binary mode: switch to a newer staging when one appears (the stager's writes to
    // binaries/ and slots/ both say so), with the usual 1 s re-scan as a backstop.
    const swapper = new BinarySwapper(
      { dir: cfg.dir, server, participant, env: childEnv, drainTimeoutMs: cfg.drainTimeoutMs, log },
      startedAt,
    );
    watchDir(binariesDir(cfg.dir), 1_000, () => void swapper.check());
    watchSlots(cfg.dir, 1_000, () => void swapper.check());
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof ConfigError) fail(err.message);
  console.error(err);
  exitNow(70); // process.exit() could wait forever on a lock wait in progress
});
