import { describe, expect, it } from 'vitest';
import { compactPod } from './compactPod.ts';
import { IMAGES, World, makeHd, setImage } from './fixtures.ts';
import { plan } from './plan.ts';

describe('compactPod', () => {
  it('the controller decides the same from compact pods, at every step of rollouts that succeed and fail', () => {
    const w = new World(makeHd({ replicas: 4, strategy: { maxUnavailable: 2 } }));
    w.settle();
    w.fates.set('demo:bad', 'pull');
    w.fates.set('demo:crash', 'crash');
    const images = ['demo:v2', 'demo:bad', 'demo:crash', 'demo:v3'];
    for (let i = 0; i < 40; i++) {
      if (i % 10 === 0) setImage(w.hd, images[i / 10] ?? 'demo:v4');
      const pods = [...w.pods.values()];
      const full = plan({ hd: w.hd, pods, nowMs: w.nowMs, images: IMAGES });
      const small = plan({ hd: w.hd, pods: pods.map(compactPod), nowMs: w.nowMs, images: IMAGES });
      expect(small).toEqual(full);
      w.step();
      w.nowMs += 20_000;
    }
  });

  it('is several times smaller than the pod', () => {
    const w = new World(makeHd({ replicas: 1 }));
    w.settle();
    const pod = [...w.pods.values()][0] ?? {};
    expect(JSON.stringify(compactPod(pod)).length * 2).toBeLessThan(JSON.stringify(pod).length);
  });
});
