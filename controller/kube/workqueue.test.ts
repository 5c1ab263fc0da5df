import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FakeClock } from './clock.ts';
import { WorkQueue } from './workqueue.ts';

function setup(): { q: WorkQueue<string>; clock: FakeClock; registry: Registry } {
  const clock = new FakeClock();
  const registry = new Registry();
  return { q: new WorkQueue<string>({ name: 'test', clock, registry }), clock, registry };
}

// Keys handed out right now, without waiting (len tells how many are queued).
async function drain(q: WorkQueue<string>): Promise<string[]> {
  const out: string[] = [];
  for (let n = q.len; n > 0; n--) out.push((await q.get()) as string);
  return out;
}

async function metric(registry: Registry, name: string): Promise<number | undefined> {
  const m = await registry.getSingleMetric(name)?.get();
  return m?.values.find((v) => v.labels.name === 'test' && !('le' in v.labels))?.value;
}

describe('WorkQueue', () => {
  it('queues a key once however often it is added, in first-added order', async () => {
    const { q } = setup();
    for (const k of ['a', 'b', 'a', 'c', 'b']) q.add(k);
    expect(q.len).toBe(3);
    expect(await drain(q)).toEqual(['a', 'b', 'c']);
  });

  it('never hands a key to two workers: re-added while processing, it comes back after done', async () => {
    const { q } = setup();
    q.add('a');
    const first = await q.get();
    q.add('a');
    expect(q.len).toBe(0);
    q.done(first as string);
    expect(q.len).toBe(1);
    expect(await q.get()).toBe('a');
  });

  it('is done with a key that was not re-added', async () => {
    const { q } = setup();
    q.add('a');
    q.done((await q.get()) as string);
    expect(q.len).toBe(0);
  });

  it('wakes a waiting worker when a key arrives', async () => {
    const { q } = setup();
    const waiting = q.get();
    q.add('x');
    expect(await waiting).toBe('x');
  });

  it('on shutdown resolves waiting workers with undefined, still hands out queued keys and ignores new ones', async () => {
    const { q } = setup();
    const waiting = q.get();
    q.shutDown();
    expect(await waiting).toBeUndefined();
    const { q: q2 } = setup();
    q2.add('left');
    q2.shutDown();
    q2.add('late');
    expect(await q2.get()).toBe('left');
    expect(await q2.get()).toBeUndefined();
  });

  it('gives up waiting when the signal aborts, without taking a later key', async () => {
    const { q } = setup();
    const ac = new AbortController();
    const waiting = q.get(ac.signal);
    ac.abort();
    expect(await waiting).toBeUndefined();
    q.add('a');
    expect(q.len).toBe(1);
    expect(await q.get()).toBe('a');
  });

  it('adds a delayed key only once its time has come', () => {
    const { q, clock } = setup();
    q.addAfter('a', 100);
    clock.advance(99);
    expect(q.len).toBe(0);
    clock.advance(1);
    expect(q.len).toBe(1);
  });

  it.each([
    { title: 'a second, earlier addAfter wins', first: 500, second: 100, readyAt: 100 },
    { title: 'a second, later addAfter is ignored', first: 100, second: 500, readyAt: 100 },
  ])('$title', ({ first, second, readyAt }) => {
    const { q, clock } = setup();
    q.addAfter('a', first);
    q.addAfter('a', second);
    clock.advance(readyAt - 1);
    expect(q.len).toBe(0);
    clock.advance(1);
    expect(q.len).toBe(1);
    clock.advance(1000);
    expect(q.len).toBe(1);
  });

  it('hands out delayed keys in the order their times come', async () => {
    const { q, clock } = setup();
    q.addAfter('late', 300);
    q.addAfter('early', 100);
    q.addAfter('now', 0);
    clock.advance(1000);
    expect(await drain(q)).toEqual(['now', 'early', 'late']);
    expect(clock.pending).toBe(0);
  });

  it('backs a failing key off 5, 10, 20 ms and starts over after forget', async () => {
    const { q, clock } = setup();
    const readyAfter = async (): Promise<number> => {
      q.addRateLimited('a');
      for (let ms = 0; ms < 10_000; ms++) {
        if (q.len > 0) {
          q.done((await q.get()) as string);
          return ms;
        }
        clock.advance(1);
      }
      return -1;
    };
    expect([await readyAfter(), await readyAfter(), await readyAfter()]).toEqual([5, 10, 20]);
    expect(q.numRequeues('a')).toBe(3);
    q.forget('a');
    expect(q.numRequeues('a')).toBe(0);
    expect(await readyAfter()).toBe(5);
  });

  it('counts adds, retries and depth under the queue name', async () => {
    const { q, registry } = setup();
    q.add('a');
    q.add('a');
    q.add('b');
    q.addRateLimited('c');
    expect(await metric(registry, 'workqueue_depth')).toBe(2);
    expect(await metric(registry, 'workqueue_adds_total')).toBe(2);
    expect(await metric(registry, 'workqueue_retries_total')).toBe(1);
  });

  it('reports how long the oldest key has been processed', async () => {
    const { q, clock, registry } = setup();
    q.add('a');
    await q.get();
    clock.advance(2500);
    expect(await metric(registry, 'workqueue_longest_running_processor_seconds')).toBe(2.5);
  });

  it('shares one registry between queues told apart by name', () => {
    const registry = new Registry();
    const a = new WorkQueue<string>({ name: 'a', registry, clock: new FakeClock() });
    const b = new WorkQueue<string>({ name: 'b', registry, clock: new FakeClock() });
    a.add('x');
    b.add('x');
    expect(a.len + b.len).toBe(2);
  });

  it('handles 10 000 keys in order', async () => {
    const { q } = setup();
    const keys = Array.from({ length: 10_000 }, (_, i) => `ns/pod-${i}`);
    for (const k of keys) q.add(k);
    const out = await drain(q);
    expect(out).toEqual(keys);
  });
});
