import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from './args.ts';
import { EXIT_TABLE } from './constants.ts';
import { helpText } from './help.ts';

describe('help', () => {
  it('lists every command and every exit code', () => {
    const text = helpText();
    for (const c of COMMANDS) expect(text).toMatch(new RegExp(`^  ${c} `, 'm'));
    for (const [code, what] of EXIT_TABLE) expect(text).toContain(`${String(code).padStart(3)}  ${what}`);
  });

  it.each(COMMANDS.filter((c) => c !== 'release'))(
    '%s --help shows its usage, an example and the exit codes',
    (c) => {
      const text = helpText(c);
      expect(text.startsWith(`kubectl hotupgrade ${c} `)).toBe(true);
      expect(text).toContain(`  kubectl hotupgrade ${c} hd/web`);
      expect(text).toContain('Exit codes:');
    },
  );

  it.each(COMMANDS.filter((c) => c !== 'release' && c !== 'upgrade'))(
    '%s --help says what it does to a HotRelease, with an example',
    (c) => {
      const text = helpText(c);
      expect(text).toContain('hr/NAME');
      expect(text).toContain(`  kubectl hotupgrade ${c} hr/web-v2`);
    },
  );

  it('release --help teaches the step mini-language with examples', () => {
    const text = helpText('release');
    expect(text.startsWith('kubectl hotupgrade release NAME --target HD --image IMAGE')).toBe(true);
    for (const words of [
      'upgrade=N@a,b',
      'pause=SECONDS',
      'gate=QUERY OP VALUE[; OPTION=VALUE]...',
      'interval=30',
      '--step pause',
      'Exit codes:',
    ]) {
      expect(text).toContain(words);
    }
  });

  it('says nothing is "not available" any more', () => {
    for (const c of [undefined, ...COMMANDS]) expect(helpText(c)).not.toMatch(/not available/);
  });

  it('docs/plugin.md has the same exit codes', () => {
    const doc = readFileSync(new URL('../docs/plugin.md', import.meta.url), 'utf8');
    for (const [code] of EXIT_TABLE) expect(doc).toMatch(new RegExp(`^\\| ${code} +\\|`, 'm'));
  });
});
