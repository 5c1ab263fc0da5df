// The steps of a HotRelease on the command line (`release --step SPEC`) and in one line of
// text (`status hr/NAME`). Pure. The mini-language, one step per --step:
//
//   upgrade=N | upgrade=P% [@CLUSTER,...]   cumulative pods at the new image, per cluster
//   pause=SECONDS | pause=DURATION          a timed pause (60, 90s, 5m, 1h; at most 24h)
//   pause                                   a manual pause: wait for `approve`
//   gate=QUERY OP VALUE [; OPTION=VALUE]... a Prometheus gate
//
// A gate's comparison is the operator (<, <=, >, >=) right before the number that ends
// the part before the first `;`, so a query may hold any comparison, brace or comma of
// its own; its options follow, each after a `;` (PromQL has no `;` outside strings).
import type { GateStep, IntOrPercent, ReleaseStep } from '../hub/api/types.ts';
import { THRESHOLD_OPS, type ThresholdOp } from '../hub/constants.ts';
import { parseDuration } from './duration.ts';

export type StepResult = { ok: true; step: ReleaseStep } | { ok: false; message: string };

/** A MemberCluster name (hub/api/common.ts CLUSTER_NAME, at most 63 characters). */
const CLUSTER_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** The longest timed pause the CRD takes, in seconds. */
const MAX_PAUSE_SECONDS = 86_400;
const NUMBER = String.raw`[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?`;
/** QUERY OP VALUE: the operator right before the number at the end. */
const COMPARISON = new RegExp(String.raw`^([\s\S]*?)\s*(<=|>=|<|>)\s*(${NUMBER})\s*$`);

/** The gate options and the field each sets. */
const GATE_OPTIONS = ['interval', 'failures', 'samples', 'clusters', 'prometheus'] as const;
type GateOption = (typeof GATE_OPTIONS)[number];
const OPTION_ALIASES: Record<string, GateOption> = {
  intervalSeconds: 'interval',
  failureLimit: 'failures',
};

export const STEP_EXAMPLES = [
  'upgrade=1@eu-west',
  'gate=\'sum(rate(http_errors_total{cluster="$cluster"}[5m])) < 0.01; interval=30; samples=3\'',
  'pause',
  'upgrade=50%',
  'upgrade=100%',
];

/** Cluster names separated by commas; `what` names them in messages. */
export function parseClusterList(
  raw: string,
  what: string,
): { ok: true; names: string[] } | { ok: false; message: string } {
  const names = raw.split(',').map((s) => s.trim());
  for (const n of names) {
    if (n === '*')
      return {
        ok: false,
        message: `${what}: "*" is not a cluster name; leave the clusters out for every cluster of the release`,
      };
    if (n === '' || n.length > 63 || !CLUSTER_NAME.test(n)) {
      return {
        ok: false,
        message: `${what}: "${n}" is not the name of a MemberCluster (lower-case letters, digits, "-" and ".", at most 63 characters; separate names with commas)`,
      };
    }
  }
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) return { ok: false, message: `${what}: cluster "${dup}" is named twice` };
  return { ok: true, names };
}

/** `1` or `25%`: a count >= 1 or a percent from 1% to 100%; undefined when neither. */
export function parseReplicas(raw: string): IntOrPercent | undefined {
  const pct = /^(\d{1,3})%$/.exec(raw);
  if (pct) {
    const p = Number(pct[1]);
    return p >= 1 && p <= 100 ? `${p}%` : undefined;
  }
  if (!/^\d{1,9}$/.test(raw)) return undefined;
  const n = Number(raw);
  return n >= 1 ? n : undefined;
}

/** A positive whole number up to max; undefined when not. */
function wholeNumber(raw: string, max: number): number | undefined {
  if (!/^\d{1,9}$/.test(raw)) return undefined;
  const n = Number(raw);
  return n >= 1 && n <= max ? n : undefined;
}

