import { describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS, parseOptions } from './options.ts';

describe('parseOptions', () => {
  it('gives the defaults of the issue with no flags: 20 upgrades at 2000 req/s in every mode', () => {
    expect(parseOptions([])).toEqual({ kind: 'run', options: DEFAULT_OPTIONS });
    expect(DEFAULT_OPTIONS).toMatchObject({
      upgrades: 20,
      rate: 2000,
      json: false,
      modes: ['slot', 'binary', 'restart'],
    });
  });

  it.each([
    {
      name: '--upgrades and --rate take integers',
      argv: ['--upgrades', '5', '--rate', '500'],
      want: { upgrades: 5, rate: 500 },
    },
    { name: '--json turns on the JSON-only stdout', argv: ['--json'], want: { json: true } },
    {
      name: '--modes picks a subset, duplicates dropped',
      argv: ['--modes', 'binary,slot,binary'],
      want: { modes: ['binary', 'slot'] },
    },
    {
      name: '--keep-alive-share takes a fraction',
      argv: ['--keep-alive-share', '0.5'],
      want: { keepAliveShare: 0.5 },
    },
    { name: '--max-minutes bounds the run in ms', argv: ['--max-minutes', '2'], want: { maxRunMs: 120_000 } },
    { name: '--sidecar-idle 0 skips the sidecar', argv: ['--sidecar-idle', '0'], want: { sidecarIdleS: 0 } },
    {
      name: '--no-retry makes a closed keep-alive connection a failure',
      argv: ['--no-retry'],
      want: { retry: false },
    },
  ])('$name', ({ argv, want }) => {
    const r = parseOptions(argv);
    expect(r.kind).toBe('run');
    if (r.kind === 'run') expect(r.options).toMatchObject(want);
  });

  it.each([
    {
      name: 'a rate of 0 names the flag and the range',
      argv: ['--rate', '0'],
      error: '--rate must be an integer from 1 to 20000, got "0"',
    },
    {
      name: 'a non-integer upgrade count is refused',
      argv: ['--upgrades', '2.5'],
      error: '--upgrades must be an integer from 1 to 200, got "2.5"',
    },
    {
      name: 'an unknown mode lists the valid ones',
      argv: ['--modes', 'slot,rolling'],
      error: '--modes must list some of slot,binary,restart, got "slot,rolling"',
    },
    {
      name: 'a share above 1 is refused',
      argv: ['--keep-alive-share', '1.5'],
      error: '--keep-alive-share must be a number from 0 to 1, got "1.5"',
    },
  ])('$name', ({ argv, error }) => {
    expect(parseOptions(argv)).toEqual({ kind: 'error', error });
  });

  it('reports an unknown flag as an error value, not an exception', () => {
    const r = parseOptions(['--fast']);
    expect(r.kind).toBe('error');
  });

  it('answers --help with the usage request', () => {
    expect(parseOptions(['-h'])).toEqual({ kind: 'help' });
  });
});
