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
    [
      'approve of a HotRelease with --step',
      ['approve', 'hr/r1', '--step', '4'],
      { command: 'approve', conn: {}, target: { kind: 'HotRelease', name: 'r1' }, step: 4, dryRun: false },
    ],
    [
      'rollback of a HotRelease',
      ['rollback', 'hotrel/r1', '--dry-run'],
      { command: 'rollback', conn: {}, target: { kind: 'HotRelease', name: 'r1' }, dryRun: true },
    ],
    [
      'release -f FILE',
      ['release', '-f', 'r.yaml', '-n', 'apps', '-o', 'yaml'],
      {
        command: 'release',
        conn: { namespace: 'apps' },
        source: { from: 'file', path: 'r.yaml' },
        dryRun: false,
        output: 'yaml',
      },
    ],
    [
      'release from flags',
      [
        'release',
        'web-v2',
        '--target',
        'web',
        '--image',
        'r/web:v2',
        '-l',
        'env=prod',
        '--step',
        'upgrade=1',
        '--step',
        'gate=x{a="b,c"} < 0.5; samples=2',
        '--step',
        'upgrade=100%',
        '--auto-rollback',
        '--dry-run',
      ],
      {
        command: 'release',
        conn: {},
        source: {
          from: 'flags',
          release: {
            apiVersion: 'hotupgrade.io/v1alpha1',
            kind: 'HotRelease',
            metadata: { name: 'web-v2' },
            spec: {
              target: { name: 'web' },
              image: 'r/web:v2',
              clusters: { selector: { matchLabels: { env: 'prod' } } },
              steps: [
                { upgrade: { replicas: 1 } },
                { gate: { query: 'x{a="b,c"}', threshold: { op: '<', value: 0.5 }, samples: 2 } },
                { upgrade: { replicas: '100%' } },
              ],
              autoRollback: true,
            },
          },
        },
        dryRun: true,
        output: 'text',
      },
    ],
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
    [
      '--batch for a HotRelease',
      ['approve', 'hr/r1', '--batch', '2'],
      '--batch does not apply to a HotRelease: a HotRelease approves steps: --step N',
      'approve',
    ],
    [
      '--step for a HotDeployment',
      ['approve', 'hd/web', '--step', '2'],
      '--step does not apply to a HotDeployment: a HotDeployment approves batches: --batch N',
      'approve',
    ],
    [
      'two --step to approve',
      ['approve', 'hr/r1', '--step', '2', '--step', '3'],
      '--step is given more than once',
      'approve',
    ],
    ['step 0', ['approve', 'hr/r1', '--step', '0'], '--step "0" is not a step number', 'approve'],
    [
      '--to for a HotRelease',
      ['rollback', 'hr/r1', '--to', 'x:1'],
      'previous image (status.clusters[].previousImage)',
      'rollback',
    ],
    ['release without a name', ['release', '--image', 'x:1'], 'release needs NAME', 'release'],
    ['release with two names', ['release', 'a', 'b'], 'release takes one NAME; unexpected "b"', 'release'],
    [
      'release without steps',
      ['release', 'r1', '--target', 'web', '--image', 'x:1', '--clusters', 'a'],
      'no --step given: a release has no default plan',
      'release',
    ],
    [
      'release -f with flags',
      ['release', 'r1', '-f', 'r.yaml', '--image', 'x:1'],
      '-f/--file takes the whole HotRelease from the file: leave out NAME "r1", --image',
      'release',
    ],
    [
      'release -o wide',
      ['release', '-f', 'r.yaml', '-o', 'wide'],
      '-o/--output "wide" is not a format; use json or yaml',
      'release',
    ],
    [
      'a release flag elsewhere',
      ['status', 'hr/r1', '--image', 'x:1'],
      '--image does not apply to status (it is a flag of release)',
      'status',
    ],
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
