// Binary mode (HOTUPGRADE_MODE=binary) through the launcher's CLI contract:
//   active slot:  node launcher/main.ts --listen 127.0.0.1:PORT -- <server command>
//   other slot:   node launcher/main.ts stage --from <appdir> -- <command in appdir>
// The stager copies <appdir> into the shared volume as its HOTUPGRADE_VERSION; the active
// slot's launcher starts it on the same sockets, drains the old child and hands it the
// state. The lock never changes hands (the slot stays the same); clients notice nothing.
//
// The server here is the demo (this suite's HOTUPGRADE_CONFORMANCE_CMD is a slot program,
// not a launched one), staged as a one-line module that imports it.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NO_LOSS, Pod, REPO, lossSummary, moreAnswers, servingNames, waitFor } from './harness.ts';

const LAUNCHER = path.join(REPO, 'launcher/main.ts');
const DEMO = path.join(REPO, 'demo/server.ts');

let pod: Pod;
beforeEach(async () => {
  pod = await Pod.create();
});
afterEach(async () => {
  await pod.cleanup();
});

/** An application directory as an image would hold it: here one module that runs the demo. */
function appDir(): string {
  const dir = path.join(pod.root, 'app');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'server.mjs'), `await import(${JSON.stringify(DEMO)});\n`);
  return dir;
}

/** Waits until slot process `a` serves v2 from the staged binaries; returns its version file. */
function runningV2(a: Parameters<Pod['fileOf']>[0]): Promise<NonNullable<ReturnType<Pod['fileOf']>>> {
  return waitFor(
    'slot a to run v2',
    () => {
      const f = pod.fileOf(a);
      return f?.state === 'serving' && f.runningVersion === 'v2' ? f : undefined;
    },
    30_000,
    () => pod.describe(),
  );
}

describe.skipIf(!fs.existsSync(LAUNCHER))('binary mode', () => {
  it('v1 -> staged v2 inside the active slot: same slot and lock, no request fails, every session continues', async () => {
    const env = { HOTUPGRADE_MODE: 'binary' };
    const launcherCmd = [
      process.execPath,
      LAUNCHER,
      '--listen',
      `127.0.0.1:${pod.port}`,
      '--',
      process.execPath,
      DEMO,
    ];
    const a = pod.start({ slot: 'a', version: 'v1', env, cmd: launcherCmd });
    await pod.waitForState(a, 'serving');
    const load = pod.load();
    await moreAnswers(load, 50);

    const stageCmd = [process.execPath, LAUNCHER, 'stage', '--from', appDir(), '--', 'node', './server.mjs'];
    const b = pod.start({ slot: 'b', version: 'v2', env, cmd: stageCmd });
    await pod.waitForState(b, 'staged');
    const aFile = await runningV2(a);
    await moreAnswers(load, 50);
    const report = await load.stop();

    expect(lossSummary(report)).toEqual(NO_LOSS);
    expect(report.versions.v1).toBeGreaterThan(0);
    expect(report.versions.v2).toBeGreaterThan(0);
    expect(report.slots).toEqual({ a: report.ok });
    expect(aFile.handover).toMatchObject({
      from: { slot: 'a', version: 'v1' },
      to: { slot: 'a', version: 'v2' },
    });
    expect(pod.volume().lockHeld).toBe(true);
    expect(servingNames(pod)).toEqual(['a']);

    // The controller resets b to the placeholder; a keeps running v2.
    b.signal('SIGTERM');
    await b.waitExit(10_000);
    const v = await pod.get('/version');
    expect(JSON.parse(v.body)).toMatchObject({ version: 'v2', slot: 'a' });
  });

  it('one command line for both slots, as a pod has: the slot the annotation does not name stages', async () => {
    // A HotDeployment's two slots are copies of one container spec; HOTUPGRADE_ACTIVE_SLOT
    // (from the pod's annotation, "a" in binary mode) tells the launchers apart.
    const env = { HOTUPGRADE_MODE: 'binary', HOTUPGRADE_ACTIVE_SLOT: 'a' };
    const cmd = [
      process.execPath,
      LAUNCHER,
      '--from',
      appDir(),
      '--listen',
      `127.0.0.1:${pod.port}`,
      '--',
      process.execPath,
      DEMO,
    ];
    const a = pod.start({ slot: 'a', version: 'v1', env, cmd });
    await pod.waitForState(a, 'serving');
    const load = pod.load();
    await moreAnswers(load, 50);
    const b = pod.start({ slot: 'b', version: 'v2', env, cmd });
    await pod.waitForState(b, 'staged');
    await runningV2(a);
    await moreAnswers(load, 50);
    const report = await load.stop();
    expect(lossSummary(report)).toEqual(NO_LOSS);
    expect(report.versions.v2).toBeGreaterThan(0);
    expect(report.slots).toEqual({ a: report.ok });
  });
});
