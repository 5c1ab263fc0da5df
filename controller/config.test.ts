import { describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from './config.ts';

const base = { HOTUPGRADE_PLACEHOLDER_IMAGE: 'p:1', HOTUPGRADE_SIDECAR_IMAGE: 's:1' };

describe('readConfig', () => {
  it('takes defaults, and flags over env', () => {
    const c = readConfig(['--workers', '8'], { ...base, HOTUPGRADE_WORKERS: '2' }, 'host');
    expect(c).toMatchObject({
      workers: 8,
      port: 8080,
      leaderElection: true,
      qps: 200,
      burst: 400,
      placeholderImage: 'p:1',
      completionSignal: 'sidecar',
    });
    expect(readConfig([], { ...base, HOTUPGRADE_COMPLETION_SIGNAL: 'probe' }, 'h').completionSignal).toBe(
      'probe',
    );
    expect(c.identity).toMatch(/^host-\d+$/);
  });

  it.each([
    [[], {}, '--placeholder-image (env HOTUPGRADE_PLACEHOLDER_IMAGE) is required'],
    [
      ['--port', 'http'],
      base,
      '--port (env HOTUPGRADE_CONTROLLER_PORT) = "http": use an integer from 0 to 65535',
    ],
    [['--leader-elect', 'yes'], base, 'use true or false'],
    [
      ['--completion-signal', 'kubelet'],
      base,
      '--completion-signal (env HOTUPGRADE_COMPLETION_SIGNAL) = "kubelet": use sidecar or probe',
    ],
    [['--bogus', 'x'], base, "Unknown option '--bogus'"],
  ])('rejects %j with a message naming the flag', (argv, env, message) => {
    expect(() => readConfig(argv, env, 'h')).toThrow(ConfigError);
    expect(() => readConfig(argv, env, 'h')).toThrow(message);
  });
});
