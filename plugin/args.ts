// The command line of kubectl-hotupgrade (what kubectl passes after `kubectl hotupgrade`)
// as an Invocation, or a usage error naming the argument and the fix. Pure: reads no
// environment, opens no file.
import { parseArgs } from 'node:util';
import type { HotRelease } from '../hub/api/types.ts';
import { parseDuration } from './duration.ts';
import { buildRelease } from './releaseSpec.ts';
import { parseTarget, type Target, type TargetKind } from './target.ts';

export { parseDuration };

export const COMMANDS = [
  'status',
  'upgrade',
  'approve',
  'pause',
  'resume',
  'abort',
  'rollback',
  'release',
] as const;
export type Command = (typeof COMMANDS)[number];

/** Other words for a command. */
export const ALIASES: Record<string, Command> = { promote: 'approve' };

/** How to reach the cluster: kubectl's flags; unset ones come from KUBECONFIG and the context. */
export interface Connection {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

interface Base {
  conn: Connection;
  target: Target;
}

/** Where `release` gets its HotRelease: built from flags, or read from a file (`-`: stdin). */
export type ReleaseSource = { from: 'flags'; release: HotRelease } | { from: 'file'; path: string };

export type Invocation =
  | { command: 'help'; topic?: Command }
  | (Base & {
      command: 'status';
      watch: boolean;
      output: 'text' | 'json';
      /** Ends the watch: exit 0 when complete (Succeeded), 1 when it failed (Degraded; Failed, RolledBack, Aborted). */
      untilComplete: boolean;
      /** How long a watch may run, in ms; 0: no limit. */
      timeoutMs: number;
    })
  | (Base & { command: 'upgrade'; image: string; container?: string; dryRun: boolean })
  /** batch: a HotDeployment's; step: a HotRelease's. */
  | (Base & { command: 'approve'; batch?: number; step?: number; dryRun: boolean })
  | (Base & { command: 'pause' | 'resume' | 'abort'; dryRun: boolean })
  | (Base & { command: 'rollback'; to?: string; dryRun: boolean })
  | {
      command: 'release';
      conn: Connection;
      source: ReleaseSource;
      dryRun: boolean;
      output: 'text' | 'json' | 'yaml';
    };

export type ParseResult =
  | { ok: true; invocation: Invocation }
  /** A usage error; `topic` is the command whose help to point at. */
  | { ok: false; message: string; topic?: Command };

const OPTIONS = {
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  help: { type: 'boolean', short: 'h' },
  watch: { type: 'boolean', short: 'w' },
  output: { type: 'string', short: 'o' },
  'until-complete': { type: 'boolean' },
  timeout: { type: 'string' },
  container: { type: 'string', short: 'c' },
  batch: { type: 'string' },
  // approve: the last step to approve (one); release: the plan (one per step).
  step: { type: 'string', multiple: true },
  to: { type: 'string' },
  'dry-run': { type: 'boolean' },
  file: { type: 'string', short: 'f' },
  target: { type: 'string' },
  'target-namespace': { type: 'string' },
  image: { type: 'string' },
  clusters: { type: 'string' },
  selector: { type: 'string', short: 'l' },
  'all-clusters': { type: 'boolean' },
  'auto-rollback': { type: 'boolean' },
  'progress-deadline': { type: 'string' },
  prometheus: { type: 'string' },
} as const;

type Option = keyof typeof OPTIONS;

const COMMON: Option[] = ['kubeconfig', 'context', 'namespace', 'help'];

/** release's flags that build the HotRelease (not with -f). */
const RELEASE_SPEC_FLAGS: Option[] = [
  'target',
  'target-namespace',
  'image',
  'clusters',
  'selector',
  'all-clusters',
  'step',
  'auto-rollback',
  'progress-deadline',
  'prometheus',
];

/** The flags each command takes besides the common ones. */
export const COMMAND_OPTIONS: Record<Command, Option[]> = {
  status: ['watch', 'output', 'until-complete', 'timeout'],
  upgrade: ['container', 'dry-run'],
  approve: ['batch', 'step', 'dry-run'],
  pause: ['dry-run'],
  resume: ['dry-run'],
  abort: ['dry-run'],
  rollback: ['to', 'dry-run'],
  release: ['file', ...RELEASE_SPEC_FLAGS, 'dry-run', 'output'],
};

/** Flags of a command that apply to one kind only. */
const KIND_OPTIONS: Partial<Record<Option, { kind: TargetKind; instead: string }>> = {
  batch: { kind: 'HotDeployment', instead: 'a HotRelease approves steps: --step N' },
  step: { kind: 'HotRelease', instead: 'a HotDeployment approves batches: --batch N' },
  to: {
    kind: 'HotDeployment',
    instead: "a HotRelease goes back to each cluster's previous image (status.clusters[].previousImage)",
  },
};

/** The kinds each command takes (upgrade sets a HotDeployment's image; a HotRelease is created with its image). */
const COMMAND_KINDS: Record<Exclude<Command, 'release'>, TargetKind[]> = {
  status: ['HotDeployment', 'HotRelease'],
  upgrade: ['HotDeployment'],
  approve: ['HotDeployment', 'HotRelease'],
  pause: ['HotDeployment', 'HotRelease'],
  resume: ['HotDeployment', 'HotRelease'],
  abort: ['HotDeployment', 'HotRelease'],
  rollback: ['HotDeployment', 'HotRelease'],
};

/** The positional arguments after the command, by name (for messages). */
const POSITIONALS: Record<Exclude<Command, 'release'>, string[]> = {
  status: ['TYPE/NAME'],
  upgrade: ['hd/NAME', 'IMAGE'],
  approve: ['TYPE/NAME'],
  pause: ['TYPE/NAME'],
  resume: ['TYPE/NAME'],
  abort: ['TYPE/NAME'],
  rollback: ['TYPE/NAME'],
};

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0] ?? 0;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j] ?? 0;
      d[j] = Math.min((d[j] ?? 0) + 1, (d[j - 1] ?? 0) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length] ?? 0;
}

