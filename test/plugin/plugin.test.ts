// kubectl-hotupgrade as a user runs it: the plugin as a child process with --kubeconfig,
// against a real API server with the controller and the node simulator (fake mode). One
// HotDeployment goes through a rollout with a manual pause (upgrade, status, approve), a
// pause and resume, an abort, and rollbacks; each step checks the output, the exit code
// and what changed on the object. HotReleases: release.test.ts.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HotDeployment } from '../../controller/api/types.ts';
import { IMAGE_CHANGE_ANNOTATION } from '../../plugin/constants.ts';
import { checkTier } from '../cluster/harness.ts';
import { demoImage, hdPath, startEnv, until, type Env } from '../controller/env.ts';
import { condition, createHd, fakeCatalog, rolledOut, rolloutHd, waitHd } from '../controller/fixtures.ts';

const skip = checkTier('control-plane');
const PLUGIN = fileURLToPath(new URL('../../plugin/main.ts', import.meta.url));
const NS = 'plugin';
const NAME = 'web';
const V1 = demoImage('v1');
const V2 = demoImage('v2');
const V3 = demoImage('v3');
let env: Env;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Started {
  done: Promise<Run>;
  /** stdout so far. */
  stdout(): string;
  /** Sends the child a signal (SIGINT: Ctrl-C). */
  kill(signal: NodeJS.Signals): void;
}

/** Starts `kubectl hotupgrade ARGS -n plugin` (the plugin itself, as kubectl would run it). */
function start(args: string[], o: { namespace?: boolean } = {}): Started {
  const argv = [
    PLUGIN,
    ...args,
    '--kubeconfig',
    env.kubeconfig,
    ...(o.namespace === false ? [] : ['-n', NS]),
  ];
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return {
    done: new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr }))),
    stdout: () => stdout,
    kill: (signal) => child.kill(signal),
  };
}

const plugin = (args: string[], o: { namespace?: boolean } = {}): Promise<Run> => start(args, o).done;

const hot = (hd: HotDeployment): string => hd.spec.template.spec?.containers[0]?.image ?? '';
const upgrading = (h: HotDeployment): boolean => h.status?.rolloutKind === 'Hot';
const awaiting = (h: HotDeployment): boolean => h.status?.batch?.state === 'AwaitingApproval' && upgrading(h);

beforeAll(async () => {
  if (skip) return;
  env = await startEnv('plugin', { mode: 'fake', images: fakeCatalog(), startDelayMs: 100 });
  await env.namespace(NS);
  await env.startController();
  // 1 pod, then a manual pause, then the rest.
  const hd = rolloutHd(NAME, NS, {
    replicas: 4,
    maxUnavailable: 2,
    batches: [{ replicas: 1, pause: { manual: true } }, { replicas: '100%' }],
  });
  delete hd.metadata.annotations; // upgrade must create the map
  await createHd(env.client, hd);
  await waitHd(env.client, NS, NAME, 'four pods at v1', rolledOut(V1, 4));
}, 180_000);

afterAll(async () => {
  await env?.stop();
});

