// The placeholder's announcement against a real shared volume in a temporary directory.
// OFD locks taken here conflict with the probes exactly as another process's would.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PLACEHOLDER_VERSION } from '../sdk/constants.ts';
import { makeFile } from '../sdk/fixtures.ts';
import { readVersionFile, writeVersionFile } from '../sdk/versionFile.ts';
import { ensureVolume, holdAlive, isActiveLockHeld, isSlotAlive } from '../sdk/volume.ts';
import { announce, placeholderFile, stoppedFile } from './announce.ts';

const start = { now: 5_000, pid: 77, instance: 'p-1' };
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hu-placeholder-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const env = (over: Record<string, string | undefined> = {}): Record<string, string | undefined> => ({
  HOTUPGRADE_DIR: '/hotupgrade',
  HOTUPGRADE_SLOT: 'b',
  HOTUPGRADE_VERSION: '',
  ...over,
});

describe('placeholderFile', () => {
  it('describes an idle standby in state placeholder, fresh instance, pid and timestamps', () => {
    expect(placeholderFile(env(), start)).toEqual({
      ok: true,
      dir: '/hotupgrade',
      notes: [],
      file: {
        protocol: 1,
        slot: 'b',
        version: PLACEHOLDER_VERSION,
        mode: 'slot',
        state: 'placeholder',
        role: 'standby',
        pid: 77,
        instance: 'p-1',
        startedAtMs: 5_000,
        updatedAtMs: 5_000,
      },
    });
  });

  it.each<[string, Record<string, string | undefined>, Record<string, unknown>, string[]]>([
    ['the version is HOTUPGRADE_VERSION when set', { HOTUPGRADE_VERSION: 'v2' }, { version: 'v2' }, []],
    ['binary mode is taken from HOTUPGRADE_MODE', { HOTUPGRADE_MODE: 'binary' }, { mode: 'binary' }, []],
    [
      'an unknown mode is written as slot, with a note',
      { HOTUPGRADE_MODE: 'blue' },
      { mode: 'slot' },
      ['HOTUPGRADE_MODE="blue" is not "slot" or "binary"'],
    ],
    [
      'a version too long for a version file is replaced, with a note',
      { HOTUPGRADE_VERSION: 'v'.repeat(300) },
      { version: PLACEHOLDER_VERSION },
      ['longer than 256'],
    ],
  ])('%s', (_t, over, want, notes) => {
    const plan = placeholderFile(env(over), start);
    expect(plan.ok).toBe(true);
    if (!plan.ok) return;
    expect(plan.file).toMatchObject(want);
    expect(plan.notes).toHaveLength(notes.length);
    notes.forEach((n, i) => expect(plan.notes[i]).toContain(n));
  });

  it.each<[string, Record<string, string | undefined>, string]>([
    ['HOTUPGRADE_DIR is not set', { HOTUPGRADE_DIR: undefined }, 'HOTUPGRADE_DIR not set'],
    ['HOTUPGRADE_SLOT is empty', { HOTUPGRADE_SLOT: '' }, 'HOTUPGRADE_SLOT not set'],
    ['neither is set', { HOTUPGRADE_DIR: undefined, HOTUPGRADE_SLOT: undefined }, 'and HOTUPGRADE_SLOT'],
    ['the slot name is invalid', { HOTUPGRADE_SLOT: 'B B' }, 'is not a slot name'],
  ])('does not announce when %s', (_t, over, reason) => {
    const plan = placeholderFile(env(over), start);
    expect(plan.ok).toBe(false);
    if (!plan.ok) expect(plan.reason).toContain(reason);
  });
});

describe('announce', () => {
  it('writes its version file, holds the liveness lock and never the active lock', async () => {
    const dir = tempDir();
    const a = await announce(env({ HOTUPGRADE_DIR: dir }), start);
    expect(a.kind).toBe('announced');
    if (a.kind !== 'announced') return;
    cleanups.push(() => fs.closeSync(a.aliveFd));
    expect(readVersionFile(dir, 'b')).toEqual({ kind: 'ok', file: a.file });
    expect(a.file.state).toBe('placeholder');
    expect(isSlotAlive(dir, 'b')).toBe(true);
    expect(isActiveLockHeld(dir)).toBe(false);
    expect(fs.existsSync(path.join(dir, 'active.lock'))).toBe(false);
  });

  it("replaces a dead process's stale file of its slot", async () => {
    const dir = tempDir();
    ensureVolume(dir);
    writeVersionFile(dir, makeFile({ slot: 'b', state: 'waiting', role: 'successor' }));
    const a = await announce(env({ HOTUPGRADE_DIR: dir }), start);
    if (a.kind === 'announced') cleanups.push(() => fs.closeSync(a.aliveFd));
    expect(readVersionFile(dir, 'b')).toMatchObject({ kind: 'ok', file: { state: 'placeholder' } });
  });

  it('stays silent and leaves the file alone when a live process holds the slot', async () => {
    const dir = tempDir();
    ensureVolume(dir);
    const serving = makeFile({ slot: 'b', state: 'serving' });
    writeVersionFile(dir, serving);
    const fd = holdAlive(dir, 'b');
    cleanups.push(() => fs.closeSync(fd));
    const a = await announce(env({ HOTUPGRADE_DIR: dir }), start);
    expect(a).toMatchObject({ kind: 'silent' });
    if (a.kind === 'silent') expect(a.reason).toContain('already in use by a live process');
    expect(readVersionFile(dir, 'b')).toEqual({ kind: 'ok', file: serving });
  });

  it('stays silent and creates nothing when the shared volume is not there', async () => {
    const dir = path.join(tempDir(), 'missing');
    const a = await announce(env({ HOTUPGRADE_DIR: dir }), start);
    expect(a).toMatchObject({ kind: 'silent' });
    if (a.kind === 'silent') expect(a.reason).toContain('is not a directory');
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('says stopped as its last word, keeping who it was', () => {
    const plan = placeholderFile(env(), start);
    if (!plan.ok) throw new Error('test setup');
    expect(stoppedFile(plan.file, 9_000)).toEqual({ ...plan.file, state: 'stopped', updatedAtMs: 9_000 });
  });
});
