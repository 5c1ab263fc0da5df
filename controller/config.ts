// The controller's configuration: flags, each with an environment variable of the same
// meaning (the chart sets env). A bad value stops the start with a message naming the
// flag and the fix (ConfigError); nothing else here throws.
import { ConfigError, flagLines, readFlags } from './flags.ts';

export { ConfigError };

export interface ControllerConfig {
  kubeconfig: string | undefined;
  /** Watch one namespace; all when empty. */
  namespace: string | undefined;
  placeholderImage: string;
  sidecarImage: string;
  /** Port of /healthz, /readyz and /metrics. */
  port: number;
  host: string;
  leaderElection: boolean;
  leaseNamespace: string;
  leaseName: string;
  identity: string;
  /** Reconciles running at once (different HotDeployments). */
  workers: number;
  /** Pod writes in flight at once within one reconcile. */
  writeConcurrency: number;
  qps: number;
  burst: number;
  /** Periodic re-delivery of every cached object, in s (0: never). */
  resyncSeconds: number;
  logLevel: string;
  /** How a slot proves its handover: `sidecar` (no slot probes; the controller asks the sidecar) or `probe`. */
  completionSignal: 'sidecar' | 'probe';
}

const FLAGS = {
  kubeconfig: { env: 'KUBECONFIG', help: 'kubeconfig file (in-cluster config when unset)' },
  namespace: { env: 'WATCH_NAMESPACE', help: 'only this namespace (all when unset)' },
  'placeholder-image': { env: 'HOTUPGRADE_PLACEHOLDER_IMAGE', help: 'image of the idle slot (required)' },
  'sidecar-image': { env: 'HOTUPGRADE_SIDECAR_IMAGE', help: 'image of the sidecar (required)' },
  port: { env: 'HOTUPGRADE_CONTROLLER_PORT', help: 'port of /healthz, /readyz, /metrics (default 8080)' },
  host: { env: 'HOTUPGRADE_CONTROLLER_HOST', help: 'address to listen on (default 0.0.0.0)' },
  'leader-elect': {
    env: 'HOTUPGRADE_LEADER_ELECT',
    help: 'true|false: elect a leader on a Lease (default true)',
  },
  'lease-namespace': { env: 'POD_NAMESPACE', help: 'namespace of the Lease (default hotupgrade-system)' },
  'lease-name': { env: 'HOTUPGRADE_LEASE_NAME', help: 'name of the Lease (default hotupgrade-controller)' },
  identity: { env: 'POD_NAME', help: 'this replica in the Lease (default hostname-pid)' },
  workers: { env: 'HOTUPGRADE_WORKERS', help: 'HotDeployments reconciled at once (default 4)' },
  'write-concurrency': {
    env: 'HOTUPGRADE_WRITE_CONCURRENCY',
    help: 'pod writes in flight per reconcile (default 32)',
  },
  qps: { env: 'HOTUPGRADE_KUBE_QPS', help: 'API requests per second (default 200)' },
  burst: { env: 'HOTUPGRADE_KUBE_BURST', help: 'API request burst (default 400)' },
  'resync-seconds': {
    env: 'HOTUPGRADE_RESYNC_SECONDS',
    help: 'full resync period in s, 0 = never (default 300)',
  },
  'log-level': { env: 'LOG_LEVEL', help: 'pino level (default info)' },
  'completion-signal': {
    env: 'HOTUPGRADE_COMPLETION_SIGNAL',
    help: 'sidecar|probe: how a slot proves a handover; sidecar (default) keeps pods Ready through upgrades and needs the controller to reach pods on port 9901',
  },
} as const;

type Flag = keyof typeof FLAGS;

export function usage(): string {
  return `hotupgrade-controller: reconciles HotDeployments into hot-upgradable pods\n\nFlags:\n${flagLines(FLAGS, 20)}\n`;
}

export function readConfig(
  argv: string[],
  env: Record<string, string | undefined>,
  hostname: string,
): ControllerConfig {
  const flags = readFlags(FLAGS, argv, env, usage);
  const { get, integer } = flags;
  const required = (f: Flag): string => {
    const v = get(f);
    if (!v) throw new ConfigError(`--${f} (env ${FLAGS[f].env}) is required: ${FLAGS[f].help}`);
    return v;
  };
  const qps = integer('qps', 200, 1, 100_000);
  const signal = get('completion-signal') ?? 'sidecar';
  if (signal !== 'sidecar' && signal !== 'probe') {
    throw new ConfigError(
      `--completion-signal (env HOTUPGRADE_COMPLETION_SIGNAL) = ${JSON.stringify(signal)}: use sidecar or probe`,
    );
  }
  return {
    kubeconfig: get('kubeconfig'),
    namespace: get('namespace'),
    placeholderImage: required('placeholder-image'),
    sidecarImage: required('sidecar-image'),
    port: integer('port', 8080, 0, 65535),
    host: get('host') ?? '0.0.0.0',
    leaderElection: flags.boolean('leader-elect', true),
    leaseNamespace: get('lease-namespace') ?? 'hotupgrade-system',
    leaseName: get('lease-name') ?? 'hotupgrade-controller',
    identity: get('identity') ?? `${hostname}-${process.pid}`,
    workers: integer('workers', 4, 1, 64),
    writeConcurrency: integer('write-concurrency', 32, 1, 512),
    qps,
    burst: integer('burst', qps * 2, 1, 200_000),
    resyncSeconds: integer('resync-seconds', 300, 0, 86_400),
    logLevel: get('log-level') ?? 'info',
    completionSignal: signal,
  };
}
