// A slot's configuration, read from its environment once at start. Bad values fail fast
// with the variable's name and the fix: a slot with a wrong configuration must not run.
import { DEFAULTS, ENV, SLOT_NAME } from './constants.ts';
import type { Mode, Role } from './versionFile.ts';

export interface SlotConfig {
  dir: string;
  slot: string;
  version: string;
  mode: Mode;
  role: Role;
  handoverDeadlineMs: number;
  drainTimeoutMs: number;
  probationMs: number;
  shmDir: string;
  /** On a stop while serving: keep serving this long before draining, in ms (0: drain at once). */
  shutdownDelayMs: number;
}

export class ConfigError extends Error {}

function positiveMs(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new ConfigError(`${name} must be a positive number of milliseconds, got "${raw}"`);
  return n;
}

function nonNegativeMs(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new ConfigError(`${name} must be a number of milliseconds, 0 or more, got "${raw}"`);
  return n;
}

export function readSlotConfig(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<SlotConfig> = {},
): SlotConfig {
  const slot = overrides.slot ?? env[ENV.slot] ?? '';
  if (!SLOT_NAME.test(slot)) {
    throw new ConfigError(
      `${ENV.slot} must name this container's slot (like "a" or "b"), got "${slot}"; set it in the pod spec`,
    );
  }
  const version = overrides.version ?? env[ENV.version] ?? '';
  if (version === '') {
    throw new ConfigError(
      `${ENV.version} is empty: set it from the pod annotation hotupgrade.io/version-${slot} with a downward-API env (fieldRef metadata.annotations['hotupgrade.io/version-${slot}'])`,
    );
  }
  const mode = overrides.mode ?? env[ENV.mode] ?? 'slot';
  if (mode !== 'slot' && mode !== 'binary')
    throw new ConfigError(`${ENV.mode} must be "slot" or "binary", got "${mode}"`);
  const active = env[ENV.activeSlot] ?? '';
  // Without an active-slot annotation every newly started process means to take over.
  const role: Role = overrides.role ?? (active === '' || active === slot ? 'successor' : 'standby');
  return {
    dir: overrides.dir ?? env[ENV.dir] ?? DEFAULTS.dir,
    slot,
    version,
    mode,
    role,
    handoverDeadlineMs:
      overrides.handoverDeadlineMs ?? positiveMs(env, ENV.handoverDeadlineMs, DEFAULTS.handoverDeadlineMs),
    drainTimeoutMs: overrides.drainTimeoutMs ?? positiveMs(env, ENV.drainTimeoutMs, DEFAULTS.drainTimeoutMs),
    probationMs: overrides.probationMs ?? positiveMs(env, ENV.probationMs, DEFAULTS.probationMs),
    shmDir: overrides.shmDir ?? env[ENV.shmDir] ?? DEFAULTS.shmDir,
    shutdownDelayMs:
      overrides.shutdownDelayMs ?? nonNegativeMs(env, ENV.shutdownDelayMs, DEFAULTS.shutdownDelayMs),
  };
}

/** "8080", ":8080" or "0.0.0.0:8080" -> host and port. */
export function parseListen(raw: string, name: string = ENV.listen): { host: string; port: number } {
  const m = /^(?:([0-9.]*):)?(\d{1,5})$/.exec(raw.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535)
    throw new ConfigError(`${name} must be a port or host:port such as 0.0.0.0:8080, got "${raw}"`);
  return { host: m[1] || '0.0.0.0', port };
}
