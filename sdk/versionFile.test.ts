import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeFile } from './fixtures.ts';
import { parseVersionFile, readVersionFile, writeVersionFile, listSlots } from './versionFile.ts';

describe('parseVersionFile', () => {
  it('accepts a well-formed file', () => {
    const r = parseVersionFile(JSON.stringify(makeFile()));
    expect(r).toEqual({ ok: true, file: makeFile() });
  });

  it.each([
    ['an empty file', '', /empty/],
    ['truncated JSON', JSON.stringify(makeFile()).slice(0, 40), /not valid JSON.*truncated/],
    ['a JSON array', '[]', /JSON object/],
    ['another protocol', JSON.stringify(makeFile({ protocol: 2 })), /field "protocol" must be 1/],
    ['a bad slot name', JSON.stringify(makeFile({ slot: 'A B' })), /field "slot"/],
    ['an unknown state', JSON.stringify({ ...makeFile(), state: 'dancing' }), /field "state" must be one of/],
    ['a negative pid', JSON.stringify(makeFile({ pid: -1 })), /field "pid"/],
    ['a string timestamp', JSON.stringify({ ...makeFile(), servingAtMs: 'soon' }), /field "servingAtMs"/],
    ['a file over 64 KiB', JSON.stringify({ ...makeFile(), pad: 'x'.repeat(70_000) }), /larger than/],
  ])('rejects %s with a message naming the problem', (_name, text, message) => {
    const r = parseVersionFile(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(message);
  });

  it('rejects a file whose slot differs from its name', () => {
    const r = parseVersionFile(JSON.stringify(makeFile({ slot: 'b' })), 'a');
    expect(r.ok).toBe(false);
  });
});

describe('version files on disk', () => {
  it('round-trips, lists slots and reports missing and malformed files as values', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hu-vf-'));
    fs.mkdirSync(path.join(dir, 'slots'));
    expect(readVersionFile(dir, 'a')).toEqual({ kind: 'missing' });
    writeVersionFile(dir, makeFile());
    expect(readVersionFile(dir, 'a')).toEqual({ kind: 'ok', file: makeFile() });
    fs.writeFileSync(path.join(dir, 'slots', 'b.json'), '{"protocol":1,');
    expect(readVersionFile(dir, 'b').kind).toBe('malformed');
    fs.writeFileSync(path.join(dir, 'slots', 'junk.txt'), 'x');
    expect(listSlots(dir)).toEqual(['a', 'b']);
    fs.rmSync(dir, { recursive: true });
  });
});
