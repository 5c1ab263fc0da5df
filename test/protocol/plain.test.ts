// The launcher's --plain mode: a server that knows nothing of the protocol (systemd
// socket activation, SIGTERM to stop) is hot-upgraded by changing only its entrypoint.
// Slot mode: the new slot's launcher listens on the same port, the old one's server is
// drained by SIGTERM, the lock moves; clients notice nothing and the counters, kept in
// shared memory by the server itself, continue.
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NO_LOSS, Pod, REPO, lossSummary, moreAnswers, servingNames, upgrade } from './harness.ts';

const LAUNCHER = path.join(REPO, 'launcher/main.ts');
const SERVER = path.join(REPO, 'test/protocol/fixtures/socketActivated.ts');

let pod: Pod;
beforeEach(async () => {
  pod = await Pod.create();
});
afterEach(async () => {
  await pod.cleanup();
});

describe('launcher --plain (socket activation, no SDK)', () => {
  it('v1 -> v2 -> v3 between slots: no request fails, every session continues, the lock moves', async () => {
    const cmd = [
      process.execPath,
      LAUNCHER,
      '--plain',
      '--listen',
      `127.0.0.1:${pod.port}`,
      '--',
      'node',
      SERVER,
    ];
    const a = pod.start({ slot: 'a', version: 'v1', cmd });
    await pod.waitForState(a, 'serving');
    const load = pod.load();
    await moreAnswers(load, 50);

    const b = await upgrade(pod, a, { slot: 'b', version: 'v2', cmd });
    await moreAnswers(load, 50);
    await a.reset();
    expect(servingNames(pod)).toEqual(['b']);

    await upgrade(pod, b, { slot: 'a', version: 'v3', cmd });
    await moreAnswers(load, 50);
    await b.reset();
    await moreAnswers(load, 50);
    const report = await load.stop();

    expect(lossSummary(report)).toEqual(NO_LOSS);
    expect(Object.keys(report.versions).sort()).toEqual(['v1', 'v2', 'v3']);
    expect(servingNames(pod)).toEqual(['a']);
    expect(pod.volume().lockHeld).toBe(true);
  });
});
