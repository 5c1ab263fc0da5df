import { describe, expect, it } from 'vitest';
import { backoffMs } from './backoff.ts';

describe('backoffMs', () => {
  it.each([
    { title: 'no failure means no delay', failures: 0, ms: 0 },
    { title: 'the first failure waits the initial delay', failures: 1, ms: 200 },
    { title: 'each further failure doubles the delay', failures: 4, ms: 1600 },
    { title: 'the delay stops growing at the maximum', failures: 10, ms: 30_000 },
    { title: 'a huge failure count still gives the maximum', failures: 10_000, ms: 30_000 },
  ])('$title', ({ failures, ms }) => {
    expect(backoffMs(failures)).toBe(ms);
  });

  it('adds at most 10 % jitter', () => {
    expect(backoffMs(1, { initialMs: 1000, maxMs: 5000 }, 0.999)).toBe(1100);
  });
});
