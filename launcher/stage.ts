// `hotupgrade-launcher stage`: the placeholder slot's short job in binary mode. It copies
// the new version's files into the shared volume, says so in its version file, and then
// waits (idle, no CPU) until the controller turns the slot back into the placeholder.
import crypto from 'node:crypto';
import type { SlotConfig } from '../sdk/config.ts';
import { PROTOCOL_VERSION } from '../sdk/constants.ts';
import type { Logger } from '../sdk/log.ts';
import { ensureVolume, holdAlive } from '../sdk/volume.ts';
import { writeVersionFile, type VersionFile } from '../sdk/versionFile.ts';
import { stage } from './binaries.ts';

export async function runStage(o: {
  cfg: SlotConfig;
  from: string;
  command: string[];
  log: Logger;
}): Promise<void> {
  const { cfg, log } = o;
  ensureVolume(cfg.dir);
  holdAlive(cfg.dir, cfg.slot);
  const now = Date.now();
  const base: VersionFile = {
    protocol: PROTOCOL_VERSION,
    slot: cfg.slot,
    version: cfg.version,
    mode: 'binary',
    state: 'staging',
    role: 'standby',
    pid: process.pid,
    instance: crypto.randomUUID(),
    startedAtMs: now,
    updatedAtMs: now,
  };
  writeVersionFile(cfg.dir, base);
  try {
    const m = stage(cfg.dir, o.from, cfg.version, o.command, Date.now());
    writeVersionFile(cfg.dir, { ...base, state: 'staged', updatedAtMs: Date.now() });
    log.info({ version: m.version, from: o.from }, 'staged; waiting to be stopped');
  } catch (err) {
    writeVersionFile(cfg.dir, {
      ...base,
      state: 'failed',
      error: `staging failed: ${(err as Error).message}`,
      updatedAtMs: Date.now(),
    });
    log.error({ err }, 'staging failed');
  }
  await new Promise<void>((resolve) => {
    // A signal handler alone does not keep Node running; a long timer does, at no CPU cost.
    const keep = setInterval(() => undefined, 2 ** 31 - 1);
    const done = (): void => {
      clearInterval(keep);
      resolve();
    };
    process.once('SIGTERM', done);
    process.once('SIGINT', done);
  });
  writeVersionFile(cfg.dir, { ...base, state: 'stopped', updatedAtMs: Date.now() });
}
