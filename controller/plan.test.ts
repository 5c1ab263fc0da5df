import { describe, expect, it } from 'vitest';
import { ANNOTATIONS } from './constants.ts';
import { IMAGES, World, makeHd, setImage } from './fixtures.ts';

const cond = (w: World, type: string): string =>
  `${w.hd.status?.conditions?.find((c) => c.type === type)?.status}/${w.hd.status?.conditions?.find((c) => c.type === type)?.reason}`;

function count(images: string[], image: string): number {
  return images.filter((i) => i === image).length;
}

describe('scale', () => {
  it('creates the missing ordinals, each serving from slot a with b as the placeholder', () => {
    const w = new World(makeHd({ replicas: 3 }));
    const p = w.step();
    expect(p.creates.map((c) => c.metadata?.name)).toEqual(['demo-0', 'demo-1', 'demo-2']);
    const pod = p.creates[0];
    expect(pod?.spec?.containers.map((c) => `${c.name}=${c.image}`)).toEqual([
      'app-a=demo:v1',
      `app-b=${IMAGES.placeholderImage}`,
      `hotupgrade-sidecar=${IMAGES.sidecarImage}`,
    ]);
    expect(pod?.metadata?.annotations).toMatchObject({
      [ANNOTATIONS.version('a')]: 'v1',
      [ANNOTATIONS.version('b')]: '',
      [ANNOTATIONS.activeSlot]: 'a',
    });
    expect(pod?.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'HotDeployment', controller: true });
    w.settle();
    expect(cond(w, 'Available')).toBe('True/MinimumReplicasAvailable');
    expect(cond(w, 'Progressing')).toBe('True/RolloutComplete');
  });

  it('deletes the highest ordinals on scale down, all at once', () => {
    const w = new World(makeHd({ replicas: 5 }));
    w.settle();
    w.hd.spec.replicas = 2;
    const p = w.step();
    expect(p.deletes.map((d) => d.name).sort()).toEqual(['demo-2', 'demo-3', 'demo-4']);
    w.settle();
    expect(w.hd.status?.replicas).toBe(2);
  });
});

describe('a hot upgrade of one pod', () => {
  it('patches the placeholder slot, then resets the old slot once the new one is ready', () => {
    const w = new World(makeHd({ replicas: 1 }));
    w.settle();
    setImage(w.hd, 'demo:v2');
    const start = w.step();
    expect(start.pods.map((a) => a.kind)).toEqual(['start']);
    expect(start.pods[0]?.patch.images).toEqual({ 'app-b': 'demo:v2' });
    expect(start.pods[0]?.patch.annotations[ANNOTATIONS.version('b')]).toBe('v2');
    // Slot b's HOTUPGRADE_ACTIVE_SLOT must name itself, which makes it the successor.
    expect(start.pods[0]?.patch.annotations[ANNOTATIONS.activeSlot]).toBe('b');
    const done = w.step();
    expect(done.pods.map((a) => a.kind)).toEqual(['complete']);
    expect(done.pods[0]?.patch.images).toEqual({ 'app-a': IMAGES.placeholderImage });
    expect(done.pods[0]?.patch.annotations[ANNOTATIONS.activeSlot]).toBe('b');
    expect(done.handovers).toEqual([{ result: 'succeeded', durationMs: 0 }]);
    w.settle();
    expect(w.images()).toEqual(['demo:v2']);
    expect(w.activeSlots()).toEqual(['b']);
    expect(w.writes).toBe(3); // create + start + complete
  });

  it('targets slot a on the next upgrade: the roles swapped', () => {
    const w = new World(makeHd({ replicas: 1 }));
    w.settle();
    setImage(w.hd, 'demo:v2');
    w.settle();
    setImage(w.hd, 'demo:v3');
    expect(w.step().pods[0]?.patch.images).toEqual({ 'app-a': 'demo:v3' });
    w.settle();
    expect(w.activeSlots()).toEqual(['a']);
  });

  it('binary mode stages in the placeholder slot and keeps the active slot', () => {
    const w = new World(makeHd({ replicas: 1, mode: 'binary' }));
    w.settle();
    setImage(w.hd, 'demo:v2');
    w.step();
    const done = w.step();
    expect(done.pods[0]?.patch.images).toEqual({ 'app-b': IMAGES.placeholderImage });
    w.settle();
    expect(w.images()).toEqual(['demo:v2']);
    expect(w.activeSlots()).toEqual(['a']);
  });
});

