// A real Prometheus (Debian's `prometheus` package, /usr/bin/prometheus) for the e2e
// suite: it scrapes the controller and every managed pod's sidecar of a cluster, loads
// the chart's alerting rules, and answers PromQL, so a test can assert that what the
// dashboard and the alerts ask returns data during a rollout.
//
// Prometheus runs on the host, a child in its own process group, on a free port of
// 127.0.0.1; pod IPs are reachable from the host through the cluster bridge. Debian
// builds it without Kubernetes discovery, so this module serves Prometheus's HTTP service
// discovery from a pod list (monitoring/scrape.ts: the same meta labels and relabelling
// as kubernetes_sd_configs). Every wait is bounded; stop() ends the process by PID and
// removes its temporary directory.
import { spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { dumpYaml, type V1Pod } from '@kubernetes/client-node';
import { KubeClient, loadKubeConfig } from '../../controller/kube/client.ts';
import { RULES_FILE } from '../../monitoring/paths.ts';
import {
  DISCOVERY,
  JOBS,
  podTargetGroups,
  prometheusConfig,
  type Job,
  type StaticScrape,
} from '../../monitoring/scrape.ts';
import { freePort } from '../cluster/proc.ts';

export { JOBS };

export const PROMETHEUS_BIN = process.env.PROMETHEUS ?? '/usr/bin/prometheus';

export interface PrometheusOptions {
  /** Kubeconfig of the cluster whose pods are discovered and scraped. */
  kubeconfig: string;
  /** Namespaces to discover pods in; all when absent. */
  namespaces?: string[];
  /** Rule file to load; the chart's generated rules by default. */
  rulesFile?: string;
  /** Scrape, discovery and rule evaluation interval, in ms (whole seconds); default 1000. */
  scrapeIntervalMs?: number;
  /**
   * Config, data and log go to `<dir>/prometheus`: emptied at start, kept after stop()
   * for a post-mortem. A temporary directory, removed by stop(), when absent.
   */
  dir?: string;
  /** More jobs with fixed targets (tests: a fake exporter on 127.0.0.1). */
  extraScrape?: StaticScrape[];
  /** Bound on start-up until /-/ready answers, in ms; default 30 000. */
  startTimeoutMs?: number;
}

/** One series of an instant query's answer. */
export interface PromSample {
  metric: Record<string, string>;
  /** [unix seconds, value as Prometheus prints it ("1", "0.25", "NaN")]. */
  value: [number, string];
}

export interface PromTarget {
  scrapePool: string;
  scrapeUrl: string;
  labels: Record<string, string>;
  discoveredLabels: Record<string, string>;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
}

export interface PromRule {
  name: string;
  type: 'alerting' | 'recording';
  query: string;
  health: 'ok' | 'err' | 'unknown';
  lastError?: string;
  /** Alerting rules: inactive, pending or firing. */
  state?: string;
  alerts?: { labels: Record<string, string>; state: string; annotations: Record<string, string> }[];
}

export interface Prometheus {
  /** http://127.0.0.1:PORT */
  url: string;
  pid: number;
  dir: string;
  /** Prometheus's own log (stdout and stderr). */
  logFile: string;
  /**
   * An instant query at now: its series (a scalar as one series without labels; a range
   * vector as each series' last sample). Throws when Prometheus refuses the expression.
   */
  query(expr: string): Promise<PromSample[]>;
  /** Polls `expr` until it returns at least one series; throws after timeoutMs (default 30 000). */
  waitForData(expr: string, timeoutMs?: number): Promise<PromSample[]>;
  /** The active targets, all jobs. */
  targets(): Promise<PromTarget[]>;
  /** Waits until `count` (default 1) targets of `job` are up; throws after timeoutMs (default 60 000). */
  waitForTargets(o: { job: string; count?: number; timeoutMs?: number }): Promise<PromTarget[]>;
  /** Every loaded rule with its evaluation health and, for alerts, their state. */
  rules(): Promise<PromRule[]>;
  /** The last error of pod discovery, if the last discovery of any job failed. */
  discoveryError(): string | undefined;
  /** SIGTERM, SIGKILL after 10 s; removes the temporary directory. Idempotent. */
  stop(): Promise<void>;
}

/** What /api/v1/query answers, by result type. */
type PromResult =
  | { resultType: 'vector'; result: PromSample[] }
  | { resultType: 'matrix'; result: { metric: Record<string, string>; values: [number, string][] }[] }
  | { resultType: 'scalar' | 'string'; result: [number, string] };

function samples(r: PromResult): PromSample[] {
  switch (r.resultType) {
    case 'vector':
      return r.result;
    case 'matrix':
      return r.result.flatMap((s) => {
        const last = s.values[s.values.length - 1];
        return last ? [{ metric: s.metric, value: last }] : [];
      });
    default:
      return [{ metric: {}, value: r.result }];
  }
}

const REQUEST_TIMEOUT_MS = 5_000;
const STOP_GRACE_MS = 10_000;

async function api<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const body = (await res.json()) as { status: string; data: T; error?: string; errorType?: string };
  if (body.status !== 'success')
    throw new Error(`${url}: ${body.errorType ?? res.status}: ${body.error ?? ''}`);
  return body.data;
}