/** `command` or its alias as a Command; undefined when unknown. */
export function commandOf(word: string): Command | undefined {
  return (COMMANDS as readonly string[]).includes(word) ? (word as Command) : ALIASES[word];
}

function unknownCommand(word: string): string {
  const near = [...COMMANDS, ...Object.keys(ALIASES)].filter((c) => distance(word, c) <= 2);
  const hint = near.length ? `; did you mean ${near.join(' or ')}?` : '';
  return `unknown command "${word}"${hint} (commands: ${COMMANDS.join(', ')}; see --help)`;
}

const flagName = (o: Option): string => {
  const short = (OPTIONS[o] as { short?: string }).short;
  return short ? `-${short}/--${o}` : `--${o}`;
};

type Values = ReturnType<
  typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>
>['values'];

/** `release [NAME] ...`: the HotRelease from flags, or -f FILE. */
function parseRelease(
  values: Values,
  rest: string[],
  conn: Connection,
  fail: (message: string) => ParseResult,
): ParseResult {
  const raw = values.output ?? 'text';
  if (raw !== 'text' && raw !== 'json' && raw !== 'yaml') {
    return fail(`-o/--output "${raw}" is not a format; use json or yaml, or leave it out for text`);
  }
  const output: 'text' | 'json' | 'yaml' = raw;
  const dryRun = values['dry-run'] ?? false;
  const common = { command: 'release' as const, conn, dryRun, output };
  if (values.file !== undefined) {
    const mixed = RELEASE_SPEC_FLAGS.filter((o) => values[o] !== undefined);
    if (mixed.length > 0 || rest.length > 0) {
      const what = [...(rest.length ? [`NAME "${rest.join(' ')}"`] : []), ...mixed.map(flagName)];
      return fail(
        `-f/--file takes the whole HotRelease from the file: leave out ${what.join(', ')} (or leave out -f and give the release with flags)`,
      );
    }
    if (values.file === '') return fail('-f/--file is empty: give a YAML or JSON file, or - for stdin');
    return { ok: true, invocation: { ...common, source: { from: 'file', path: values.file } } };
  }
  const [name] = rest;
  if (name === undefined) {
    return fail('release needs NAME (the HotRelease to create) and its flags, or -f FILE');
  }
  if (rest.length > 1) return fail(`release takes one NAME; unexpected "${rest.slice(1).join(' ')}"`);
  const built = buildRelease({
    name,
    ...(values.target !== undefined ? { target: values.target } : {}),
    ...(values['target-namespace'] !== undefined ? { targetNamespace: values['target-namespace'] } : {}),
    ...(values.image !== undefined ? { image: values.image } : {}),
    ...(values.clusters !== undefined ? { clusters: values.clusters } : {}),
    ...(values.selector !== undefined ? { selector: values.selector } : {}),
    allClusters: values['all-clusters'] ?? false,
    steps: values.step ?? [],
    autoRollback: values['auto-rollback'] ?? false,
    ...(values['progress-deadline'] !== undefined ? { progressDeadline: values['progress-deadline'] } : {}),
    ...(values.prometheus !== undefined ? { prometheus: values.prometheus } : {}),
  });
  if (!built.ok) return fail(built.message);
  return { ok: true, invocation: { ...common, source: { from: 'flags', release: built.release } } };
}

