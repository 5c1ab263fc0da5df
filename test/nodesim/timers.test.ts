import { describe, expect, it } from 'vitest';
import { TimerQueue } from './timers.ts';

describe('TimerQueue', () => {
  it('fires in due order, same-time entries in insertion order, and skips cancelled ones', async () => {
    const q = new TimerQueue();
    const fired: string[] = [];
    q.after(30, () => fired.push('c'));
    q.after(10, () => fired.push('a'));
    const x = q.after(20, () => fired.push('x'));
    q.after(10, () => fired.push('b'));
    q.after(0, () => fired.push('now'));
    x.cancel();
    await new Promise((r) => setTimeout(r, 80));
    expect(fired).toEqual(['now', 'a', 'b', 'c']);
    q.stop();
  });

  it('handles many entries with one Node timer', async () => {
    const q = new TimerQueue();
    let n = 0;
    for (let i = 0; i < 10_000; i++) q.after(i % 50, () => n++);
    await new Promise((r) => setTimeout(r, 150));
    expect(n).toBe(10_000);
    expect(q.size()).toBe(0);
    q.stop();
  });
});
