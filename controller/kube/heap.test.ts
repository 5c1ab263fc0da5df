import { describe, expect, it } from 'vitest';
import { MinHeap } from './heap.ts';

describe('MinHeap', () => {
  it('pops in ascending order whatever the push order', () => {
    const h = new MinHeap<number>((a, b) => a < b);
    const xs = Array.from({ length: 200 }, (_, i) => (i * 7919) % 211);
    for (const x of xs) h.push(x);
    const out: number[] = [];
    while (h.size) out.push(h.pop() as number);
    expect(out).toEqual([...xs].sort((a, b) => a - b));
    expect(h.pop()).toBeUndefined();
  });
});
