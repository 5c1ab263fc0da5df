import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listStaged, parseManifest, stage } from './binaries.ts';
import { nextStaged } from './binary.ts';

describe('staging binaries', () => {
  it('stages atomically, lists newest first and replaces a re-staged version', () => {
    const vol = fs.mkdtempSync(path.join(os.tmpdir(), 'hu-bin-'));
    const app = path.join(vol, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'server.js'), 'v');
    stage(vol, app, 'v2', ['node', 'server.js'], 100);
    stage(vol, app, 'v3', ['node', 'server.js'], 200);
    expect(listStaged(vol).map((s) => s.manifest.version)).toEqual(['v3', 'v2']);
    stage(vol, app, 'v2', ['node', 'server.js'], 300);
    expect(listStaged(vol).map((s) => s.manifest.version)).toEqual(['v2', 'v3']);
    expect(fs.readdirSync(path.join(vol, 'binaries')).sort()).toEqual(['v2', 'v3']);
    fs.mkdirSync(path.join(vol, 'binaries', 'half'));
    expect(listStaged(vol)).toHaveLength(2);
    fs.rmSync(vol, { recursive: true });
  });

  it('refuses a version that cannot name a directory', () => {
    expect(() => stage('/tmp', '/tmp', '../x', ['a'], 1)).toThrow(/cannot name a directory/);
  });

  it.each([
    ['{', /not valid JSON/],
    ['{"protocol":1,"version":"v2","command":[],"stagedAtMs":1}', /"command"/],
    ['{"protocol":1,"version":"v2","command":["x"]}', /"stagedAtMs"/],
  ])('rejects manifest %s', (text, message) => {
    const r = parseManifest(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(message);
  });
});

describe('nextStaged', () => {
  const m = (version: string, stagedAtMs: number) => ({
    manifest: { protocol: 1, version, command: ['x'], stagedAtMs },
  });
  it.each([
    ['a newer staging of another version', [m('v2', 50)], 'v1', 10, 'v2'],
    ['nothing staged', [], 'v1', 10, undefined],
    ['a staging from before we started', [m('v2', 5)], 'v1', 10, undefined],
    ['the version we already run', [m('v1', 50)], 'v1', 10, undefined],
  ])('%s', (_t, staged, running, since, want) => {
    expect(nextStaged(staged, running, since, new Set())?.version).toBe(want);
  });
  it('skips a rejected staging', () => {
    expect(nextStaged([m('v2', 50)], 'v1', 10, new Set(['v2@50']))).toBeUndefined();
  });
});
