import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { staleFiles } from './gen.ts';

describe('generated monitoring files', () => {
  it('charts/hotupgrade/files/ matches monitoring/ (else run npm run monitoring)', async () => {
    expect(await staleFiles()).toEqual([]);
  });

  it('npm run monitoring -- --check exits 0 when nothing is stale', async () => {
    const gen = fileURLToPath(new URL('gen.ts', import.meta.url));
    const { stderr } = await promisify(execFile)(process.execPath, [gen, '--check'], { timeout: 30_000 });
    expect(stderr).toBe('');
  });
});
