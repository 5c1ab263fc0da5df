// Binary mode through the controller, with real processes: the demo server under the
// launcher in slot a; an upgrade makes slot b run the new image only to stage it, the
// launcher in slot a switches to it on the same sockets, and b goes back to the
// placeholder. Slot a never stops serving, so the pod keeps its active slot.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoad } from '../../demo/loadgen.ts';
import { checkTier } from '../cluster/harness.ts';
import { projectCatalog } from '../nodesim/catalog.ts';
import { IMAGES, startEnv, type Env } from './env.ts';
import { condition, createHd, demoHd, listPods, rolledOut, setImage, waitHd } from './fixtures.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const image = (v: string): string => `hotupgrade.local/demo-binary:${v}`;
// The image's entrypoint: the launcher serves in the active slot and stages in the other.
const launcher = {
  run: {
    argv: ['node', `${REPO}launcher/main.ts`, '--from', `${REPO}demo`, '--', 'node', `${REPO}demo/server.ts`],
  },
};
const skip = checkTier('control-plane');
const NS = 'binary';
let env: Env;

beforeAll(async () => {
  if (skip) return;
  env = await startEnv('ctl-binary', {
    images: { ...projectCatalog(), [image('v1')]: launcher, [image('v2')]: launcher },
  });
  await env.namespace(NS);
  await env.startController();
}, 120_000);

afterAll(async () => {
  await env?.stop();
});

describe.skipIf(skip)('binary mode through the controller', () => {
  it('stages v2 in slot b, switches slot a to it under load, and resets b', async () => {
    const { client } = env;
    const hd = demoHd('bin', NS, { replicas: 2, image: image('v1') });
    hd.spec.mode = 'binary';
    await createHd(client, hd);
    await waitHd(client, NS, 'bin', 'two ready pods at v1', rolledOut(image('v1'), 2));
    const before = await listPods(client, NS, 'bin');
    const loads = before.map((p, i) =>
      startLoad({
        url: `http://${p.status?.podIP ?? ''}:8080`,
        rate: 100,
        sessions: 100,
        firstSession: i * 100,
        keepAliveShare: 0.5,
        durationMs: 120_000,
      }),
    );
    await new Promise((r) => setTimeout(r, 1000));
    await setImage(client, NS, 'bin', image('v2'));
    const done = await waitHd(client, NS, 'bin', 'the rollout to v2', rolledOut(image('v2'), 2));
    await new Promise((r) => setTimeout(r, 500));
    const reports = await Promise.all(loads.map((l) => l.stop()));
    for (const r of reports) {
      expect(r.failed, JSON.stringify(r.failureReasons)).toBe(0);
      expect(r.sessionsLost).toBe(0);
      expect(r.versions.v2).toBeGreaterThan(0);
      expect(Object.keys(r.slots)).toEqual(['a']);
    }
    expect(condition(done, 'Degraded')).toBe('False/Healthy');
    for (const p of await listPods(client, NS, 'bin')) {
      expect(p.metadata?.annotations?.['hotupgrade.io/active-slot']).toBe('a');
      expect(p.metadata?.annotations?.['hotupgrade.io/image']).toBe(image('v2'));
      const b = p.spec?.containers.find((c) => c.name === 'app-b');
      expect(b?.image).toBe(IMAGES.placeholder);
      // Slot a was never restarted: the switch happened inside it.
      expect(p.status?.containerStatuses?.find((c) => c.name === 'app-a')?.restartCount).toBe(0);
    }
  });
});
