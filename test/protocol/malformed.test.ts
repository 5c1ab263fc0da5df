// Garbage in the shared volume: another slot's version file malformed, truncated, of the
// wrong shape, or valid but written by a process that is gone. The serving slot must not
// crash, must not hand over to it, and a valid successor must still take over.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULTS, PATHS } from '../../sdk/constants.ts';
import {
  NO_LOSS,
  Pod,
  lossSummary,
  moreAnswers,
  servingNames,
  sleep,
  startServing,
  upgrade,
} from './harness.ts';

let pod: Pod;
beforeEach(async () => {
  pod = await Pod.create();
});
afterEach(async () => {
  await pod.cleanup();
});

const now = Date.now();
const valid = {
  protocol: 1,
  slot: 'b',
  version: 'v2',
  mode: 'slot',
  state: 'waiting',
  role: 'successor',
  pid: 999_999,
  instance: 'gone',
  startedAtMs: now,
  updatedAtMs: now,
  announcedAtMs: now,
};
const full = JSON.stringify(valid);

// The stale file comes first: a valid successor must later replace whatever is left, and
// the stale case with a restarting slot has its own scenario in crash.test.ts.
const GARBAGE: Array<{ name: string; text: string | Buffer }> = [
  { name: 'valid, waiting as successor, but its process is gone (stale)', text: full },
  { name: 'empty', text: '' },
  { name: 'truncated JSON', text: full.slice(0, full.length / 2) },
  { name: 'not JSON', text: 'garbage\n' },
  { name: 'binary bytes', text: Buffer.from([0, 255, 1, 254, 0, 10]) },
  { name: 'a JSON array', text: '[1,2,3]' },
  { name: 'null', text: 'null' },
  { name: 'fields of the wrong type', text: JSON.stringify({ ...valid, state: 42, pid: 'x' }) },
  { name: 'an unknown state', text: JSON.stringify({ ...valid, state: 'exploding' }) },
  { name: 'another protocol version', text: JSON.stringify({ ...valid, protocol: 99 }) },
  { name: 'the wrong slot name inside', text: JSON.stringify({ ...valid, slot: 'c' }) },
  {
    name: 'larger than the size limit',
    text: JSON.stringify({ ...valid, error: 'x'.repeat(DEFAULTS.maxVersionFileBytes) }),
  },
  { name: 'truncated JSON again (what the successor finds)', text: full.slice(0, 40) },
];

describe('malformed and truncated version files', () => {
  it('the serving slot serves on through every kind of garbage, then a valid successor takes over', async () => {
    const a = await startServing(pod, { slot: 'a', version: 'v1' });
    const load = pod.load();
    await moreAnswers(load, 30);
    const slots = path.join(pod.dir, PATHS.slotsDir);

    for (const g of GARBAGE) {
      fs.writeFileSync(path.join(slots, 'b.json'), g.text);
      fs.writeFileSync(path.join(slots, 'zz.json'), g.text); // a slot nobody runs
      await sleep(150);
      expect(a.running, `slot a exited after "${g.name}"\n${pod.describe()}`).toBe(true);
      expect(pod.fileOf(a)?.state, `after "${g.name}"`).toBe('serving');
    }
    // Past the backstop re-scan (1 s by default), in case the change events were missed.
    await sleep(DEFAULTS.rescanMs + 300);
    await moreAnswers(load, 30);
    expect(a.running).toBe(true);
    expect(servingNames(pod)).toEqual(['a']);
    expect(pod.volume().lockHeld).toBe(true);

    await upgrade(pod, a, { slot: 'b', version: 'v2' });
    await moreAnswers(load, 30);
    const report = await load.stop();
    expect(lossSummary(report)).toEqual(NO_LOSS);
    expect(servingNames(pod)).toEqual(['b']);
  });
});
