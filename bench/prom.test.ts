import { describe, expect, it } from 'vitest';
import { buckets, quantileBetween, sample, sumSamples } from './prom.ts';

const text = `# HELP x_total h
x_total{result="a",c="1"} 3
x_total{result="b",c="1"} 4
h_bucket{le="0.1"} 5
h_bucket{le="1"} 10
h_bucket{le="+Inf"} 10
`;

describe('prom', () => {
  it('reads one sample and sums many', () => {
    expect(sample(text, 'x_total', { result: 'b' })).toBe(4);
    expect(sumSamples(text, 'x_total')).toBe(7);
    expect(sample(text, 'y')).toBeUndefined();
  });

  it('estimates quantiles inside buckets, as histogram_quantile does', () => {
    const b = buckets(text, 'h');
    expect(quantileBetween([], b, 0.5)).toBeCloseTo(0.1);
    expect(quantileBetween([], b, 0.75)).toBeCloseTo(0.55);
    expect(quantileBetween(b, b, 0.5)).toBeNaN();
  });
});
