// A rollout as a user drives it, on a real API server with the node simulator (fake
// mode): a manual pause approved with `kubectl patch`, `kubectl scale` up and down in the
// middle of it, then a template change that recreates pods maxUnavailable at a time.
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HotDeployment } from '../../controller/api/types.ts';
import { checkTier } from '../cluster/harness.ts';
import { demoImage, hdPath, startEnv, until, type Env } from './env.ts';
import {
  condition,
  createHd,
  events,
  fakeCatalog,
  listPods,
  rolledOut,
  rolloutHd,
  setImage,
  waitHd,
} from './fixtures.ts';

const skip = checkTier('control-plane');
const NS = 'rollout';
const NAME = 'web';
let env: Env;

beforeAll(async () => {
  if (skip) return;
  env = await startEnv('ctl-rollout', { mode: 'fake', images: fakeCatalog(), startDelayMs: 200 });
  await env.namespace(NS);
  await env.startController();
}, 120_000);

afterAll(async () => {
  await env?.stop();
});

const imageOf = (p: V1Pod): string => p.metadata?.annotations?.['hotupgrade.io/image'] ?? '';
const ordinal = (p: V1Pod): number => Number(p.metadata?.labels?.['hotupgrade.io/ordinal']);

async function scale(replicas: number): Promise<void> {
  const r = await env.client.patch(`${hdPath(NS, NAME)}/scale`, { spec: { replicas } }, 'merge');
  if (!r.ok) throw new Error(`scale: ${r.message}`);
}

describe.skipIf(skip)('a rollout driven by a user', () => {
  it('holds at a manual pause through a scale-up, goes on when approved, and scales down', async () => {
    const { client } = env;
    const hd = rolloutHd(NAME, NS, {
      replicas: 6,
      maxUnavailable: 2,
      batches: [{ replicas: 2, pause: { manual: true } }],
    });
    await createHd(client, hd);
    await waitHd(client, NS, NAME, 'six pods at v1', rolledOut(demoImage('v1'), 6));

    await setImage(client, NS, NAME, demoImage('v2'));
    const paused = await waitHd(
      client,
      NS,
      NAME,
      'the manual pause after batch 1',
      (h) => h.status?.batch?.state === 'AwaitingApproval',
    );
    expect(paused.status?.updatedReplicas).toBe(2);
    expect(condition(paused, 'Paused')).toBe('True/AwaitingApproval');
    const message = paused.status?.conditions?.find((c) => c.type === 'Paused')?.message ?? '';
    expect(message).toContain(`kubectl patch hotdeployment ${NAME} -n ${NS} --type merge -p`);
    // The event is written just after the status that announced the pause.
    await until('the AwaitingApproval event', 10_000, async () =>
      (await events(client, NS)).some((e) => e.reason === 'AwaitingApproval') ? true : undefined,
    );

    // kubectl scale during the pause: the new pods keep the old version (the rollout holds).
    await scale(9);
    await waitHd(
      client,
      NS,
      NAME,
      'nine ready pods',
      (h) => h.status?.readyReplicas === 9 && h.status.replicas === 9,
    );
    const during = await listPods(client, NS, NAME);
    expect(
      during
        .filter((p) => imageOf(p) === demoImage('v2'))
        .map(ordinal)
        .sort(),
    ).toEqual([4, 5]);

    // Approve with the patch the condition names.
    const body = /-p '(.*)'$/.exec(message)?.[1] ?? '';
    const approved = await client.patch(hdPath(NS, NAME), JSON.parse(body) as object, 'merge');
    expect(approved.ok).toBe(true);
    await waitHd(client, NS, NAME, 'all nine pods at v2', rolledOut(demoImage('v2'), 9));

    await scale(4);
    const small = await waitHd(
      client,
      NS,
      NAME,
      'four pods',
      (h) => h.status?.replicas === 4 && h.status.readyReplicas === 4,
    );
    expect(condition(small, 'Progressing')).toBe('True/RolloutComplete');
    expect((await listPods(client, NS, NAME)).map(ordinal).sort()).toEqual([0, 1, 2, 3]);
  });

  it('recreates pods for a template change other than the image, and says so', async () => {
    const { client } = env;
    const before = await listPods(client, NS, NAME);
    const r = await client.patch(
      hdPath(NS, NAME),
      [
        {
          op: 'add',
          path: '/spec/template/spec/containers/0/env/-',
          value: { name: 'FEATURE', value: 'on' },
        },
      ],
      'json',
    );
    expect(r.ok, r.ok ? '' : r.message).toBe(true);
    let sawRecreating = false;
    const done = await waitHd(client, NS, NAME, 'the recreate rollout', (h: HotDeployment) => {
      if (condition(h, 'Progressing') === 'True/RecreatingPods') sawRecreating = true;
      return sawRecreating && rolledOut(demoImage('v2'), 4)(h);
    });
    expect(done.status?.rolloutKind).toBe('None');
    const after = await listPods(client, NS, NAME);
    expect(after).toHaveLength(4);
    const uids = new Set(before.map((p) => p.metadata?.uid));
    expect(after.every((p) => !uids.has(p.metadata?.uid))).toBe(true);
    expect(new Set(after.map((p) => p.metadata?.labels?.['hotupgrade.io/template-hash'])).size).toBe(1);
    expect(after.every((p) => imageOf(p) === demoImage('v2'))).toBe(true);
  });
});
