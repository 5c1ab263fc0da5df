// The hub's configuration: flags, each with an environment variable of the same meaning
// (the chart sets env). A bad value stops the start with a message naming the flag and
// the fix (ConfigError).
import { ConfigError, flagLines, readFlags } from '../controller/flags.ts';

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

export function usage(): string {
  return `hotupgrade-hub: rolls HotReleases out over member clusters\n\nFlags:\n${flagLines(FLAGS, 24)}\n`;
}

export function readHubConfig(
  argv: string[],
  env: Record<string, string | undefined>,
  hostname: string,
): HubConfig {
  const flags = readFlags(FLAGS, argv, env, usage);
  const { get, integer } = flags;
  const qps = integer('qps', 50, 1, 10_000);
  return {
    kubeconfig: get('kubeconfig'),
    port: integer('port', 8081, 0, 65535),
    host: get('host') ?? '0.0.0.0',
    leaderElection: flags.boolean('leader-elect', true),
    leaseNamespace: get('lease-namespace') ?? 'hotupgrade-system',
    leaseName: get('lease-name') ?? 'hotupgrade-hub',
    identity: get('identity') ?? `${hostname}-${process.pid}`,
    probeSeconds: integer('probe-seconds', 30, 1, 3600),
    pollSeconds: integer('poll-seconds', 2, 1, 300),
    memberTimeoutSeconds: integer('member-timeout-seconds', 10, 1, 300),
    workers: integer('workers', 4, 1, 64),
    qps,
    burst: integer('burst', qps * 2, 1, 100_000),
    resyncSeconds: integer('resync-seconds', 300, 0, 86_400),
    logLevel: get('log-level') ?? 'info',
  };
}