export function parse(argv: readonly string[]): ParseResult {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    // node:util's first sentence names the option ("Unknown option '--foo'"); the rest is
    // about `--` and positionals, which only confuses here.
    const message = (e as Error).message.split(/\. (?=[A-Z])/)[0] ?? '';
    const first = argv.find((a) => !a.startsWith('-'));
    const topic = first ? commandOf(first) : undefined;
    return { ok: false, message, ...(topic ? { topic } : {}) };
  }
  const { values, positionals } = parsed;
  const [word, ...rest] = positionals;

  if (word === undefined) {
    if (values.help) return { ok: true, invocation: { command: 'help' } };
    return { ok: false, message: 'no command given' };
  }
  if (word === 'help') {
    const topicWord = rest[0];
    if (topicWord === undefined) return { ok: true, invocation: { command: 'help' } };
    const topic = commandOf(topicWord);
    if (!topic) return { ok: false, message: unknownCommand(topicWord) };
    return { ok: true, invocation: { command: 'help', topic } };
  }
  const command = commandOf(word);
  if (!command) return { ok: false, message: unknownCommand(word) };
  if (values.help) return { ok: true, invocation: { command: 'help', topic: command } };

  const fail = (message: string): ParseResult => ({ ok: false, message, topic: command });
  const allowed = new Set<Option>([...COMMON, ...COMMAND_OPTIONS[command]]);
  for (const [k, v] of Object.entries(values) as [Option, unknown][]) {
    if (v !== undefined && !allowed.has(k)) {
      const takers = (Object.entries(COMMAND_OPTIONS) as [Command, Option[]][])
        .filter(([, opts]) => opts.includes(k))
        .map(([c]) => c);
      return fail(`${flagName(k)} does not apply to ${command} (it is a flag of ${takers.join(', ')})`);
    }
  }

  if (values.namespace !== undefined && !DNS_LABEL.test(values.namespace)) {
    return fail(
      `-n/--namespace "${values.namespace}" is not a namespace name (a DNS label: lowercase letters, digits and "-")`,
    );
  }
  if (values.kubeconfig === '')
    return fail('--kubeconfig is empty: give a file, or leave it out to use KUBECONFIG');
  if (values.context === '')
    return fail('--context is empty: give a context of the kubeconfig, or leave it out');
  const conn: Connection = {
    ...(values.kubeconfig !== undefined ? { kubeconfig: values.kubeconfig } : {}),
    ...(values.context !== undefined ? { context: values.context } : {}),
    ...(values.namespace !== undefined ? { namespace: values.namespace } : {}),
  };
  if (command === 'release') return parseRelease(values, rest, conn, fail);

  const names = POSITIONALS[command];
  if (rest.length < names.length) {
    return fail(`${command} needs ${names.join(' ')}; missing ${names.slice(rest.length).join(' ')}`);
  }
  if (rest.length > names.length) {
    return fail(`${command} takes ${names.join(' ')}; unexpected "${rest.slice(names.length).join(' ')}"`);
  }
  const t = parseTarget(rest[0] ?? '', COMMAND_KINDS[command]);
  if (!t.ok) return fail(t.message);
  for (const [o, only] of Object.entries(KIND_OPTIONS) as [Option, { kind: TargetKind; instead: string }][]) {
    if (values[o] !== undefined && only.kind !== t.target.kind) {
      return fail(`${flagName(o)} does not apply to a ${t.target.kind}: ${only.instead}`);
    }
  }
  const base = { conn, target: t.target };
  const dryRun = values['dry-run'] ?? false;

  switch (command) {
    case 'status': {
      const output = values.output ?? 'text';
      if (output !== 'text' && output !== 'json') {
        return fail(`-o/--output "${output}" is not a format; use json, or leave it out for text`);
      }
      const untilComplete = values['until-complete'] ?? false;
      const watch = (values.watch ?? false) || untilComplete;
      let timeoutMs = 0;
      if (values.timeout !== undefined) {
        const ms = parseDuration(values.timeout);
        if (ms === undefined) {
          return fail(
            `--timeout "${values.timeout}" is not a duration; write e.g. 90s, 5m or 1h30m (0 for no limit)`,
          );
        }
        if (!watch) return fail('--timeout bounds a watch: use it with -w or --until-complete');
        timeoutMs = ms;
      }
      return { ok: true, invocation: { command, ...base, watch, output, untilComplete, timeoutMs } };
    }
    case 'upgrade': {
      const image = rest[1] ?? '';
      if (image === '' || /\s/.test(image)) {
        return fail(`IMAGE "${image}" is not an image reference; write e.g. registry.example.com/app:v2`);
      }
      if (values.container !== undefined && !DNS_LABEL.test(values.container)) {
        return fail(`-c/--container "${values.container}" is not a container name`);
      }
      return {
        ok: true,
        invocation: {
          command,
          ...base,
          image,
          ...(values.container !== undefined ? { container: values.container } : {}),
          dryRun,
        },
      };
    }
    case 'approve': {
      let batch: number | undefined;
      if (values.batch !== undefined) {
        if (!/^[1-9]\d{0,3}$/.test(values.batch)) {
          return fail(`--batch "${values.batch}" is not a batch number; batches count from 1`);
        }
        batch = Number(values.batch);
      }
      let step: number | undefined;
      if (values.step !== undefined) {
        const [raw = '', ...more] = values.step;
        if (more.length > 0) return fail('--step is given more than once: name the last step to approve');
        if (!/^[1-9]\d{0,2}$/.test(raw)) {
          return fail(`--step "${raw}" is not a step number; steps count from 1 (as status.currentStep)`);
        }
        step = Number(raw);
      }
      return {
        ok: true,
        invocation: {
          command,
          ...base,
          ...(batch !== undefined ? { batch } : {}),
          ...(step !== undefined ? { step } : {}),
          dryRun,
        },
      };
    }
    case 'rollback': {
      const to = values.to;
      if (to !== undefined && (to === '' || /\s/.test(to))) {
        return fail(`--to "${to}" is not an image reference; write e.g. registry.example.com/app:v1`);
      }
      return { ok: true, invocation: { command, ...base, ...(to !== undefined ? { to } : {}), dryRun } };
    }
    case 'pause':
    case 'resume':
    case 'abort':
      return { ok: true, invocation: { command, ...base, dryRun } };
  }
}