describe('a rollout in batches', () => {
  // 10 pods, batches 1 / 50% / 100%: manual approval after the first, 30 s after the second.
  const strategy = {
    maxUnavailable: '100%',
    batches: [
      { replicas: 1, pause: { manual: true } },
      { replicas: '50%', pause: { seconds: 30 } },
      { replicas: '100%' },
    ],
  };

  it.each([
    ['step 1/3: one pod, then awaiting approval', 0, 1, 'AwaitingApproval'],
    ['step 2/3: half the pods, then a 30 s pause', 1, 5, 'Paused'],
    ['step 3/3: every pod', 2, 10, 'Completed'],
  ])('10 pods, batches 1/50%%/100%%, %s', (_title, approvals, updated, state) => {
    const w = new World(makeHd({ replicas: 10, strategy: structuredClone(strategy) }));
    w.settle();
    setImage(w.hd, 'demo:v2');
    w.settle();
    if (approvals >= 1) {
      const rev = w.hd.status?.updateRevision ?? '';
      expect(w.hd.status?.batch).toMatchObject({ number: 1, state: 'AwaitingApproval' });
      expect(cond(w, 'Paused')).toBe('True/AwaitingApproval');
      w.hd.spec.updateStrategy = { ...w.hd.spec.updateStrategy, approved: { revision: rev, batch: 2 } };
      w.settle();
    }
    if (approvals >= 2) {
      expect(w.hd.status?.batch).toMatchObject({ number: 2, state: 'Paused' });
      w.nowMs += 31_000;
      w.settle();
    }
    expect(count(w.images(), 'demo:v2')).toBe(updated);
    expect(w.hd.status?.updatedReplicas).toBe(updated);
    expect(w.hd.status?.batch?.state).toBe(state);
    expect(w.hd.status?.batch?.total).toBe(3);
  });

  it('a batch that resolves to no new pods does not swallow the pause before it', () => {
    // 3 replicas: 2, then 50% (= 2), then 100%: the manual pause after the first batch holds.
    const w = new World(
      makeHd({
        replicas: 3,
        strategy: {
          maxUnavailable: 3,
          batches: [{ replicas: 2, pause: { manual: true } }, { replicas: '50%' }],
        },
      }),
    );
    w.settle();
    setImage(w.hd, 'demo:v2');
    w.settle();
    expect(count(w.images(), 'demo:v2')).toBe(2);
    expect(w.hd.status?.batch?.state).toBe('AwaitingApproval');
  });

  it('upgrades the highest ordinals first', () => {
    const w = new World(
      makeHd({ replicas: 4, strategy: { batches: [{ replicas: 2, pause: { manual: true } }] } }),
    );
    w.settle();
    setImage(w.hd, 'demo:v2');
    w.settle();
    expect(w.images()).toEqual(['demo:v1', 'demo:v1', 'demo:v2', 'demo:v2']);
  });

  it('an approval for another rollout does not carry over', () => {
    const w = new World(
      makeHd({ replicas: 4, strategy: { batches: [{ replicas: 1, pause: { manual: true } }] } }),
    );
    w.settle();
    w.hd.spec.updateStrategy = {
      ...w.hd.spec.updateStrategy,
      approved: { revision: 'old-rollout', batch: 9 },
    };
    setImage(w.hd, 'demo:v2');
    w.settle();
    expect(count(w.images(), 'demo:v2')).toBe(1);
  });

  it('maxUnavailable bounds the pods upgrading at once', () => {
    const w = new World(makeHd({ replicas: 8, strategy: { maxUnavailable: 2 } }));
    w.settle();
    setImage(w.hd, 'demo:v2');
    const p = w.step();
    expect(p.pods.filter((a) => a.kind === 'start')).toHaveLength(2);
    w.settle();
    expect(count(w.images(), 'demo:v2')).toBe(8);
  });

  it('a pod whose kubelet has not yet reported a slot restart counts as unavailable, though it still says Ready', () => {
    const w = new World(makeHd({ replicas: 4, strategy: { maxUnavailable: 1 } }));
    w.settle();
    // demo-3's idle slot was just patched (a reset); its status still shows the old image and Ready.
    const c = w.pods.get('demo-3')?.spec?.containers.find((x) => x.name === 'app-b');
    if (c) c.image = 'hotupgrade.local/placeholder:2';
    setImage(w.hd, 'demo:v2');
    expect(w.plan().pods.filter((a) => a.kind === 'start')).toHaveLength(0);
  });

  it('partition keeps the lowest ordinals at the old version', () => {
    const w = new World(makeHd({ replicas: 5, strategy: { partition: 2 } }));
    w.settle();
    setImage(w.hd, 'demo:v2');
    w.settle();
    expect(w.images()).toEqual(['demo:v1', 'demo:v1', 'demo:v2', 'demo:v2', 'demo:v2']);
    w.hd.spec.updateStrategy = { partition: 0 };
    w.settle();
    expect(count(w.images(), 'demo:v2')).toBe(5);
  });

  it('paused starts nothing, and resumes where it stopped', () => {
    const w = new World(makeHd({ replicas: 4, strategy: { paused: true } }));
    w.settle();
    setImage(w.hd, 'demo:v2');
    w.settle();
    expect(count(w.images(), 'demo:v2')).toBe(0);
    expect(cond(w, 'Paused')).toBe('True/PausedBySpec');
    w.hd.spec.updateStrategy = { paused: false };
    w.settle();
    expect(count(w.images(), 'demo:v2')).toBe(4);
  });

  it('upgrades every pod exactly once', () => {
    const w = new World(
      makeHd({
        replicas: 20,
        strategy: { maxUnavailable: 3, batches: [{ replicas: '10%' }, { replicas: '60%' }] },
      }),
    );
    w.settle();
    setImage(w.hd, 'demo:v2');
    w.settle();
    for (const [pod, m] of w.starts) expect(m.get('demo:v2'), pod).toBe(1);
    expect(w.hd.status?.rolloutKind).toBe('None');
  });
});

