import { describe, expect, it } from 'vitest';
import { ALERTS } from './alerts.ts';
import { ROWS } from './dashboard.ts';
import { MEMBER_ALERTS, allQueries, substitute } from './queries.ts';

describe('substitute', () => {
  it.each([
    {
      title: 'all namespaces and HotDeployments become .*',
      vars: {},
      expected: 'x{namespace=~".*", name=~".*"}[1m] [15m]',
    },
    {
      title: 'one value is matched as itself',
      vars: { namespace: 'shop', hotdeployment: ['cart'] },
      expected: 'x{namespace=~"shop", name=~"cart"}[1m] [15m]',
    },
    {
      title: 'several values become an alternation, dots escaped for the regex and the string',
      vars: { namespace: ['shop', 'a.b'], rateInterval: '30s', range: '1h' },
      expected: 'x{namespace=~"(shop|a\\\\.b)", name=~".*"}[30s] [1h]',
    },
  ])('$title', ({ vars, expected }) => {
    expect(
      substitute('x{namespace=~"$namespace", name=~"$hotdeployment"}[$__rate_interval] [$__range]', vars),
    ).toBe(expected);
  });
});

describe('allQueries', () => {
  const queries = allQueries();

  it('names every dashboard query after its panel and every alert after itself, uniquely', () => {
    const ids = queries.map((q) => q.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const row of ROWS)
      for (const p of row.panels)
        p.queries.forEach((_q, i) =>
          expect(ids).toContain(`dashboard/${p.id}/${String.fromCharCode(65 + i)}`),
        );
    for (const a of MEMBER_ALERTS) expect(ids).toContain(`alert/${a.name}`);
  });

  it("leaves out the hub's alerts: their series exist only where the hub runs", () => {
    const ids = queries.map((q) => q.id);
    const hub = ALERTS.filter((a) => a.component === 'hub').map((a) => `alert/${a.name}`);
    expect(hub.length).toBeGreaterThan(0);
    for (const id of hub) expect(ids).not.toContain(id);
  });

  it('leaves no template variable behind', () => {
    for (const q of queries) expect(q.expr, q.id).not.toMatch(/\$/);
  });

  it('gives alerts their base query, without the comparison', () => {
    for (const a of MEMBER_ALERTS) expect(queries.find((q) => q.id === `alert/${a.name}`)?.expr).toBe(a.base);
  });
});
