// The sidecar restarted in the middle of a handover (it is only an observer: the slots
// never wait for it). After its restart it must tell the truth at once, read from the
// shared volume: /readyz ready with the new active slot, /v1/state with both slots, the
// phase and the handover record. Clients never notice the sidecar at all.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  NO_LOSS,
  Pod,
  REPO,
  freePort,
  lossSummary,
  moreAnswers,
  startServing,
  type SlotProcess,
} from './harness.ts';

const SIDECAR = path.join(REPO, 'sidecar/server.ts');

let pod: Pod;
beforeEach(async () => {
  pod = await Pod.create();
});
afterEach(async () => {
  await pod.cleanup();
});

interface Answer {
  status: number;
  json: Record<string, unknown>;
}

async function getJson(port: number, urlPath: string): Promise<Answer | undefined> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}${urlPath}`, { signal: AbortSignal.timeout(3_000) });
    return { status: r.status, json: (await r.json()) as Record<string, unknown> };
  } catch {
    return undefined;
  }
}

function startSidecar(port: number): SlotProcess {
  return pod.spawn('sidecar', [process.execPath, SIDECAR], {
    HOTUPGRADE_SIDECAR_PORT: String(port),
    HOTUPGRADE_SIDECAR_HOST: '127.0.0.1',
  });
}

/** Polls until the sidecar answers `urlPath` and `ok` holds (bounded). */
async function sidecarSays(
  port: number,
  urlPath: string,
  ok: (a: Answer) => boolean,
  what: string,
): Promise<Answer> {
  let last: Answer | undefined;
  const probe = async (): Promise<Answer | undefined> => {
    last = await getJson(port, urlPath);
    return last && ok(last) ? last : undefined;
  };
  const until = Date.now() + 20_000;
  for (;;) {
    const a = await probe();
    if (a) return a;
    if (Date.now() > until)
      throw new Error(`sidecar ${urlPath}: ${what}; last answer ${JSON.stringify(last)}\n${pod.describe()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!fs.existsSync(SIDECAR))('sidecar restarted mid-handover', () => {
  it('reports the new active slot, both slots and the handover right after its restart; clients notice nothing', async () => {
    const port = await freePort();
    const a = await startServing(pod, { slot: 'a', version: 'v1' });
    let sidecar = startSidecar(port);
    await sidecarSays(
      port,
      '/readyz',
      (r) => r.status === 200 && r.json.activeSlot === 'a',
      'ready with a active',
    );
    const load = pod.load();
    await moreAnswers(load, 30);

    // Kill the sidecar as the handover starts, and bring it back while it runs or just after.
    const b = pod.start({ slot: 'b', version: 'v2' });
    await pod.waitForState(b, ['waiting', 'serving']);
    await sidecar.kill();
    sidecar = startSidecar(port);
    await pod.waitForState(b, 'serving');
    await pod.waitForState(a, 'idle');

    const ready = await sidecarSays(port, '/readyz', (r) => r.status === 200, 'ready');
    expect(ready.json).toMatchObject({ ready: true, activeSlot: 'b', activeVersion: 'v2' });
    const state = await sidecarSays(port, '/v1/state', (r) => r.status === 200, 'a state');
    expect(state.json).toMatchObject({
      serving: true,
      activeSlot: 'b',
      activeVersion: 'v2',
      phase: 'none',
      lastHandover: { from: { slot: 'a', version: 'v1' }, to: { slot: 'b', version: 'v2' } },
    });
    const slots = (state.json.slots as Array<Record<string, unknown>>).map((s) => [
      s.slot,
      s.alive,
      s.state,
      s.version,
    ]);
    expect(slots).toEqual([
      ['a', true, 'idle', 'v1'],
      ['b', true, 'serving', 'v2'],
    ]);
    await moreAnswers(load, 30);
    expect(lossSummary(await load.stop())).toEqual(NO_LOSS);

    // And when nobody serves, it says so at once.
    await Promise.all([a.kill(), b.kill()]);
    const down = await sidecarSays(
      port,
      '/readyz',
      (r) => r.status === 503,
      'not ready once both slots are gone',
    );
    expect(down.json).toMatchObject({ ready: false });
    expect(String(down.json.reason)).toContain('nobody holds the active lock');
  });
});