describe('failures', () => {
  it.each([
    ['an image that cannot be pulled', 'pull', 'ImagePullFailed'],
    ['an image that crashes on start', 'crash', 'Crashed'],
    ['a version that never takes over', 'hang', 'HandoverDeadlineExceeded'],
  ] as const)('%s leaves the old version serving and marks the rollout Degraded', (_t, fate, reason) => {
    const w = new World(makeHd({ replicas: 3 }));
    w.settle();
    w.fates.set('demo:bad', fate);
    setImage(w.hd, 'demo:bad');
    for (
      let i = 0;
      i < 100 && !w.hd.status?.conditions?.some((c) => c.type === 'Degraded' && c.status === 'True');
      i++
    ) {
      w.step();
      w.nowMs += 5_000;
    }
    expect(cond(w, 'Degraded')).toBe('True/HandoverFailed');
    expect(w.hd.status?.conditions?.find((c) => c.type === 'Degraded')?.message).toContain(reason);
    w.settle();
    expect(w.images()).toEqual(['demo:v1', 'demo:v1', 'demo:v1']);
    // The failed slot is back to the placeholder, and nothing else was tried.
    const pod = [...w.pods.values()].find((p) => p.metadata?.annotations?.[ANNOTATIONS.failed]);
    expect(pod?.spec?.containers.find((c) => c.name === 'app-b')?.image).toBe(IMAGES.placeholderImage);
    expect([...w.pods.values()].filter((p) => p.metadata?.annotations?.[ANNOTATIONS.failed])).toHaveLength(1);
  });

  it('autoRollback writes the previous image back and hot-upgrades every pod to it', () => {
    const w = new World(makeHd({ replicas: 4, strategy: { autoRollback: true, maxUnavailable: 1 } }));
    w.settle();
    w.fates.set('demo:v2', 'ok');
    setImage(w.hd, 'demo:v2');
    // Two pods take v2; then v2 turns out to crash on the third.
    w.step();
    w.step();
    w.step();
    w.step();
    w.fates.set('demo:v2', 'crash');
    for (let i = 0; i < 50 && !w.hd.metadata.annotations?.[ANNOTATIONS.rollback]; i++) {
      w.step();
      w.nowMs += 1000;
    }
    expect(w.hd.spec.template.spec?.containers[0]?.image).toBe('demo:v1');
    w.settle();
    expect(w.images()).toEqual(['demo:v1', 'demo:v1', 'demo:v1', 'demo:v1']);
    expect(cond(w, 'Degraded')).toBe('True/RolledBack');
  });

  it('a rollback record is history after the next spec change: going back to its image later is an ordinary rollout', () => {
    const w = new World(makeHd({ replicas: 4, strategy: { autoRollback: true, maxUnavailable: 1 } }));
    w.settle();
    w.fates.set('demo:v2', 'crash');
    setImage(w.hd, 'demo:v2');
    for (let i = 0; i < 50 && !w.hd.metadata.annotations?.[ANNOTATIONS.rollback]; i++) {
      w.step();
      w.nowMs += 1000;
    }
    w.settle();
    expect(cond(w, 'Degraded')).toBe('True/RolledBack');
    // A fixed v3, then back to v1 on purpose: batches and maxUnavailable apply again.
    setImage(w.hd, 'demo:v3');
    w.settle();
    expect(w.images()).toEqual(['demo:v3', 'demo:v3', 'demo:v3', 'demo:v3']);
    expect(cond(w, 'Degraded')).toBe('False/Healthy');
    setImage(w.hd, 'demo:v1');
    const p = w.step();
    expect(p.pods.filter((a) => a.kind === 'start')).toHaveLength(1);
    w.settle();
    expect(w.images()).toEqual(['demo:v1', 'demo:v1', 'demo:v1', 'demo:v1']);
    expect(cond(w, 'Degraded')).toBe('False/Healthy');
  });

  it('a progress deadline with nothing moving marks the rollout Degraded', () => {
    const w = new World(makeHd({ replicas: 2, strategy: { progressDeadlineSeconds: 120 } }));
    w.settle();
    // A pod that never becomes ready blocks the rollout (maxUnavailable 1 is used up).
    const pod = w.pods.get('demo-0');
    if (pod?.status) pod.status.conditions = [{ type: 'Ready', status: 'False' }];
    setImage(w.hd, 'demo:v2');
    for (let i = 0; i < 40; i++) {
      w.step();
      w.nowMs += 10_000;
    }
    expect(cond(w, 'Progressing')).toBe('False/ProgressDeadlineExceeded');
    expect(cond(w, 'Degraded')).toBe('True/ProgressDeadlineExceeded');
  });
});

