import { describe, expect, it } from 'vitest';
import { mergePatch } from './mergePatch.ts';

describe('mergePatch', () => {
  it.each([
    ['nothing changed', { a: 1, b: { c: 2 } }, { a: 1, b: { c: 2 } }, undefined],
    ['a field changed', { a: 1 }, { a: 2 }, { a: 2 }],
    ['a nested field is gone', { b: { c: 2, d: 3 } }, { b: { c: 2 } }, { b: { d: null } }],
    ['a list changed', { l: [1, 2] }, { l: [1] }, { l: [1] }],
    ['a field is new', {}, { x: { y: 1 } }, { x: { y: 1 } }],
  ])('%s', (_t, prev, next, patch) => {
    expect(mergePatch(prev, next)).toEqual(patch);
  });
});