/** Seconds from `60`, `90s`, `5m`, `1h`: whole seconds from 1 to max; undefined when not. */
export function parseSeconds(raw: string, max: number): number | undefined {
  const ms = parseDuration(raw.trim());
  if (ms === undefined || ms % 1000 !== 0) return undefined;
  const s = ms / 1000;
  return s >= 1 && s <= max ? s : undefined;
}

/** The index of the first `;` outside PromQL's string literals ("...", '...', `...`); -1 when none. */
export function optionsStart(body: string): number {
  let quote: string | undefined;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (quote) {
      if (ch === '\\' && quote !== '`') i++;
      else if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'" || ch === '`') quote = ch;
    else if (ch === ';') return i;
  }
  return -1;
}

function parseUpgrade(value: string, spec: string): StepResult {
  const at = value.indexOf('@');
  const count = at < 0 ? value : value.slice(0, at);
  const replicas = parseReplicas(count.trim());
  if (replicas === undefined) {
    return {
      ok: false,
      message: `--step ${spec}: "${count}" is neither a number of pods >= 1 nor a percent from 1% to 100% of the target's replicas; write e.g. upgrade=1, upgrade=25% or upgrade=25%@eu-west,us-east`,
    };
  }
  if (at < 0) return { ok: true, step: { upgrade: { replicas } } };
  const list = parseClusterList(value.slice(at + 1), `--step ${spec}`);
  if (!list.ok) return list;
  return { ok: true, step: { upgrade: { clusters: list.names, replicas } } };
}

function parsePause(value: string | undefined, spec: string): StepResult {
  if (value === undefined || value === 'manual') return { ok: true, step: { pause: { manual: true } } };
  const seconds = parseSeconds(value, MAX_PAUSE_SECONDS);
  if (seconds === undefined) {
    return {
      ok: false,
      message: `--step ${spec}: "${value}" is not a pause; write pause=60 (seconds), pause=5m (1s to 24h), or pause alone to wait for approve`,
    };
  }
  return { ok: true, step: { pause: { seconds } } };
}

function setGateOption(gate: GateStep, key: GateOption, value: string, spec: string): string | undefined {
  const bad = (what: string): string => `--step ${spec}: ${key}=${value}: ${what}`;
  switch (key) {
    case 'interval': {
      const s = parseSeconds(value, 3600);
      if (s === undefined)
        return bad('the seconds between evaluations: 1 to 3600, e.g. interval=30 or interval=1m');
      gate.intervalSeconds = s;
      return undefined;
    }
    case 'failures': {
      const n = wholeNumber(value, 100);
      if (n === undefined) return bad('the failed evaluations that fail the gate: 1 to 100');
      gate.failureLimit = n;
      return undefined;
    }
    case 'samples': {
      const n = wholeNumber(value, 100);
      if (n === undefined) return bad('the passed evaluations in a row that pass the gate: 1 to 100');
      gate.samples = n;
      return undefined;
    }
    case 'clusters': {
      const list = parseClusterList(value, `--step ${spec}: clusters`);
      if (!list.ok) return list.message;
      gate.clusters = list.names;
      return undefined;
    }
    case 'prometheus': {
      const why = checkPrometheusUrl(value);
      if (why) return bad(why);
      gate.prometheus = { url: value };
      return undefined;
    }
  }
}

/** Why `url` is not the http(s) URL of a Prometheus; undefined when it is. */
export function checkPrometheusUrl(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `"${url}" is not a URL; write e.g. http://prometheus.monitoring:9090`;
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.hostname === '') {
    return `"${url}" is not an http or https URL with a host; write e.g. http://prometheus.monitoring:9090`;
  }
  return undefined;
}

