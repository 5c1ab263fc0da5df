import { describe, expect, it } from 'vitest';
import { busyPct, parseProcStat } from './machine.ts';

const STAT = 'cpu  100 10 50 800 40 0 0 0 0 0\ncpu0 50 5 25 400 20 0 0 0 0 0\nintr 1 2 3\n';

describe('parseProcStat', () => {
  it('counts idle and iowait as idle and the rest as busy', () => {
    expect(parseProcStat(STAT)).toEqual({ busy: 160, total: 1000 });
  });
  it('refuses a text without the aggregate line, saying which', () => {
    expect(() => parseProcStat('cpu0 1 2 3')).toThrow('no aggregate "cpu" line');
  });
});

describe('busyPct', () => {
  it.each([
    {
      name: 'all of the new ticks busy is 100%',
      a: { busy: 0, total: 0 },
      b: { busy: 200, total: 200 },
      want: 100,
    },
    { name: 'a quarter busy is 25%', a: { busy: 100, total: 1000 }, b: { busy: 150, total: 1200 }, want: 25 },
    { name: 'no time passed is 0, not NaN', a: { busy: 5, total: 5 }, b: { busy: 5, total: 5 }, want: 0 },
  ])('$name', ({ a, b, want }) => expect(busyPct(a, b)).toBe(want));
});

describe('codeHash', () => {
  it('changes when a source file changes and ignores tests', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const { codeHash } = await import('./machine.ts');
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'codehash-'));
    try {
      fs.mkdirSync(path.join(root, 'sdk'));
      fs.writeFileSync(path.join(root, 'sdk/a.ts'), 'export const a = 1;');
      const h1 = codeHash(root, ['sdk', 'missing']);
      fs.writeFileSync(path.join(root, 'sdk/a.test.ts'), 'test');
      expect(codeHash(root, ['sdk'])).toBe(h1);
      fs.writeFileSync(path.join(root, 'sdk/a.ts'), 'export const a = 2;');
      expect(codeHash(root, ['sdk'])).not.toBe(h1);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
