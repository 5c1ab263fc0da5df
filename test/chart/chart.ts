// What the chart suites share: helm and kubectl as built by test/cluster, rendering the
// chart into objects, and the Prometheus Operator's CRDs from its Go module.
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAllYaml } from '@kubernetes/client-node';
import { BIN, CACHE_DIR, k8sBin } from '../cluster/config.ts';
import { CHART_DIR, REPO } from './values-doc.ts';

export { CHART_DIR, REPO };
export const HELM = existsSync(BIN.helm) ? BIN.helm : 'helm';
export const KUBECTL = existsSync(k8sBin('kubectl')) ? k8sBin('kubectl') : 'kubectl';
/** A values file that turns on every feature, hub mode and member access included. */
export const ALL_FEATURES = join(REPO, 'test/chart/all-features.yaml');

/** The monitoring kinds the chart renders only when the cluster serves them. */
export const MONITORING_API_VERSIONS = [
  'monitoring.coreos.com/v1/ServiceMonitor',
  'monitoring.coreos.com/v1/PodMonitor',
  'monitoring.coreos.com/v1/PrometheusRule',
];

/** The files the monitoring work adds to the chart; renders with the defaults need them. */
export const CHART_FILES = ['files/grafana-dashboard.json', 'files/prometheus-rules.yaml'];
export function missingChartFiles(): string[] {
  return CHART_FILES.filter((f) => !existsSync(join(CHART_DIR, f)));
}

export interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [k: string]: unknown };
  [k: string]: unknown;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  input?: string;
  timeoutMs?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Runs a command; never throws on a non-zero exit (the tests look at it). */
export function exec(exe: string, args: string[], o: ExecOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(
      exe,
      args,
      {
        timeout: o.timeoutMs ?? 120_000,
        maxBuffer: 64 << 20,
        ...(o.cwd ? { cwd: o.cwd } : {}),
        ...(o.env ? { env: o.env } : {}),
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr: stderr || (err && code !== 0 ? err.message : '') });
      },
    );
    if (o.input !== undefined) child.stdin?.end(o.input);
  });
}

export async function mustExec(exe: string, args: string[], o: ExecOptions = {}): Promise<string> {
  const r = await exec(exe, args, o);
  if (r.code !== 0) throw new Error(`${exe} ${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
  return r.stdout;
}

export interface RenderOptions {
  release?: string;
  namespace?: string;
  set?: Record<string, string | number | boolean>;
  valuesFiles?: string[];
  apiVersions?: string[];
}

export function templateArgs(o: RenderOptions = {}): string[] {
  return [
    o.release ?? 'hotupgrade',
    CHART_DIR,
    '--namespace',
    o.namespace ?? 'hotupgrade-system',
    ...(o.valuesFiles ?? []).flatMap((f) => ['--values', f]),
    ...Object.entries(o.set ?? {}).flatMap(([k, v]) => [
      typeof v === 'string' ? '--set-string' : '--set',
      `${k}=${v}`,
    ]),
    ...(o.apiVersions ?? []).flatMap((a) => ['--api-versions', a]),
  ];
}

/** `helm template` as text; throws with helm's message when it fails. */
export function renderText(o: RenderOptions = {}): Promise<string> {
  return mustExec(HELM, ['template', ...templateArgs(o)]);
}

/** `helm template` as objects. */
export async function render(o: RenderOptions = {}): Promise<Obj[]> {
  return loadAllYaml(await renderText(o)).filter((x): x is Obj => !!x) as Obj[];
}

/** `helm template` that must fail: its error message. */
export async function renderError(o: RenderOptions): Promise<string> {
  const r = await exec(HELM, ['template', ...templateArgs(o)]);
  if (r.code === 0) throw new Error(`helm template ${JSON.stringify(o)} rendered, expected a failure`);
  return r.stderr;
}

export function find(objs: Obj[], kind: string, name?: string): Obj {
  const o = objs.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name));
  if (!o) throw new Error(`no ${kind}${name ? ` ${name}` : ''} in ${objs.map((x) => x.kind).join(', ')}`);
  return o;
}

// The Prometheus Operator's CRDs ship in its Go module (example/prometheus-operator-crd/);
// `go mod download` fetches that from the Go module proxy into the module cache, and the
// three the chart uses are copied to the project's cache, never into the repository.
export const PROMETHEUS_OPERATOR = {
  module: 'github.com/prometheus-operator/prometheus-operator',
  version: 'v0.85.0',
};
const CRD_FILES = ['servicemonitors', 'podmonitors', 'prometheusrules'].map(
  (p) => `monitoring.coreos.com_${p}.yaml`,
);

/** Paths of the ServiceMonitor, PodMonitor and PrometheusRule CRDs. */
export async function prometheusOperatorCrds(): Promise<string[]> {
  const dir = join(CACHE_DIR, `prometheus-operator-${PROMETHEUS_OPERATOR.version}`, 'crds');
  const paths = CRD_FILES.map((f) => join(dir, f));
  if (paths.every((p) => existsSync(p))) return paths;
  const { module, version } = PROMETHEUS_OPERATOR;
  // From a directory outside any Go module, as test/cluster/build.sh does.
  const r = await exec('go', ['mod', 'download', '-json', `${module}@${version}`], {
    timeoutMs: 300_000,
    cwd: tmpdir(),
  });
  const info = (r.stdout ? JSON.parse(r.stdout) : {}) as { Dir?: string; Error?: string };
  if (r.code !== 0 || !info.Dir) {
    throw new Error(`go mod download ${module}@${version} failed: ${info.Error ?? r.stderr}`);
  }
  mkdirSync(dir, { recursive: true });
  for (const f of CRD_FILES) {
    const tmp = join(dir, `${f}.tmp`);
    copyFileSync(join(info.Dir, 'example/prometheus-operator-crd', f), tmp);
    renameSync(tmp, join(dir, f));
  }
  return paths;
}
