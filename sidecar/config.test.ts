import { describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from './config.ts';

describe('readConfig', () => {
  it('uses the defaults for an empty environment', () => {
    expect(readConfig({})).toEqual({
      dir: '/hotupgrade',
      port: 9901,
      host: '0.0.0.0',
      rescanMs: 1000,
      pod: undefined,
    });
  });

  it('reads every variable', () => {
    expect(
      readConfig({
        HOTUPGRADE_DIR: '/vol',
        HOTUPGRADE_SIDECAR_PORT: '8080',
        HOTUPGRADE_SIDECAR_HOST: '::',
        HOTUPGRADE_RESCAN_MS: '250',
        POD_NAME: 'web-0',
        POD_NAMESPACE: 'media',
      }),
    ).toEqual({
      dir: '/vol',
      port: 8080,
      host: '::',
      rescanMs: 250,
      pod: { name: 'web-0', namespace: 'media' },
    });
  });

  it.each<[string, Record<string, string>, string]>([
    ['a relative directory', { HOTUPGRADE_DIR: 'vol' }, 'HOTUPGRADE_DIR="vol" is not an absolute path'],
    [
      'a port that is a word',
      { HOTUPGRADE_SIDECAR_PORT: 'http' },
      'HOTUPGRADE_SIDECAR_PORT="http" is not a TCP port',
    ],
    ['a port out of range', { HOTUPGRADE_SIDECAR_PORT: '70000' }, 'from 1 to 65535'],
    [
      'a fractional rescan',
      { HOTUPGRADE_RESCAN_MS: '1.5' },
      'HOTUPGRADE_RESCAN_MS="1.5" is not a rescan interval in ms',
    ],
    ['a busy-polling rescan', { HOTUPGRADE_RESCAN_MS: '1' }, 'from 50 to 600000'],
    ['a host with a space', { HOTUPGRADE_SIDECAR_HOST: '0.0.0.0 ' }, 'HOTUPGRADE_SIDECAR_HOST'],
  ])('fails fast on %s, naming the variable', (_t, env, message) => {
    expect(() => readConfig(env)).toThrow(ConfigError);
    expect(() => readConfig(env)).toThrow(message);
  });
});