describe.skipIf(skip)('kubectl hotupgrade', () => {
  it('refuses bad usage with exit 2, unknown names with 3 (also HotReleases without the hub CRDs)', async () => {
    const bare = await plugin(['status', NAME]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('error: "web" names no kind: did you mean hd/web?');
    expect(bare.stderr).toContain('See: kubectl hotupgrade status --help');
    expect((await plugin(['approve', `hd/${NAME}`, '--to', V2])).code).toBe(2);
    expect((await plugin(['bogus'])).code).toBe(2);

    const missing = await plugin(['status', 'hd/nope']);
    expect(missing).toMatchObject({ code: 3, stdout: '' });
    expect(missing.stderr).toBe('error: hotdeployment/nope not found in namespace plugin\n');
    expect((await plugin(['pause', 'hd/nope'])).code).toBe(3);
    expect((await plugin(['status', `hd/${NAME}`], { namespace: false })).code).toBe(3); // in "default"

    // This API server has no hub CRDs: the message says which to install.
    const hr = await plugin(['status', 'hr/r1']);
    expect(hr.code).toBe(3);
    expect(hr.stderr).toContain('does not serve hotreleases.hotupgrade.io: install the CRDs');

    const help = await plugin(['approve', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('spec.updateStrategy.approved');
  });

  it('status shows a complete rollout as text and as JSON', async () => {
    const text = await plugin(['status', `hd/${NAME}`]);
    expect(text.code).toBe(0);
    const lines = text.stdout.split('\n');
    expect(lines).toContain(`Image:      ${V1} (version v1, container app)`);
    expect(lines).toContain('Rollout:    complete');
    expect(lines).toContain('Progress:   [####################] 4/4 pods at v1');
    expect(text.stdout).toMatch(/Progressing\s+True\s+RolloutComplete/);
    expect(text.stdout).toMatch(/ {2}v1\s+4\s+4\s+hotupgrade\.local\/demo:v1/);

    const json = await plugin(['status', `hd/${NAME}`, '-o', 'json']);
    expect(json.code).toBe(0);
    const s = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(s).toMatchObject({
      kind: 'HotDeployment',
      namespace: NS,
      name: NAME,
      image: V1,
      outcome: 'complete',
      rolloutKind: 'None',
      replicas: { desired: 4, ready: 4, updated: 4 },
      pods: [{ image: V1, version: 'v1', pods: 4, ready: 4 }],
    });
  });

  it('status -w draws the state and stops on Ctrl-C with 130', async () => {
    const w = start(['status', `hd/${NAME}`, '-w']);
    await until('the first drawing', 30_000, async () =>
      w.stdout().includes('Rollout:') ? true : undefined,
    );
    w.kill('SIGINT');
    const r = await w.done;
    expect(r.code).toBe(130);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('Rollout:    complete');
  });

  it('upgrade sets the hot image, records the old one, and stops at the manual pause', async () => {
    const dry = await plugin(['upgrade', `hd/${NAME}`, V2, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('(dry run: the API server accepted it; nothing was saved)');
    expect(hot(await env.getHd(NS, NAME))).toBe(V1);

    const none = await plugin(['upgrade', `hd/${NAME}`, V2, '-c', 'sidecar']);
    expect(none.code).toBe(3);
    expect(none.stderr).toContain('container "sidecar" is not in hotdeployment/web (containers: app)');

    const up = await plugin(['upgrade', `hd/${NAME}`, V2]);
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    expect(up.stdout).toBe(
      `hotdeployment/web upgraded: container app: ${V1} -> ${V2} (hot upgrade in 2 batches; follow it with: kubectl hotupgrade status hd/web -n plugin -w)\n`,
    );
    const hd = await env.getHd(NS, NAME);
    expect(hot(hd)).toBe(V2);
    expect(JSON.parse(hd.metadata.annotations?.[IMAGE_CHANGE_ANNOTATION] ?? '{}')).toMatchObject({
      from: V1,
      to: V2,
      by: 'upgrade',
    });

    const again = await plugin(['upgrade', `hd/${NAME}`, V2]);
    expect(again).toMatchObject({
      code: 0,
      stdout: `hotdeployment/web unchanged: container app already asks for ${V2}\n`,
    });

    await waitHd(env.client, NS, NAME, 'the manual pause after batch 1', awaiting);
  });

  it('status shows the pause and the command that approves it; --until-complete times out with 5', async () => {
    const text = await plugin(['status', `hd/${NAME}`]);
    expect(text.code).toBe(0);
    const lines = text.stdout.split('\n');
    expect(lines).toContain(`From:       ${V1}`);
    expect(lines).toContain('Progress:   [#####...............] 1/4 pods at v2');
    expect(lines).toContain('Batch:      1/2 AwaitingApproval  [####################] 1/1');
    expect(text.stdout).toMatch(/Paused\s+True\s+AwaitingApproval/);
    expect(lines).toContain(
      'Next:       approve batch 2/2 with: kubectl hotupgrade approve hd/web -n plugin',
    );

    const t0 = Date.now();
    const wait = await plugin(['status', `hd/${NAME}`, '--until-complete', '--timeout', '2s']);
    expect(wait.code).toBe(5);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(wait.stderr).toContain('error: timed out: hotdeployment/web is awaiting approval of batch 2/2');
  });

  it('approve lets batch 2 start, and status --until-complete follows it to the end (exit 0)', async () => {
    const watcher = start(['status', `hd/${NAME}`, '--until-complete', '--timeout', '120s']);
    await until('the watch to draw the pause', 30_000, async () =>
      watcher.stdout().includes('AwaitingApproval') ? true : undefined,
    );
    const ok = await plugin(['promote', `hd/${NAME}`]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const rev = (await env.getHd(NS, NAME)).status?.updateRevision ?? '';
    expect(ok.stdout).toBe(`hotdeployment/web approved: batch 2/2 of revision ${rev} may start\n`);
    expect((await env.getHd(NS, NAME)).spec.updateStrategy?.approved).toEqual({ revision: rev, batch: 2 });

    const w = await watcher.done;
    expect(w.stderr).toBe('');
    expect(w.code).toBe(0);
    // A log of states, the first at the pause, the last complete.
    const states = w.stdout.split('\n\n');
    expect(states[0]).toContain('AwaitingApproval');
    expect(states.at(-1)).toContain('Rollout:    complete');
    expect(states.at(-1)).toContain('Progress:   [####################] 4/4 pods at v2');

    const wrong = await plugin(['approve', `hd/${NAME}`]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toBe(
      `error: nothing to approve: hotdeployment/web is not rolling out: all 4 pods run ${V2}\n`,
    );
  });

  it('pause holds an upgrade, resume lets it go on; both are idempotent', async () => {
    const p = await plugin(['pause', `hd/${NAME}`]);
    expect(p.code).toBe(0);
    expect(p.stdout).toContain('hotdeployment/web paused: no pod starts an upgrade');
    expect((await env.getHd(NS, NAME)).spec.updateStrategy?.paused).toBe(true);
    expect(await plugin(['pause', `hd/${NAME}`])).toMatchObject({
      code: 0,
      stdout: 'hotdeployment/web unchanged: already paused\n',
    });

    const up = await plugin(['upgrade', `hd/${NAME}`, V3]);
    expect(up.code).toBe(0);
    expect(up.stderr).toContain('note: spec.updateStrategy.paused is true');
    const held = await waitHd(
      env.client,
      NS,
      NAME,
      'the paused rollout to v3',
      (h) => condition(h, 'Paused') === 'True/PausedBySpec' && upgrading(h),
    );
    expect(held.status?.updatedReplicas).toBe(0);
    const status = await plugin(['status', `hd/${NAME}`]);
    expect(status.stdout).toContain(
      'Rollout:    hot upgrade (in place), paused by spec.updateStrategy.paused',
    );
    expect(status.stdout).toContain('Next:       resume with: kubectl hotupgrade resume hd/web -n plugin');
    const approve = await plugin(['approve', `hd/${NAME}`]);
    expect(approve.code).toBe(1);
    expect(approve.stderr).toContain(
      'hotdeployment/web is not awaiting approval: it is paused by spec.updateStrategy.paused',
    );

    const r = await plugin(['resume', `hd/${NAME}`]);
    expect(r).toMatchObject({ code: 0, stdout: 'hotdeployment/web resumed\n' });
    expect(await plugin(['resume', `hd/${NAME}`])).toMatchObject({
      code: 0,
      stdout: 'hotdeployment/web unchanged: not paused\n',
    });
    await waitHd(env.client, NS, NAME, 'the manual pause of the rollout to v3', awaiting);
  });

  it('abort sends every pod back at once; --until-complete then ends Degraded (exit 1)', async () => {
    const a = await plugin(['abort', `hd/${NAME}`]);
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    expect(a.stdout).toContain(
      `hotdeployment/web aborted: container app goes back from ${V3} to ${V2} on every pod`,
    );
    expect(hot(await env.getHd(NS, NAME))).toBe(V2);

    const done = await waitHd(
      env.client,
      NS,
      NAME,
      'all pods back at v2',
      (h) => h.status?.updatedReplicas === 4 && h.status.rolloutKind === 'None',
    );
    expect(condition(done, 'Degraded')).toBe('True/RolledBack');
    const w = await plugin(['status', `hd/${NAME}`, '--until-complete', '--timeout', '30s']);
    expect(w.code).toBe(1);
    expect(w.stderr).toContain(
      `error: hotdeployment/web is Degraded (RolledBack): rolled back from ${V3} to ${V2}: aborted with kubectl hotupgrade abort`,
    );

    const again = await plugin(['abort', `hd/${NAME}`]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`error: nothing to abort: no hot rollout in progress, the pods run ${V2}`);
  });

  it('rollback goes to --to, to the image before a running rollout, or before the last change', async () => {
    // After the abort the spec asks for v2, which no upgrade of this plugin set: no earlier image known.
    const unknown = await plugin(['rollback', `hd/${NAME}`]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no earlier image known');

    const to = await plugin(['rollback', `hd/${NAME}`, '--to', V1]);
    expect(to.code).toBe(0);
    expect(to.stdout).toContain(`hotdeployment/web rolled back: container app: ${V2} -> ${V1} (--to)`);
    await waitHd(env.client, NS, NAME, 'the manual pause of the rollback to v1', awaiting);

    // While that rollout runs: back to the image most pods run.
    const running = await plugin(['rollback', `hd/${NAME}`]);
    expect(running.code).toBe(0);
    expect(running.stdout).toContain(
      `${V1} -> ${V2} (the image before the rollout in progress (status.currentImage))`,
    );
    await waitHd(env.client, NS, NAME, 'four pods at v2', rolledOut(V2, 4));

    // After it completed: the image before the last change, from the annotation.
    const after = await plugin(['rollback', `hd/${NAME}`]);
    expect(after.code).toBe(0);
    expect(after.stdout).toContain(`${V2} -> ${V1} (the image before the last rollback`);
    expect(hot(await env.getHd(NS, NAME))).toBe(V1);
  });

  it('relies on the API server answering 422 to a JSON patch whose test fails (a write retried on a fresh read)', async () => {
    const r = await env.client.patch(
      hdPath(NS, NAME),
      [{ op: 'test', path: '/spec/template/spec/containers/0/image', value: 'not-the-image' }],
      'json',
    );
    expect(r.ok).toBe(false);
    expect(r.ok ? 0 : r.status).toBe(422);
  });
});
