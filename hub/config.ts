// The hub's configuration: flags, each with an environment variable of the same meaning
// (the chart sets env). A bad value stops the start with a message naming the flag and
// the fix (ConfigError).
import { parseArgs } from 'node:util';
import { ConfigError } from '../controller/config.ts';

export { ConfigError };

export interface HubConfig {
  kubeconfig: string | undefined;
  port: number;
  host: string;
  leaderElection: boolean;
  leaseNamespace: string;
  leaseName: string;
  identity: string;
  /** MemberCluster probe period, s. */
  probeSeconds: number;
  /** How often a running release reads its members, s. */
  pollSeconds: number;
  /** A member request slower than this is unreachable, s. */
  memberTimeoutSeconds: number;
  /** HotReleases reconciled at once. */
  workers: number;
  qps: number;
  burst: number;
  resyncSeconds: number;
  logLevel: string;
}

const FLAGS = {
  kubeconfig: { env: 'KUBECONFIG', help: 'kubeconfig of the hub cluster (in-cluster config when unset)' },
  port: { env: 'HOTUPGRADE_HUB_PORT', help: 'port of /healthz, /readyz, /metrics (default 8081)' },
  host: { env: 'HOTUPGRADE_HUB_HOST', help: 'address to listen on (default 0.0.0.0)' },
  'leader-elect': {
    env: 'HOTUPGRADE_LEADER_ELECT',
    help: 'true|false: elect a leader on a Lease (default true)',
  },
  'lease-namespace': { env: 'POD_NAMESPACE', help: 'namespace of the Lease (default hotupgrade-system)' },
  'lease-name': { env: 'HOTUPGRADE_HUB_LEASE_NAME', help: 'name of the Lease (default hotupgrade-hub)' },
  identity: { env: 'POD_NAME', help: 'this replica in the Lease (default hostname-pid)' },
  'probe-seconds': {
    env: 'HOTUPGRADE_HUB_PROBE_SECONDS',
    help: 'MemberCluster probe period in s (default 30)',
  },
  'poll-seconds': {
    env: 'HOTUPGRADE_HUB_POLL_SECONDS',
    help: 'how often a running HotRelease reads its member clusters, in s (default 2)',
  },
  'member-timeout-seconds': {
    env: 'HOTUPGRADE_HUB_MEMBER_TIMEOUT_SECONDS',
    help: 'a member request slower than this counts as unreachable, in s (default 10)',
  },
  workers: { env: 'HOTUPGRADE_HUB_WORKERS', help: 'HotReleases reconciled at once (default 4)' },
  qps: { env: 'HOTUPGRADE_KUBE_QPS', help: 'hub API requests per second (default 50)' },
  burst: { env: 'HOTUPGRADE_KUBE_BURST', help: 'hub API request burst (default 100)' },
  'resync-seconds': {
    env: 'HOTUPGRADE_RESYNC_SECONDS',
    help: 'full resync period in s, 0 = never (default 300)',
  },
  'log-level': { env: 'LOG_LEVEL', help: 'pino level (default info)' },
} as const;

type Flag = keyof typeof FLAGS;

export function usage(): string {
  const lines = Object.entries(FLAGS).map(([f, d]) => `  --${f.padEnd(24)} ${d.help} [env ${d.env}]`);
  return `hotupgrade-hub: rolls HotReleases out over member clusters\n\nFlags:\n${lines.join('\n')}\n`;
}

function integer(name: Flag, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) {
    throw new ConfigError(
      `--${name} (env ${FLAGS[name].env}) = ${JSON.stringify(raw)}: use an integer from ${min} to ${max}, or leave it unset for ${fallback}`,
    );
  }
  return n;
}

export function readHubConfig(
  argv: string[],
  env: Record<string, string | undefined>,
  hostname: string,
): HubConfig {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: Object.fromEntries(Object.keys(FLAGS).map((f) => [f, { type: 'string' as const }])),
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}\n\n${usage()}`);
  }
  const get = (f: Flag): string | undefined => {
    const v = values[f];
    return typeof v === 'string' ? v : env[FLAGS[f].env] || undefined;
  };
  const le = get('leader-elect') ?? 'true';
  if (le !== 'true' && le !== 'false') {
    throw new ConfigError(
      `--leader-elect (env HOTUPGRADE_LEADER_ELECT) = ${JSON.stringify(le)}: use true or false`,
    );
  }
  const qps = integer('qps', get('qps'), 50, 1, 10_000);
  return {
    kubeconfig: get('kubeconfig'),
    port: integer('port', get('port'), 8081, 0, 65535),
    host: get('host') ?? '0.0.0.0',
    leaderElection: le === 'true',
    leaseNamespace: get('lease-namespace') ?? 'hotupgrade-system',
    leaseName: get('lease-name') ?? 'hotupgrade-hub',
    identity: get('identity') ?? `${hostname}-${process.pid}`,
    probeSeconds: integer('probe-seconds', get('probe-seconds'), 30, 1, 3600),
    pollSeconds: integer('poll-seconds', get('poll-seconds'), 2, 1, 300),
    memberTimeoutSeconds: integer('member-timeout-seconds', get('member-timeout-seconds'), 10, 1, 300),
    workers: integer('workers', get('workers'), 4, 1, 64),
    qps,
    burst: integer('burst', get('burst'), qps * 2, 1, 100_000),
    resyncSeconds: integer('resync-seconds', get('resync-seconds'), 300, 0, 86_400),
    logLevel: get('log-level') ?? 'info',
  };
}
