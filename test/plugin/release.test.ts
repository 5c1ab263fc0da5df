// kubectl-hotupgrade on HotReleases as a user runs it: the plugin as a child process with
// --kubeconfig, against a real API server with the hub CRDs. No hub controller runs: the
// test writes each release's status through the /status subresource to put it where a
// command needs it (awaiting approval, progressing, succeeded, ...), then checks the
// output, the exit code, and the spec change the command made.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient, loadKubeConfig } from '../../controller/kube/client.ts';
import { hotReleaseCrdManifest, memberClusterCrdManifest } from '../../hub/api/crd.ts';
import type { Condition, HotRelease, HotReleaseStatus, ReleaseStep } from '../../hub/api/types.ts';
import { checkTier, until, useControlPlane, type TestCluster } from '../cluster/harness.ts';

const skip = checkTier('control-plane');
const PLUGIN = fileURLToPath(new URL('../../plugin/main.ts', import.meta.url));
const NS = 'releases';
const BASE = '/apis/hotupgrade.io/v1alpha1';
const IMAGE = 'registry.example.com/web:v2';
const OLD = 'registry.example.com/web:v1';
const GATE =
  'sum(rate(errors{cluster="$cluster",code=~"5.."}[5m])) / sum(rate(requests{cluster="$cluster"}[5m]))';
/** Every wait on a plugin process or the API server is bounded by this, in ms. */
const WAIT_MS = 30_000;

let cluster: TestCluster;
let client: KubeClient;
let dir: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Started {
  done: Promise<Run>;
  stdout(): string;
  kill(signal: NodeJS.Signals): void;
}

/** Starts `kubectl hotupgrade ARGS -n releases`; `input` goes to its stdin. */
function start(args: string[], o: { input?: string } = {}): Started {
  const argv = [PLUGIN, ...args, '--kubeconfig', cluster.kubeconfig, '-n', NS];
  const child = spawn(process.execPath, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end(o.input ?? '');
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return {
    done: new Promise((resolve) =>
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      }),
    ),
    stdout: () => stdout,
    kill: (signal) => child.kill(signal),
  };
}

const plugin = (args: string[], o: { input?: string } = {}): Promise<Run> => start(args, o).done;

const hrPath = (name?: string): string => `${BASE}/namespaces/${NS}/hotreleases${name ? `/${name}` : ''}`;

async function getHr(name: string): Promise<HotRelease> {
  const r = await client.get<HotRelease>(hrPath(name));
  if (!r.ok) throw new Error(`get hotrelease ${name}: ${r.message}`);
  return r.body;
}

const PLAN: ReleaseStep[] = [
  { upgrade: { clusters: ['a'], replicas: 1 } },
  {
    gate: {
      clusters: ['a'],
      query: GATE,
      threshold: { op: '<', value: 0.01 },
      intervalSeconds: 30,
      samples: 2,
    },
  },
  { pause: { manual: true } },
  { upgrade: { replicas: '50%' } },
  { upgrade: { replicas: '100%' } },
];

/** Creates a HotRelease to clusters a and b with PLAN, as the hub would find it. */
async function createHr(name: string): Promise<HotRelease> {
  const hr: HotRelease = {
    apiVersion: 'hotupgrade.io/v1alpha1',
    kind: 'HotRelease',
    metadata: { name, namespace: NS },
    spec: { target: { name: 'web' }, image: IMAGE, clusters: { names: ['a', 'b'] }, steps: PLAN },
  };
  const r = await client.create<HotRelease>(hrPath(), hr);
  if (!r.ok) throw new Error(`create hotrelease ${name}: ${r.message}`);
  return r.body;
}

const cond = (type: string, status: Condition['status'], reason: string, message: string): Condition => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: '2026-01-01T00:00:00Z',
});

type Phase = NonNullable<HotReleaseStatus['phase']>;

