import { describe, expect, it } from 'vitest';
import { NdjsonSplitter } from './ndjson.ts';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('NdjsonSplitter', () => {
  it('returns each complete line as a value and keeps the partial one', () => {
    const s = new NdjsonSplitter();
    expect(s.push(bytes('{"a":1}\n{"b":'))).toEqual([{ a: 1 }]);
    expect(s.pending).toBeGreaterThan(0);
    expect(s.push(bytes('2}\n\n'))).toEqual([{ b: 2 }]);
    expect(s.pending).toBe(0);
  });

  it('joins a multi-byte character split across chunks', () => {
    const s = new NdjsonSplitter();
    const all = bytes('{"n":"é"}\n');
    const cut = all.indexOf(0xc3) + 1;
    expect(s.push(all.slice(0, cut))).toEqual([]);
    expect(s.push(all.slice(cut))).toEqual([{ n: 'é' }]);
  });

  it('throws on a malformed line', () => {
    expect(() => new NdjsonSplitter().push(bytes('not json\n'))).toThrow(SyntaxError);
  });
});
