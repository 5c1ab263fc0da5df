// The sidecar's configuration, from the environment of its container. A bad value stops
// the start with a message naming the variable and the fix (ConfigError); nothing else throws.
import path from 'node:path';
import { DEFAULTS, ENV } from '../sdk/constants.ts';
import type { PodRef } from './report.ts';

export const SIDECAR_ENV = {
  port: 'HOTUPGRADE_SIDECAR_PORT',
  host: 'HOTUPGRADE_SIDECAR_HOST',
  rescanMs: 'HOTUPGRADE_RESCAN_MS',
  podName: 'POD_NAME',
  podNamespace: 'POD_NAMESPACE',
} as const;

export const SIDECAR_DEFAULTS = { port: 9901, host: '0.0.0.0' } as const;

export interface SidecarConfig {
  /** The shared volume's mount path. */
  dir: string;
  port: number;
  host: string;
  /** Backstop re-read of the shared volume, in ms. */
  rescanMs: number;
  pod: PodRef | undefined;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number, what: string): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(
      `${name}=${JSON.stringify(raw)} is not ${what}: set it to an integer from ${min} to ${max}, or unset it for the default ${fallback}`,
    );
  }
  return n;
}

/** Pod identity from the downward API; both or neither. */
export function podFromEnv(env: Env): PodRef | undefined {
  const name = env[SIDECAR_ENV.podName];
  const namespace = env[SIDECAR_ENV.podNamespace];
  return name && namespace ? { name, namespace } : undefined;
}

export function readConfig(env: Env): SidecarConfig {
  const dir = env[ENV.dir] || DEFAULTS.dir;
  if (!path.isAbsolute(dir)) {
    throw new ConfigError(
      `${ENV.dir}=${JSON.stringify(dir)} is not an absolute path: set it to the mount path of the shared volume (default ${DEFAULTS.dir})`,
    );
  }
  const host = env[SIDECAR_ENV.host] || SIDECAR_DEFAULTS.host;
  if (/\s/.test(host)) {
    throw new ConfigError(
      `${SIDECAR_ENV.host}=${JSON.stringify(host)} is not a host: set it to an address such as 0.0.0.0, :: or 127.0.0.1`,
    );
  }
  return {
    dir,
    host,
    port: integer(env, SIDECAR_ENV.port, SIDECAR_DEFAULTS.port, 1, 65535, 'a TCP port'),
    rescanMs: integer(env, SIDECAR_ENV.rescanMs, DEFAULTS.rescanMs, 50, 600_000, 'a rescan interval in ms'),
    pod: podFromEnv(env),
  };
}
