// Command-line flags with an environment variable each (the chart sets env), shared by the
// controller and the hub: parse, read with the flag winning, check integers and booleans.
// A bad value is a ConfigError naming the flag, its variable and the fix.
import { parseArgs } from 'node:util';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface FlagSpec {
  env: string;
  help: string;
}

/** `--flag   help [env VAR]`, one line each. */
export function flagLines(flags: Record<string, FlagSpec>, width: number): string {
  return Object.entries(flags)
    .map(([f, d]) => `  --${f.padEnd(width)} ${d.help} [env ${d.env}]`)
    .join('\n');
}

export interface FlagReader<F extends string> {
  /** The flag's value, else its variable's (an empty variable counts as unset). */
  get(f: F): string | undefined;
  integer(f: F, fallback: number, min: number, max: number): number;
  boolean(f: F, fallback: boolean): boolean;
}

export function readFlags<F extends string>(
  flags: Record<F, FlagSpec>,
  argv: string[],
  env: Record<string, string | undefined>,
  usage: () => string,
): FlagReader<F> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: Object.fromEntries(Object.keys(flags).map((f) => [f, { type: 'string' as const }])),
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}\n\n${usage()}`);
  }
  const get = (f: F): string | undefined => {
    const v = values[f];
    return typeof v === 'string' ? v : env[flags[f].env] || undefined;
  };
  return {
    get,
    integer(f, fallback, min, max) {
      const raw = get(f);
      if (raw === undefined || raw === '') return fallback;
      const n = Number(raw);
      if (!/^\d+$/.test(raw) || n < min || n > max) {
        throw new ConfigError(
          `--${f} (env ${flags[f].env}) = ${JSON.stringify(raw)}: use an integer from ${min} to ${max}, or leave it unset for ${fallback}`,
        );
      }
      return n;
    },
    boolean(f, fallback) {
      const raw = get(f) ?? String(fallback);
      if (raw !== 'true' && raw !== 'false')
        throw new ConfigError(`--${f} (env ${flags[f].env}) = ${JSON.stringify(raw)}: use true or false`);
      return raw === 'true';
    },
  };
}
