// Command-line options of `npm run bench:handover`. Parsing is pure and never throws:
// a bad flag is a value naming the flag and the fix, printed with the usage.
import { parseArgs } from 'node:util';

/** The three ways of moving a server from v_n to v_n+1 that the benchmark compares. */
export const MODES = ['slot', 'binary', 'restart'] as const;
export type Mode = (typeof MODES)[number];

export interface BenchOptions {
  /** Upgrades per mode. */
  upgrades: number;
  /** Requests per second the load generator starts. */
  rate: number;
  /** Print only the JSON line on stdout (progress still goes to stderr). */
  json: boolean;
  /** Sessions the load spreads over (each carries a counter in shared memory). */
  sessions: number;
  /** Share of requests on keep-alive connections, 0..1; the rest open a new connection each. */
  keepAliveShare: number;
  modes: Mode[];
  /** Load windows with no upgrade per mode, for the baseline p99 and the gap noise floor. */
  baselineWindows: number;
  /** Seconds the sidecar is watched while idle; 0 skips the sidecar. */
  sidecarIdleS: number;
  /** Keep the temporary directory (logs, version files) for inspection. */
  keep: boolean;
  /** Retry a keep-alive request once when its connection closes before any answer, as HTTP clients do. */
  retry: boolean;
  /** Hard bound on the whole run, in ms; the run aborts and cleans up after it. */
  maxRunMs: number;
}

export const DEFAULT_OPTIONS: BenchOptions = {
  upgrades: 20,
  rate: 2_000,
  json: false,
  sessions: 1_000,
  keepAliveShare: 0.8,
  modes: [...MODES],
  baselineWindows: 3,
  sidecarIdleS: 10,
  keep: false,
  retry: true,
  maxRunMs: 30 * 60_000,
};

export const USAGE = `usage: node bench/handover.ts [options]
  --upgrades N          upgrades per mode (default 20, 1..200)
  --rate R              requests per second (default 2000, 1..20000)
  --json                stdout gets only the JSON line; progress stays on stderr
  --sessions N          sessions the load spreads over (default 1000)
  --keep-alive-share F  share of requests on keep-alive connections (default 0.8)
  --modes LIST          comma-separated subset of slot,binary,restart (default all)
  --baseline-windows N  load windows without an upgrade per mode (default 3, 1..20)
  --sidecar-idle S      seconds to watch the idle sidecar, 0 to skip (default 10)
  --keep                keep the temporary directory with logs and version files
  --no-retry            count a keep-alive request whose connection closed before any answer as
                        failed, instead of retrying it once as HTTP clients do
  --max-minutes M       abort the whole run after M minutes (default 30)`;

export type ParsedOptions =
  { kind: 'run'; options: BenchOptions } | { kind: 'help' } | { kind: 'error'; error: string };

function intIn(
  raw: string | undefined,
  flag: string,
  min: number,
  max: number,
  fallback: number,
): number | string {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || n < min || n > max)
    return `${flag} must be an integer from ${min} to ${max}, got "${raw}"`;
  return n;
}

export function parseOptions(argv: string[]): ParsedOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        upgrades: { type: 'string' },
        rate: { type: 'string' },
        json: { type: 'boolean' },
        sessions: { type: 'string' },
        'keep-alive-share': { type: 'string' },
        modes: { type: 'string' },
        'baseline-windows': { type: 'string' },
        'sidecar-idle': { type: 'string' },
        keep: { type: 'boolean' },
        'no-retry': { type: 'boolean' },
        'max-minutes': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    return { kind: 'error', error: (err as Error).message };
  }
  if (values.help) return { kind: 'help' };
  const str = (k: string): string | undefined =>
    typeof values[k] === 'string' ? (values[k] as string) : undefined;
  const d = DEFAULT_OPTIONS;
  const upgrades = intIn(str('upgrades'), '--upgrades', 1, 200, d.upgrades);
  const rate = intIn(str('rate'), '--rate', 1, 20_000, d.rate);
  const sessions = intIn(str('sessions'), '--sessions', 1, 65_536, d.sessions);
  const baselineWindows = intIn(str('baseline-windows'), '--baseline-windows', 1, 20, d.baselineWindows);
  const sidecarIdleS = intIn(str('sidecar-idle'), '--sidecar-idle', 0, 300, d.sidecarIdleS);
  const maxMinutes = intIn(str('max-minutes'), '--max-minutes', 1, 180, d.maxRunMs / 60_000);
  for (const v of [upgrades, rate, sessions, baselineWindows, sidecarIdleS, maxMinutes]) {
    if (typeof v === 'string') return { kind: 'error', error: v };
  }
  const shareRaw = str('keep-alive-share');
  const keepAliveShare = shareRaw === undefined ? d.keepAliveShare : Number(shareRaw);
  if (!(keepAliveShare >= 0 && keepAliveShare <= 1)) {
    return { kind: 'error', error: `--keep-alive-share must be a number from 0 to 1, got "${shareRaw}"` };
  }
  const modesRaw = str('modes');
  const modes = modesRaw === undefined ? [...d.modes] : modesRaw.split(',').map((m) => m.trim());
  const unknown = modes.filter((m) => !(MODES as readonly string[]).includes(m));
  if (unknown.length > 0 || modes.length === 0) {
    return { kind: 'error', error: `--modes must list some of ${MODES.join(',')}, got "${modesRaw}"` };
  }
  return {
    kind: 'run',
    options: {
      upgrades: upgrades as number,
      rate: rate as number,
      json: values.json === true,
      sessions: sessions as number,
      keepAliveShare,
      modes: [...new Set(modes)] as Mode[],
      baselineWindows: baselineWindows as number,
      sidecarIdleS: sidecarIdleS as number,
      keep: values.keep === true,
      retry: values['no-retry'] !== true,
      maxRunMs: (maxMinutes as number) * 60_000,
    },
  };
}