function parseGate(value: string, spec: string): StepResult {
  const semi = optionsStart(value);
  const head = semi < 0 ? value : value.slice(0, semi);
  const m = COMPARISON.exec(head);
  if (!m) {
    return {
      ok: false,
      message: `--step ${spec}: a gate is QUERY OP VALUE, e.g. gate='error_ratio{cluster="$cluster"} < 0.01', with OP one of ${THRESHOLD_OPS.join(' ')} and a number at the end (options after ";")`,
    };
  }
  const query = (m[1] ?? '').trim();
  if (query === '')
    return { ok: false, message: `--step ${spec}: the gate has no query before ${m[2] ?? ''}` };
  const gate: GateStep = { query, threshold: { op: m[2] as ThresholdOp, value: Number(m[3]) } };
  if (semi >= 0) {
    for (const part of value.slice(semi + 1).split(';')) {
      const opt = part.trim();
      if (opt === '') continue;
      const eq = opt.indexOf('=');
      const rawKey = eq < 0 ? opt : opt.slice(0, eq).trim();
      const key = (GATE_OPTIONS as readonly string[]).includes(rawKey)
        ? (rawKey as GateOption)
        : OPTION_ALIASES[rawKey];
      if (!key || eq < 0) {
        return {
          ok: false,
          message: `--step ${spec}: "${opt}" is not a gate option; write ${GATE_OPTIONS.map((o) => `${o}=...`).join(', ')}, each after a ";"`,
        };
      }
      const why = setGateOption(gate, key, opt.slice(eq + 1).trim(), spec);
      if (why) return { ok: false, message: why };
    }
  }
  return { ok: true, step: { gate } };
}

/** One --step SPEC as a step of spec.steps. */
export function parseStep(spec: string): StepResult {
  const eq = spec.indexOf('=');
  const kind = (eq < 0 ? spec : spec.slice(0, eq)).trim();
  const value = eq < 0 ? undefined : spec.slice(eq + 1);
  switch (kind) {
    case 'upgrade':
      if (value === undefined) break;
      return parseUpgrade(value, spec);
    case 'pause':
      return parsePause(value?.trim(), spec);
    case 'gate':
      if (value === undefined) break;
      return parseGate(value, spec);
  }
  return {
    ok: false,
    message: `--step "${spec}" is not a step; write upgrade=N or upgrade=P%[@CLUSTER,...], pause=SECONDS, pause (manual), or gate='QUERY OP VALUE[; OPTION=VALUE]...' (see: kubectl hotupgrade release --help)`,
  };
}

// ---- in words ----------------------------------------------------------------------------

/** `75` -> "1m15s"; whole minutes and hours without the zero parts. */
export function seconds(s: number): string {
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 ? `${s % 60}s` : ''}`;
  return `${Math.floor(m / 60)}h${m % 60 ? `${m % 60}m` : ''}${s % 60 ? `${s % 60}s` : ''}`;
}

/** At most `max` characters: the start and an ellipsis. */
export function shorten(text: string, max: number): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length <= max ? one : `${one.slice(0, max - 1)}…`;
}

const where = (clusters: string[] | undefined): string =>
  clusters ? `in ${clusters.join(', ')}` : 'in every cluster';

const pods = (r: IntOrPercent): string =>
  typeof r === 'number' ? `${r} pod${r === 1 ? '' : 's'}` : `${r} of the pods`;

/** Longest query shown in a step's line. */
const QUERY_CHARS = 60;

/** What a step does, in one line: "upgrade to 25% of the pods in eu-west". */
export function describeStep(step: ReleaseStep): string {
  if (step.upgrade) return `upgrade to ${pods(step.upgrade.replicas)} ${where(step.upgrade.clusters)}`;
  if (step.pause) {
    return step.pause.seconds !== undefined ? `pause ${seconds(step.pause.seconds)}` : 'pause until approved';
  }
  if (step.gate) {
    const g = step.gate;
    const rounds = [
      `every ${seconds(g.intervalSeconds ?? 60)}`,
      `passes after ${g.samples ?? 1} in a row`,
      `fails after ${g.failureLimit ?? 1}`,
    ];
    return `gate ${shorten(g.query, QUERY_CHARS)} ${g.threshold.op} ${g.threshold.value} ${where(g.clusters)} (${rounds.join(', ')})`;
  }
  return 'an empty step';
}

export type StepKind = 'upgrade' | 'pause' | 'gate';

export function stepKind(step: ReleaseStep | undefined): StepKind | undefined {
  if (step?.upgrade) return 'upgrade';
  if (step?.pause) return 'pause';
  if (step?.gate) return 'gate';
  return undefined;
}
