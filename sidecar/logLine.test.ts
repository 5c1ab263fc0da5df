import { describe, expect, it } from 'vitest';
import { summarize } from '../sdk/handover.ts';
import type { Transition } from './diff.ts';
import { live, makeFile, makeHandover, makeView } from './fixtures.ts';
import { describe as describeTransition } from './logLine.ts';

describe('describe a transition', () => {
  it.each<[string, Transition, string, string]>([
    [
      'a malformed file names the file and the problem',
      {
        kind: 'problem',
        slot: 'b',
        problem: 'malformed version file: file is empty',
        alive: true,
        malformed: true,
        enteredMalformed: true,
      },
      'warn',
      'slot "b": version file /hu/slots/b.json is unusable: malformed version file: file is empty',
    ],
    [
      'a live process that has not written its version file yet (normal at start)',
      {
        kind: 'problem',
        slot: 'b',
        problem: 'no version file yet',
        alive: true,
        malformed: false,
        enteredMalformed: false,
      },
      'info',
      'no version file yet',
    ],
    [
      'a liveness file without a version file and without a process',
      {
        kind: 'problem',
        slot: 'b',
        problem: 'no version file yet',
        alive: false,
        malformed: false,
        enteredMalformed: false,
      },
      'warn',
      'no version file yet',
    ],
    [
      'the placeholder program announcing itself',
      {
        kind: 'process',
        slot: 'b',
        version: 'placeholder',
        instance: 'p-1',
        state: 'placeholder',
        alive: true,
        restarted: true,
      },
      'info',
      'slot "b": new process, placeholder (idle, never serves)',
    ],
    [
      'a state change',
      { kind: 'state', slot: 'a', version: 'v1', from: 'serving', to: 'draining' },
      'info',
      'slot "a" (v1): serving -> draining',
    ],
    [
      'a serving process that dies',
      { kind: 'alive', slot: 'a', alive: false, lastState: 'serving' },
      'warn',
      'slot "a": process is gone (last state serving)',
    ],
    [
      'a process that stopped cleanly',
      { kind: 'alive', slot: 'a', alive: false, lastState: 'stopped' },
      'info',
      'process is gone',
    ],
    [
      'a completed handover with its phases',
      { kind: 'handover', slot: 'b', record: makeHandover(), lockWaitMs: 10 },
      'info',
      'handover a(v1) -> b(v2) in 35 ms (notice 2 ms, drain 30 ms, takeover 3 ms)',
    ],
    [
      'a failed slot with its error',
      { kind: 'failed', slot: 'b', version: 'v2', error: 'deadline passed' },
      'error',
      'slot "b" (v2) failed: deadline passed',
    ],
    [
      'a rejected successor',
      { kind: 'rejected', slot: 'a', entry: 'b@v2' },
      'warn',
      'slot "a" rejected b@v2',
    ],
    [
      'nobody serving',
      { kind: 'summary', from: null, to: summarize(makeView(false)) },
      'warn',
      'nobody serves',
    ],
    [
      'a new active version',
      { kind: 'summary', from: null, to: summarize(makeView(true, live(makeFile()))) },
      'info',
      'serving: slot "a" (v1), handover phase none',
    ],
  ])('%s', (_t, t, level, msg) => {
    const line = describeTransition(t, '/hu');
    expect(line.level).toBe(level);
    expect(line.msg).toContain(msg);
    expect(line.fields.event).toBe(t.kind);
  });
});