describe('template changes beyond the hot image', () => {
  it('recreate pods maxUnavailable at a time and say so', () => {
    const w = new World(makeHd({ replicas: 4, strategy: { maxUnavailable: 1 } }));
    w.settle();
    const c = w.hd.spec.template.spec?.containers[0];
    if (c) c.env = [{ name: 'X', value: '1' }];
    const p = w.step();
    expect(p.deletes).toEqual([expect.objectContaining({ name: 'demo-3', why: 'recreate' })]);
    expect(cond(w, 'Progressing')).toBe('True/RecreatingPods');
    w.settle();
    expect(
      new Set([...w.pods.values()].map((x) => x.metadata?.labels?.['hotupgrade.io/template-hash'])).size,
    ).toBe(1);
    expect(w.pods.size).toBe(4);
  });
});

describe('idempotence', () => {
  it('a plan made twice on the same objects writes the same thing, and stale writes are refused', () => {
    const w = new World(makeHd({ replicas: 3 }));
    w.settle();
    setImage(w.hd, 'demo:v2');
    const a = w.plan();
    const b = w.plan();
    expect(b.pods).toEqual(a.pods);
    w.step();
    // Replaying the first plan's writes: every one carries a stale resourceVersion.
    for (const x of a.pods)
      expect(w.pods.get(x.patch.pod)?.metadata?.resourceVersion).not.toBe(x.patch.resourceVersion);
  });

  it('a steady HotDeployment plans nothing', () => {
    const w = new World(makeHd({ replicas: 3 }));
    w.settle();
    const p = w.plan();
    expect(p.creates.length + p.deletes.length + p.pods.length).toBe(0);
  });
});
