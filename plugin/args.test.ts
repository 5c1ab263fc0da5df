import { describe, expect, it } from 'vitest';
import { parse, parseDuration } from './args.ts';

const hd = { kind: 'HotDeployment', name: 'web' };

describe('parse', () => {
  it.each<[string, string[], object]>([
    [
      'status with defaults',
      ['status', 'hd/web'],
      {
        command: 'status',
        conn: {},
        target: hd,
        watch: false,
        output: 'text',
        untilComplete: false,
        timeoutMs: 0,
      },
    ],
    [
      'status -w -o json in a namespace',
      ['status', 'hd/web', '-w', '-o', 'json', '-n', 'shop'],
      {
        command: 'status',
        conn: { namespace: 'shop' },
        target: hd,
        watch: true,
        output: 'json',
        untilComplete: false,
        timeoutMs: 0,
      },
    ],
    [
      '--until-complete, which implies -w, with a timeout',
      ['status', 'hd/web', '--until-complete', '--timeout', '2m'],
      {
        command: 'status',
        conn: {},
        target: hd,
        watch: true,
        output: 'text',
        untilComplete: true,
        timeoutMs: 120_000,
      },
    ],
    [
      'upgrade with a container and the connection flags before the command',
      ['--kubeconfig', '/k', '--context', 'prod', 'upgrade', 'hd/web', 'r/web:v2', '-c', 'log'],
      {
        command: 'upgrade',
        conn: { kubeconfig: '/k', context: 'prod' },
        target: hd,
        image: 'r/web:v2',
        container: 'log',
        dryRun: false,
      },
    ],
    ['approve', ['approve', 'hd/web'], { command: 'approve', conn: {}, target: hd, dryRun: false }],
    [
      'promote, an alias of approve, with --batch',
      ['promote', 'hd/web', '--batch', '3'],
      { command: 'approve', conn: {}, target: hd, batch: 3, dryRun: false },
    ],
    [
      'pause --dry-run',
      ['pause', 'hd/web', '--dry-run'],
      { command: 'pause', conn: {}, target: hd, dryRun: true },
    ],
    ['resume', ['resume', 'hd/web'], { command: 'resume', conn: {}, target: hd, dryRun: false }],
    ['abort', ['abort', 'hotdeployment/web'], { command: 'abort', conn: {}, target: hd, dryRun: false }],
    [
      'rollback --to',
      ['rollback', 'hd/web', '--to', 'r/web:v1'],
      { command: 'rollback', conn: {}, target: hd, to: 'r/web:v1', dryRun: false },
    ],
    [
      'status of a HotRelease',
      ['status', 'hr/r1'],
      {
        command: 'status',
        conn: {},
        target: { kind: 'HotRelease', name: 'r1' },
        watch: false,
        output: 'text',
        untilComplete: false,
        timeoutMs: 0,
      },
    ],
    ['release, whatever its flags', ['release', '-f', 'r.yaml', '--image', 'x'], { command: 'release' }],
    ['help', ['help'], { command: 'help' }],
    ['--help', ['--help'], { command: 'help' }],
    ['help of a command', ['help', 'approve'], { command: 'help', topic: 'approve' }],
    [
      'a command with -h, even without its arguments',
      ['upgrade', '-h'],
      { command: 'help', topic: 'upgrade' },
    ],
  ])('reads %s', (_title, argv, invocation) => {
    expect(parse(argv)).toEqual({ ok: true, invocation });
  });

  it.each<[string, string[], string, string | undefined]>([
    ['no command', [], 'no command given', undefined],
    [
      'a misspelt command',
      ['aprove', 'hd/web'],
      'unknown command "aprove"; did you mean approve?',
      undefined,
    ],
    ['an unknown flag', ['status', 'hd/web', '--bogus'], "Unknown option '--bogus'", 'status'],
    [
      'a flag of another command',
      ['pause', 'hd/web', '--batch', '2'],
      '--batch does not apply to pause (it is a flag of approve)',
      'pause',
    ],
    ['a missing name', ['status'], 'status needs TYPE/NAME; missing TYPE/NAME', 'status'],
    ['a missing image', ['upgrade', 'hd/web'], 'upgrade needs hd/NAME IMAGE; missing IMAGE', 'upgrade'],
    ['an extra argument', ['pause', 'hd/web', 'hd/api'], 'unexpected "hd/api"', 'pause'],
    ['a bare name', ['status', 'web'], 'did you mean hd/web?', 'status'],
    [
      'upgrade of a HotRelease',
      ['upgrade', 'hr/r1', 'x:1'],
      'this command takes hd/NAME, not a HotRelease',
      'upgrade',
    ],
    [
      'a bad namespace',
      ['status', 'hd/web', '-n', 'Shop'],
      '-n/--namespace "Shop" is not a namespace name',
      'status',
    ],
    ['an unknown format', ['status', 'hd/web', '-o', 'yaml'], '-o/--output "yaml" is not a format', 'status'],
    [
      'a bad duration',
      ['status', 'hd/web', '-w', '--timeout', '5 minutes'],
      '--timeout "5 minutes" is not a duration',
      'status',
    ],
    [
      'a timeout without a watch',
      ['status', 'hd/web', '--timeout', '5m'],
      '--timeout bounds a watch',
      'status',
    ],
    ['batch 0', ['approve', 'hd/web', '--batch', '0'], '--batch "0" is not a batch number', 'approve'],
    ['an empty --to', ['rollback', 'hd/web', '--to', ''], '--to "" is not an image reference', 'rollback'],
    ['help of an unknown command', ['help', 'deploy'], 'unknown command "deploy"', undefined],
  ])('refuses %s', (_title, argv, words, topic) => {
    const r = parse(argv);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.message).toContain(words);
    expect(r.topic).toBe(topic);
  });
});

describe('parseDuration', () => {
  it.each<[string, number | undefined]>([
    ['30', 30_000],
    ['90s', 90_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    ['250ms', 250],
    ['0', 0],
    ['', undefined],
    ['5 m', undefined],
    ['m5', undefined],
    ['5d', undefined],
  ])('%s is %s ms', (raw, ms) => {
    expect(parseDuration(raw)).toBe(ms);
  });
});