/** The status the hub writes at `phase` and `step` (reasons as in docs/crd-reference.md). */
function statusAt(phase: Phase, step: number | undefined, generation: number): HotReleaseStatus {
  const paused = phase === 'Paused';
  const degraded: Record<string, string> = {
    Failed: 'GateFailed',
    RolledBack: 'RolledBack',
    Aborted: 'Aborted',
  };
  const d = degraded[phase];
  const progressing = phase === 'Succeeded' || phase === 'RolledBack' ? 'ReleaseComplete' : 'Upgrading';
  return {
    observedGeneration: generation,
    phase,
    ...(step !== undefined ? { currentStep: step, stepStartedAt: '2026-01-01T00:05:00Z' } : {}),
    ...(phase !== 'Pending' ? { startedAt: '2026-01-01T00:00:00Z' } : {}),
    clusters: [
      {
        name: 'a',
        replicas: 4,
        updated: phase === 'Pending' ? 0 : 1,
        ready: 4,
        target: 1,
        image: phase === 'Pending' ? OLD : IMAGE,
        version: phase === 'Pending' ? 'v1' : 'v2',
        ...(phase !== 'Pending' ? { previousImage: OLD } : {}),
        reachable: true,
      },
      { name: 'b', replicas: 6, updated: 0, ready: 6, target: 0, image: OLD, version: 'v1', reachable: true },
    ],
    gates:
      step !== undefined && step >= 2
        ? [
            {
              step: 2,
              state: step > 2 ? 'Passed' : 'Evaluating',
              successes: step > 2 ? 2 : 1,
              failures: 0,
              results: [{ cluster: 'a', value: 0.002, passed: true, at: '2026-01-01T00:04:30Z' }],
            },
          ]
        : [],
    conditions: [
      cond('Progressing', 'True', progressing, `progressing: ${progressing}`),
      cond(
        'Paused',
        paused ? 'True' : 'False',
        paused ? 'AwaitingApproval' : 'NotPaused',
        paused ? `step ${step ?? 0} waits for approval` : 'not paused',
      ),
      cond('Degraded', d ? 'True' : 'False', d ?? 'Healthy', d ? `the release ${d}` : 'no failure'),
      cond('Reachable', 'True', 'ProbeSucceeded', 'every cluster answered'),
    ],
  };
}

/** Writes the status the hub would write, through the /status subresource, for the current generation. */
async function setStatus(name: string, phase: Phase, step?: number): Promise<void> {
  const generation = (await getHr(name)).metadata.generation ?? 1;
  const r = await client.patch(
    `${hrPath(name)}/status`,
    { status: statusAt(phase, step, generation) },
    'merge',
  );
  if (!r.ok) throw new Error(`status of ${name}: ${r.message}`);
}

async function installCrds(): Promise<void> {
  const path = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
  for (const crd of [memberClusterCrdManifest(), hotReleaseCrdManifest()]) {
    const r = await client.create(path, crd);
    if (!r.ok && r.reason !== 'AlreadyExists') throw new Error(`CRD: ${r.message}`);
    await until(
      `CRD ${crd.metadata.name} established`,
      async () => {
        const g = await client.get<{ status?: { conditions?: { type: string; status: string }[] } }>(
          `${path}/${crd.metadata.name}`,
        );
        return g.ok && g.body.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')
          ? true
          : undefined;
      },
      WAIT_MS,
      100,
    );
  }
}

