import { describe, expect, it } from 'vitest';
import { ConfigError, readHubConfig } from './config.ts';

describe('readHubConfig', () => {
  it('defaults', () => {
    expect(readHubConfig([], {}, 'host')).toMatchObject({
      port: 8081,
      leaderElection: true,
      leaseNamespace: 'hotupgrade-system',
      leaseName: 'hotupgrade-hub',
      probeSeconds: 30,
      pollSeconds: 2,
      memberTimeoutSeconds: 10,
      workers: 4,
      qps: 50,
      burst: 100,
    });
  });

  it('flags win over the environment the chart sets', () => {
    const c = readHubConfig(
      ['--poll-seconds', '1'],
      { HOTUPGRADE_HUB_POLL_SECONDS: '5', POD_NAMESPACE: 'ops', POD_NAME: 'hub-0' },
      'h',
    );
    expect(c).toMatchObject({ pollSeconds: 1, leaseNamespace: 'ops', identity: 'hub-0' });
  });

  it.each([
    [
      ['--poll-seconds', '0'],
      '--poll-seconds (env HOTUPGRADE_HUB_POLL_SECONDS) = "0": use an integer from 1 to 300, or leave it unset for 2',
    ],
    [['--leader-elect', 'yes'], '--leader-elect (env HOTUPGRADE_LEADER_ELECT) = "yes": use true or false'],
    [['--nope', '1'], "Unknown option '--nope'"],
  ])('%j is refused with a message naming the flag', (argv, message) => {
    expect(() => readHubConfig(argv, {}, 'h')).toThrow(ConfigError);
    expect(() => readHubConfig(argv, {}, 'h')).toThrow(message);
  });
});