function tail(file: string, lines = 30): string {
  return existsSync(file) ? readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') : '';
}

/** Serves GET /targets/<job>: the job's pods as Prometheus HTTP service discovery target groups. */
async function startDiscovery(
  kubeconfig: string,
  namespaces: string[] | undefined,
): Promise<{ url: string; lastError: () => string | undefined; close: () => Promise<void> }> {
  const client = await KubeClient.fromKubeConfig(loadKubeConfig(kubeconfig), { qps: 0 });
  const lastErrors = new Map<string, string>();
  const listPods = async (job: Job): Promise<V1Pod[]> => {
    const paths = namespaces?.length
      ? namespaces.map((ns) => `/api/v1/namespaces/${ns}/pods`)
      : ['/api/v1/pods'];
    const pods: V1Pod[] = [];
    for (const path of paths) {
      const r = await client.list<V1Pod>(path, {
        labelSelector: DISCOVERY[job].labelSelector,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      if (!r.ok) throw new Error(`GET ${path}: ${r.status} ${r.reason}: ${r.message}`);
      pods.push(...r.body.items);
    }
    return pods;
  };
  const server: Server = createServer((req, res) => {
    const job = decodeURIComponent(req.url?.replace(/^\/targets\//, '') ?? '') as Job;
    if (!(job in DISCOVERY)) {
      res.writeHead(404).end(`no job ${job}`);
      return;
    }
    listPods(job).then(
      (pods) => {
        lastErrors.delete(job);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(podTargetGroups(pods)));
      },
      (err: unknown) => {
        // Prometheus keeps the targets it had and asks again at the next refresh.
        lastErrors.set(job, `${job}: ${String(err)}`);
        res.writeHead(500).end(String(err));
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/targets`,
    lastError: () => [...lastErrors.values()].join('; ') || undefined,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await client.close();
    },
  };
}

function spawnPrometheus(dir: string, port: number, logFile: string): ChildProcess {
  const fd = openSync(logFile, 'a');
  try {
    // detached: its own process group, so a Ctrl-C in the terminal does not reach it
    // half-way; it is stopped by PID (stop(), or the exit hook below).
    return spawn(
      PROMETHEUS_BIN,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--storage.tsdb.retention.time=1d',
        '--log.level=info',
      ],
      { detached: true, stdio: ['ignore', fd, fd] },
    );
  } finally {
    closeSync(fd);
  }
}

/** Waits for /-/ready; false if the process exited first, throws after the timeout. */
async function waitReady(
  child: ChildProcess,
  url: string,
  timeoutMs: number,
  logFile: string,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) return true;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`prometheus not ready after ${timeoutMs} ms; ${logFile}:\n${tail(logFile)}`);
}

async function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  return Promise.race([
    new Promise<boolean>((resolve) => child.once('exit', () => resolve(true))),
    sleep(ms).then(() => false),
  ]);
}

export async function startPrometheus(o: PrometheusOptions): Promise<Prometheus> {
  if (!existsSync(PROMETHEUS_BIN)) {
    throw new Error(`${PROMETHEUS_BIN} is missing: apt-get install prometheus (or set PROMETHEUS)`);
  }
  const ownDir = o.dir === undefined;
  const dir = o.dir ? join(o.dir, 'prometheus') : mkdtempSync(join(tmpdir(), 'hotupgrade-prometheus-'));
  // A previous run's series in a kept directory would answer this run's queries.
  if (!ownDir) rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const logFile = join(dir, 'prometheus.log');
  const discovery = await startDiscovery(o.kubeconfig, o.namespaces);
  writeFileSync(
    join(dir, 'prometheus.yml'),
    dumpYaml(
      prometheusConfig({
        discoveryUrl: discovery.url,
        ruleFiles: [o.rulesFile ?? RULES_FILE],
        intervalMs: o.scrapeIntervalMs ?? 1000,
        extraScrape: o.extraScrape ?? [],
      }),
      { lineWidth: -1 },
    ),
  );

  let child: ChildProcess | undefined;
  let url = '';
  const killOnExit = (): void => {
    if (child?.pid && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const cleanup = async (): Promise<void> => {
    if (child && !(await waitExit(child, 0))) {
      child.kill('SIGTERM');
      if (!(await waitExit(child, STOP_GRACE_MS))) {
        child.kill('SIGKILL');
        await waitExit(child, 5_000);
      }
    }
    process.removeListener('exit', killOnExit);
    await discovery.close();
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };

  try {
    // A free port can be taken between the probe and Prometheus's bind: try another.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      child = spawnPrometheus(dir, port, logFile);
      if (await waitReady(child, url, o.startTimeoutMs ?? 30_000, logFile)) break;
      if (attempt === 3 || !/address already in use/.test(tail(logFile))) {
        throw new Error(
          `prometheus exited (${child.exitCode ?? child.signalCode}); ${logFile}:\n${tail(logFile)}`,
        );
      }
    }
  } catch (err) {
    await cleanup();
    throw err;
  }

  const running = child;
  let stopped: Promise<void> | undefined;
  const prom: Prometheus = {
    url,
    pid: running.pid ?? 0,
    dir,
    logFile,
    async query(expr) {
      return samples(await api<PromResult>(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`));
    },
    async waitForData(expr, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const r = await prom.query(expr);
        if (r.length > 0) return r;
        if (Date.now() > deadline) throw new Error(`no data after ${timeoutMs} ms for ${expr}`);
        await sleep(250);
      }
    },
    async targets() {
      return (await api<{ activeTargets: PromTarget[] }>(`${url}/api/v1/targets?state=active`)).activeTargets;
    },
    async waitForTargets({ job, count = 1, timeoutMs = 60_000 }) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const all = await prom.targets();
        const up = all.filter((t) => t.scrapePool === job && t.health === 'up');
        if (up.length >= count) return up;
        if (Date.now() > deadline) {
          const seen = all
            .filter((t) => t.scrapePool === job)
            .map((t) => `${t.scrapeUrl} ${t.health} ${t.lastError}`);
          throw new Error(
            `${up.length}/${count} targets of ${job} up after ${timeoutMs} ms; targets: ${seen.join('; ') || 'none'}` +
              `; discovery: ${discovery.lastError() ?? 'ok'}`,
          );
        }
        await sleep(250);
      }
    },
    async rules() {
      const data = await api<{ groups: { rules: PromRule[] }[] }>(`${url}/api/v1/rules`);
      return data.groups.flatMap((g) => g.rules);
    },
    discoveryError: () => discovery.lastError(),
    stop() {
      stopped ??= cleanup();
      return stopped;
    },
  };
  return prom;
}