beforeAll(async () => {
  if (skip) return;
  const t0 = Date.now();
  cluster = await useControlPlane('plugin-release');
  client = await KubeClient.fromKubeConfig(loadKubeConfig(cluster.kubeconfig), {
    qps: 0,
    fieldManager: 'release-test',
  });
  await installCrds();
  const ns = await client.create('/api/v1/namespaces', { metadata: { name: NS } });
  if (!ns.ok && ns.reason !== 'AlreadyExists') throw new Error(`namespace: ${ns.message}`);
  for (const name of ['a', 'b']) {
    const mc = await client.create(`${BASE}/memberclusters`, {
      apiVersion: 'hotupgrade.io/v1alpha1',
      kind: 'MemberCluster',
      metadata: { name, labels: { env: 'prod' } },
      spec: name === 'a' ? { inCluster: true } : { kubeconfigSecretRef: { namespace: NS, name: 'b' } },
    });
    if (!mc.ok && mc.reason !== 'AlreadyExists') throw new Error(`membercluster ${name}: ${mc.message}`);
  }
  // The schema can reach the handler a moment after Established.
  await until(
    'HotReleases served',
    async () => ((await client.list(hrPath())).ok ? true : undefined),
    WAIT_MS,
    100,
  );
  dir = mkdtempSync(join(tmpdir(), 'plugin-release-'));
  console.log(`[plugin-release] API server and hub CRDs ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}, 180_000);

afterAll(async () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  await client?.close();
  await cluster?.stop();
});

describe.skipIf(skip)('kubectl hotupgrade on HotReleases', () => {
  it('release creates a HotRelease from flags; a dry run saves nothing; a second one exits 1', async () => {
    const args = [
      'web-v2',
      '--target',
      'web',
      '--image',
      IMAGE,
      '--clusters',
      'a,b',
      '--step',
      'upgrade=1@a',
      '--step',
      `gate=${GATE} < 0.01; interval=30; samples=2; clusters=a`,
      '--step',
      'pause',
      '--step',
      'upgrade=50%',
      '--step',
      'upgrade=100%',
      '--auto-rollback',
      '--progress-deadline',
      '5m',
    ];
    const [dry, made] = await Promise.all([
      plugin(['release', 'web-v2-dry', ...args.slice(1), '--dry-run']),
      plugin(['release', ...args]),
    ]);
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(
      'hotrelease/web-v2-dry checked (dry run: the API server accepted it; nothing was saved)',
    );
    expect((await client.get(hrPath('web-v2-dry'))).status).toBe(404);

    expect(made.stderr).toBe('');
    expect(made.code).toBe(0);
    expect(made.stdout.split('\n')).toEqual([
      `hotrelease/web-v2 created in namespace releases: ${IMAGE} to hotdeployment/web (namespace releases) in clusters a, b`,
      'rolls back by itself on a failure (autoRollback); an upgrade step may make no progress for 5m.',
      'Steps:',
      '  1  upgrade to 1 pod in a',
      `  2  gate ${GATE.slice(0, 59)}… < 0.01 in a (every 30s, passes after 2 in a row, fails after 1)`,
      '  3  pause until approved',
      '  4  upgrade to 50% of the pods in every cluster',
      '  5  upgrade to 100% of the pods in every cluster',
      'Follow it with: kubectl hotupgrade status hr/web-v2 -n releases -w',
      '',
    ]);
    const hr = await getHr('web-v2');
    expect(hr.spec).toEqual({
      target: { name: 'web' },
      image: IMAGE,
      clusters: { names: ['a', 'b'] },
      steps: [
        { upgrade: { clusters: ['a'], replicas: 1 } },
        {
          gate: {
            clusters: ['a'],
            query: GATE,
            threshold: { op: '<', value: 0.01 },
            intervalSeconds: 30,
            samples: 2,
            failureLimit: 1,
          },
        },
        { pause: { manual: true } },
        { upgrade: { replicas: '50%' } },
        { upgrade: { replicas: '100%' } },
      ],
      autoRollback: true,
      progressDeadlineSeconds: 300,
      paused: false,
      abort: false,
      rollback: false,
    });

    const [again, status] = await Promise.all([
      plugin(['release', ...args]),
      plugin(['status', 'hr/web-v2']),
    ]);
    expect(again).toMatchObject({ code: 1, stdout: '' });
    expect(again.stderr).toBe(
      'error: hotrelease/web-v2 already exists in namespace releases: choose another name, or see it with: kubectl hotupgrade status hr/web-v2 -n releases\n',
    );
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(
      'Status:     none yet: the hub controller has not seen this HotRelease (is it running?)',
    );
    expect(status.stdout).toContain('  · 3  pause until approved');
  });

  it('release refuses what it can check with exit 2 naming the flag, and shows the API server rejecting a plan', async () => {
    const base = ['--target', 'web', '--image', IMAGE, '--clusters', 'a,b'];
    const [none, badStep, noFull, stray] = await Promise.all([
      plugin(['release', 'r-none', ...base]),
      plugin(['release', 'r-bad', ...base, '--step', 'upgrade=0']),
      plugin(['release', 'r-half', ...base, '--step', 'upgrade=50%']),
      plugin(['release', 'r-stray', ...base, '--step', 'upgrade=1@c', '--step', 'upgrade=100%']),
    ]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('error: no --step given: a release has no default plan');
    expect(none.stderr).toContain('--step upgrade=1@eu-west --step gate=');
    expect(badStep.code).toBe(2);
    expect(badStep.stderr).toContain('error: --step upgrade=0: "0" is neither a number of pods >= 1');
    expect(badStep.stderr).toContain('See: kubectl hotupgrade release --help');

    // The plan as a whole is the API server's to check (CEL): its message, as it is.
    expect(noFull).toMatchObject({
      code: 2,
      stdout: '',
      stderr:
        'error: the API server rejected hotrelease/r-half: HotRelease.hotupgrade.io "r-half" is invalid: spec.steps: Invalid value: spec.steps: no step takes every cluster to "100%"; end the upgrades with a step upgrade: {replicas: "100%"} without clusters, so that the release leaves every pod at spec.image\n',
    });
    expect(stray.code).toBe(2);
    expect(stray.stderr).toBe(
      'error: the API server rejected hotrelease/r-stray: HotRelease.hotupgrade.io "r-stray" is invalid: spec.steps: Invalid value: spec.steps: a step names a cluster that is not in spec.clusters.names (a, b); add it there or remove it from the step\n',
    );
    for (const n of ['r-none', 'r-bad', 'r-half', 'r-stray'])
      expect((await client.get(hrPath(n))).status).toBe(404);
  });

  it('release -f reads YAML from a file and JSON from stdin; a CEL rejection, an unknown field, another namespace exit 2', async () => {
    // A file to review: --dry-run -o yaml, then created with -f.
    const yaml = await plugin([
      'release',
      'from-file',
      '--target',
      'web',
      '--image',
      IMAGE,
      '--selector',
      'env=prod',
      '--step',
      'upgrade=25%',
      '--step',
      'pause=90s',
      '--step',
      'upgrade=100%',
      '--dry-run',
      '-o',
      'yaml',
    ]);
    expect(yaml.code).toBe(0);
    expect(yaml.stdout).toContain('kind: HotRelease');
    const file = join(dir, 'from-file.yaml');
    writeFileSync(file, yaml.stdout);

    const json = (o: object): string =>
      JSON.stringify({
        apiVersion: 'hotupgrade.io/v1alpha1',
        kind: 'HotRelease',
        metadata: { name: 'from-stdin' },
        spec: {
          target: { name: 'web' },
          image: IMAGE,
          clusters: { names: ['a'] },
          steps: [{ upgrade: { replicas: '100%' } }],
        },
        ...o,
      });
    const decreasing = join(dir, 'decreasing.yaml');
    writeFileSync(
      decreasing,
      `apiVersion: hotupgrade.io/v1alpha1
kind: HotRelease
metadata:
  name: decreasing
spec:
  target: {name: web}
  image: ${IMAGE}
  clusters: {names: [a, b]}
  steps:
    - upgrade: {replicas: 3}
    - upgrade: {replicas: 1}
    - upgrade: {replicas: "100%"}
`,
    );
    const typo = JSON.parse(json({})) as HotRelease & { spec: Record<string, unknown> };
    typo.metadata.name = 'typo';
    typo.spec.autoRolback = true;
    const elsewhere = JSON.parse(json({})) as HotRelease;
    elsewhere.metadata = { name: 'elsewhere', namespace: 'other' };

    const [fromFile, fromStdin, cel, unknown, otherNs] = await Promise.all([
      plugin(['release', '-f', file]),
      plugin(['release', '-f', '-', '-o', 'json'], { input: json({}) }),
      plugin(['release', '-f', decreasing]),
      plugin(['release', '-f', '-'], { input: JSON.stringify(typo) }),
      plugin(['release', '-f', '-'], { input: JSON.stringify(elsewhere) }),
    ]);
    expect(fromFile.stderr).toBe('');
    expect(fromFile.code).toBe(0);
    expect(fromFile.stdout).toContain(
      `hotrelease/from-file created in namespace releases: ${IMAGE} to hotdeployment/web (namespace releases) in the clusters selected by env=prod`,
    );
    expect((await getHr('from-file')).spec).toMatchObject({
      clusters: { selector: { matchLabels: { env: 'prod' } } },
      steps: [
        { upgrade: { replicas: '25%' } },
        { pause: { seconds: 90 } },
        { upgrade: { replicas: '100%' } },
      ],
    });

    expect(fromStdin.code).toBe(0);
    expect(JSON.parse(fromStdin.stdout)).toMatchObject({ metadata: { name: 'from-stdin', namespace: NS } });
    expect((await getHr('from-stdin')).spec.clusters).toEqual({ names: ['a'] });

    expect(cel.code).toBe(2);
    expect(cel.stderr).toBe(
      'error: the API server rejected hotrelease/decreasing: HotRelease.hotupgrade.io "decreasing" is invalid: spec.steps: Invalid value: spec.steps: upgrade replicas are cumulative per cluster (pods at spec.image once the step is done), so a later step must not ask for fewer pods in a cluster than an earlier one: counts must not decrease, nor percents, e.g. 1, "50%", "100%"\n',
    );
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe(
      'error: the API server rejected hotrelease/typo: HotRelease in version "v1alpha1" cannot be handled as a HotRelease: strict decoding error: unknown field "spec.autoRolback"\n',
    );
    expect(otherNs.code).toBe(2);
    expect(otherNs.stderr).toContain(`metadata.namespace "other" does not match -n ${NS}`);
  });

  it('status shows a release awaiting approval as text and as JSON', async () => {
    await createHr('show');
    await setStatus('show', 'Paused', 3);
    const [text, json] = await Promise.all([
      plugin(['status', 'hotrelease/show']),
      plugin(['status', 'hr/show', '-o', 'json']),
    ]);
    expect(text.code).toBe(0);
    const lines = text.stdout.split('\n');
    expect(lines).toContain('Phase:      Paused: awaiting approval of step 4/5');
    expect(lines).toContain('Step:       3/5 pause until approved');
    expect(lines).toContain(
      '  ✓ 2  ' +
        `gate ${GATE.slice(0, 59)}… < 0.01 in a (every 30s, passes after 2 in a row, fails after 1)`,
    );
    expect(lines).toContain('  ▶ 3  pause until approved');
    expect(lines).toContain('  · 4  upgrade to 50% of the pods in every cluster');
    expect(lines).toContain('  a        [#####...............] 1/4  1       4/4    v2        reachable');
    expect(lines).toContain('  step 2/5 Passed: 2/2 passed in a row, 0/1 failed, every 30s');
    expect(text.stdout).toMatch(
      / {4}a {2}sum\(rate\(errors\{cluster="a",code=~"5.."\}\[5m\]\)\) .*= 0\.002 < 0\.01 ✓/,
    );
    expect(text.stdout).toMatch(/Paused\s+True\s+AwaitingApproval\s+step 3 waits for approval/);
    expect(lines).toContain(
      'Next:       approve step 4/5 with: kubectl hotupgrade approve hr/show -n releases',
    );

    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      kind: 'HotRelease',
      name: 'show',
      phase: 'Paused',
      currentStep: 3,
      totalSteps: 5,
      outcome: 'progressing',
      next: 'approve step 4/5 with: kubectl hotupgrade approve hr/show -n releases',
      clusters: [
        { name: 'a', updated: 1 },
        { name: 'b', updated: 0 },
      ],
      gates: [{ step: 2, state: 'Passed', results: [{ cluster: 'a', value: 0.002, passed: true }] }],
    });
  });

  it('approve refuses while a step runs, approves the next step at a manual pause, then changes nothing', async () => {
    await Promise.all([createHr('appr'), createHr('busy')]);
    await Promise.all([setStatus('appr', 'Paused', 3), setStatus('busy', 'Progressing', 2)]);
    const [early, dry] = await Promise.all([
      plugin(['approve', 'hr/busy']),
      plugin(['approve', 'hr/appr', '--dry-run']),
    ]);
    expect(early.code).toBe(1);
    expect(early.stderr).toContain(
      'error: hotrelease/busy is not awaiting approval: it is Progressing at step 2/5 (gate ',
    );
    expect(early.stderr).toContain('To approve steps ahead of time, name the last one: --step 3 to 5.');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('(dry run: the API server accepted it; nothing was saved)');
    expect((await getHr('appr')).spec.approved).toBeUndefined();

    const ok = await plugin(['promote', 'hr/appr']);
    expect(ok.stderr).toBe('');
    expect(ok).toMatchObject({
      code: 0,
      stdout:
        'hotrelease/appr approved: step 4/5 (upgrade to 50% of the pods in every cluster) may start; spec.approved.step: none -> 4\n',
    });
    expect((await getHr('appr')).spec.approved).toEqual({ step: 4 });

    const [again, behind] = await Promise.all([
      plugin(['approve', 'hr/appr']),
      plugin(['approve', 'hr/appr', '--step', '2']),
    ]);
    expect(again).toMatchObject({
      code: 0,
      stdout: 'hotrelease/appr unchanged: steps up to 4 are already approved\n',
    });
    expect(behind.code).toBe(1);
    expect(behind.stderr).toContain('error: --step 2: step 2 has already started');

    const ahead = await plugin(['approve', 'hr/appr', '--step', '5']);
    expect(ahead.code).toBe(0);
    expect(ahead.stdout).toContain('spec.approved.step: 4 -> 5');
    expect((await getHr('appr')).spec.approved).toEqual({ step: 5 });
  });

  it('pause and resume set spec.paused; both are idempotent; a final release is not paused', async () => {
    await Promise.all([createHr('hold'), createHr('done')]);
    await Promise.all([setStatus('hold', 'Progressing', 4), setStatus('done', 'Succeeded', 5)]);
    const [p, done] = await Promise.all([plugin(['pause', 'hr/hold']), plugin(['pause', 'hr/done'])]);
    expect(p.code).toBe(0);
    expect(p.stdout).toContain(
      'hotrelease/hold paused: nothing new starts (upgrades in flight in the members finish)',
    );
    expect((await getHr('hold')).spec.paused).toBe(true);
    expect(done.code).toBe(1);
    expect(done.stderr).toBe(
      `error: nothing to pause: hotrelease/done is Succeeded: every cluster runs ${IMAGE} (a final phase)\n`,
    );
    expect((await getHr('done')).spec.paused).toBe(false);

    const [again, r] = await Promise.all([plugin(['pause', 'hr/hold']), plugin(['resume', 'hr/done'])]);
    expect(again).toMatchObject({ code: 0, stdout: 'hotrelease/hold unchanged: already paused\n' });
    expect(r).toMatchObject({ code: 0, stdout: 'hotrelease/done unchanged: not paused\n' });

    const resumed = await plugin(['resume', 'hr/hold']);
    expect(resumed).toMatchObject({
      code: 0,
      stdout: 'hotrelease/hold resumed; spec.paused: true -> false\n',
    });
    expect((await getHr('hold')).spec.paused).toBe(false);
  });

  it('abort sets spec.abort and refuses a final phase; rollback sets spec.rollback and refuses what cannot roll back', async () => {
    await Promise.all([createHr('stop'), createHr('back'), createHr('fresh')]);
    await Promise.all([
      setStatus('stop', 'Progressing', 4),
      setStatus('back', 'Aborted', 4),
      setStatus('fresh', 'Pending'),
    ]);

    const [abort, fresh, back] = await Promise.all([
      plugin(['abort', 'hr/stop']),
      plugin(['rollback', 'hr/fresh']),
      plugin(['rollback', 'hr/back']),
    ]);
    expect(abort.stderr).toBe('');
    expect(abort.code).toBe(0);
    expect(abort.stdout).toContain(
      'hotrelease/stop aborted: nothing more is upgraded and every pod keeps the version it runs',
    );
    expect((await getHr('stop')).spec.abort).toBe(true);

    expect(fresh.code).toBe(1);
    expect(fresh.stderr).toBe(
      'error: nothing to roll back: hotrelease/fresh is Pending (not started) and has changed no cluster; to stop it, use: kubectl hotupgrade abort hr/fresh -n releases\n',
    );
    expect((await getHr('fresh')).spec.rollback).toBe(false);

    expect(back.stderr).toBe('');
    expect(back.code).toBe(0);
    expect(back.stdout).toContain(
      'hotrelease/back rolling back: every cluster it touched goes back to its previous image',
    );
    expect((await getHr('back')).spec.rollback).toBe(true);

    // The hub has not seen the rollback yet: asking again says it is on its way.
    await setStatus('stop', 'Aborted', 4);
    const [again, abortDone] = await Promise.all([
      plugin(['rollback', 'hr/back']),
      plugin(['abort', 'hr/stop']),
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('error: hotrelease/back is already rolling back');
    expect(abortDone.code).toBe(1);
    expect(abortDone.stderr).toContain('error: nothing to abort: hotrelease/stop is Aborted at step 4/5');

    await setStatus('back', 'RolledBack', 4);
    const rolled = await plugin(['rollback', 'hr/back']);
    expect(rolled.code).toBe(1);
    expect(rolled.stderr).toContain('error: nothing to roll back: hotrelease/back is RolledBack');
  });

  it('relies on a JSON patch of the object testing /status/phase (abort and rollback guard on it)', async () => {
    const hr = await createHr('guard');
    await setStatus('guard', 'Progressing', 1);
    const stale = await client.patch(
      hrPath('guard'),
      [
        { op: 'test', path: '/status/phase', value: 'Succeeded' },
        { op: 'add', path: '/spec/abort', value: true },
      ],
      'json',
    );
    expect(stale.ok ? 200 : stale.status).toBe(422);
    const fresh = await client.patch<HotRelease>(
      hrPath('guard'),
      [
        { op: 'test', path: '/status/phase', value: 'Progressing' },
        { op: 'add', path: '/spec/abort', value: true },
      ],
      'json',
    );
    expect(fresh.ok ? fresh.body.spec.abort : fresh.message).toBe(true);
    expect(fresh.ok ? fresh.body.status?.phase : '').toBe('Progressing');
    expect(hr.spec.abort).toBe(false);
  });

  it('status --until-complete ends 0 at Succeeded, 1 at Failed, 5 at its timeout; -w stops on Ctrl-C', async () => {
    await Promise.all([createHr('win'), createHr('lose'), createHr('wait')]);
    await Promise.all([
      setStatus('win', 'Progressing', 4),
      setStatus('lose', 'Progressing', 2),
      setStatus('wait', 'Paused', 3),
    ]);
    const win = start(['status', 'hr/win', '--until-complete', '--timeout', '60s']);
    const lose = start(['status', 'hr/lose', '--until-complete', '--timeout', '60s']);
    const json = start(['status', 'hr/wait', '-w', '-o', 'json']);
    const wait = plugin(['status', 'hr/wait', '--until-complete', '--timeout', '2s']);
    for (const [what, w] of [
      ['win', win],
      ['lose', lose],
      ['the JSON watch', json],
    ] as const) {
      await until(
        `the first drawing of ${what}`,
        async () => (w.stdout().includes('"kind"') || w.stdout().includes('Phase:') ? true : undefined),
        WAIT_MS,
        100,
      );
    }
    await Promise.all([setStatus('win', 'Succeeded', 5), setStatus('lose', 'Failed', 2)]);
    json.kill('SIGINT');

    const [w, l, j, t] = await Promise.all([win.done, lose.done, json.done, wait]);
    expect(w.stderr).toBe('');
    expect(w.code).toBe(0);
    const states = w.stdout.split('\n\n');
    expect(states[0]).toContain('Phase:      Progressing');
    expect(states.at(-1)).toContain('Phase:      Succeeded');
    expect(states.at(-1)).toContain('  ✓ 5  upgrade to 100% of the pods in every cluster');

    expect(l.code).toBe(1);
    expect(l.stdout).toContain('Phase:      Failed: GateFailed');
    expect(l.stderr).toBe(
      'error: hotrelease/lose is Failed at step 2/5 (gate ' +
        `${GATE.slice(0, 59)}… < 0.01 in a (every 30s, passes after 2 in a row, fails after 1)): GateFailed: the release GateFailed\n`,
    );

    expect(j.code).toBe(130);
    expect(JSON.parse(j.stdout.split('\n')[0] ?? '')).toMatchObject({
      kind: 'HotRelease',
      name: 'wait',
      phase: 'Paused',
    });

    expect(t.code).toBe(5);
    expect(t.stderr).toContain(
      'error: timed out: hotrelease/wait is Paused at step 3/5 (pause until approved), awaiting approval of step 4',
    );
  });

  it('names a missing HotRelease with exit 3', async () => {
    const runs = await Promise.all([
      plugin(['status', 'hr/nope']),
      plugin(['approve', 'hr/nope']),
      plugin(['rollback', 'hotrel/nope']),
      plugin(['status', 'hr/nope', '-w']),
    ]);
    for (const r of runs) {
      expect(r).toMatchObject({ code: 3, stdout: '' });
      expect(r.stderr).toBe('error: hotrelease/nope not found in namespace releases\n');
    }
  });
});
