import { describe, expect, it } from 'vitest';
import { FakeClock } from './clock.ts';
import { ItemExponentialRateLimiter, defaultControllerRateLimiter } from './rateLimiter.ts';

describe('ItemExponentialRateLimiter', () => {
  it('doubles the delay on each failure of the same item, from 5 ms', () => {
    const rl = new ItemExponentialRateLimiter<string>();
    expect([rl.when('a'), rl.when('a'), rl.when('a'), rl.when('b')]).toEqual([5, 10, 20, 5]);
    expect(rl.numRequeues('a')).toBe(3);
  });

  it('caps the delay at 1000 s', () => {
    const rl = new ItemExponentialRateLimiter<string>();
    let last = 0;
    for (let i = 0; i < 100; i++) last = rl.when('a');
    expect(last).toBe(1_000_000);
  });

  it('starts over after forget', () => {
    const rl = new ItemExponentialRateLimiter<string>();
    rl.when('a');
    rl.when('a');
    rl.forget('a');
    expect(rl.numRequeues('a')).toBe(0);
    expect(rl.when('a')).toBe(5);
  });
});

describe('defaultControllerRateLimiter', () => {
  it('lets 100 different failing items through at the per-item delay, then spaces them at 10 qps', () => {
    const rl = defaultControllerRateLimiter<string>(new FakeClock());
    const delays = Array.from({ length: 102 }, (_, i) => rl.when(`k${i}`));
    expect(delays.slice(0, 100).every((d) => d === 5)).toBe(true);
    expect(delays[100]).toBeCloseTo(100);
    expect(delays[101]).toBeCloseTo(200);
  });
});
