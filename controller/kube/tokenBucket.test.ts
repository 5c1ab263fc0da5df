import { describe, expect, it } from 'vitest';
import { TokenBucket } from './tokenBucket.ts';

describe('TokenBucket', () => {
  it('lets a burst through at once, then spaces requests at 1/qps', () => {
    const b = new TokenBucket({ qps: 10, burst: 3 }, 0);
    expect([b.reserve(0), b.reserve(0), b.reserve(0)]).toEqual([0, 0, 0]);
    // The 4th and 5th wait for the 1st and 2nd refilled tokens: 100 ms and 200 ms.
    expect(b.reserve(0)).toBeCloseTo(100);
    expect(b.reserve(0)).toBeCloseTo(200);
  });

  it('refills with time but never above burst', () => {
    const b = new TokenBucket({ qps: 10, burst: 2 }, 0);
    b.reserve(0);
    b.reserve(0);
    expect(b.tokens(50)).toBeCloseTo(0.5);
    expect(b.tokens(10_000)).toBe(2);
  });

  it.each([
    { title: 'qps 0 means unlimited', qps: 0 },
    { title: 'qps Infinity means unlimited', qps: Infinity },
  ])('$title', ({ qps }) => {
    const b = new TokenBucket({ qps, burst: 1 }, 0);
    for (let i = 0; i < 1000; i++) expect(b.reserve(0)).toBe(0);
  });

  it('tryTake refuses without reserving when the bucket is empty', () => {
    const b = new TokenBucket({ qps: 1, burst: 1 }, 0);
    expect(b.tryTake(0)).toBe(true);
    expect(b.tryTake(500)).toBe(false);
    expect(b.tryTake(1000)).toBe(true);
  });

  it('does not drain the bucket when the clock steps back', () => {
    const b = new TokenBucket({ qps: 10, burst: 5 }, 1000);
    expect(b.tokens(0)).toBe(5);
    expect(b.reserve(500)).toBe(0);
  });

  it.each([
    { title: 'a negative qps is refused', qps: -1, burst: 1 },
    { title: 'a burst below 1 is refused', qps: 1, burst: 0 },
  ])('$title', ({ qps, burst }) => {
    expect(() => new TokenBucket({ qps, burst }, 0)).toThrow(/token bucket/);
  });
});
