import { describe, expect, it } from 'vitest';
import { parseListen, readSlotConfig } from './config.ts';

describe('readSlotConfig', () => {
  const base = { HOTUPGRADE_SLOT: 'a', HOTUPGRADE_VERSION: 'v1' };
  it('reads a slot with defaults', () => {
    expect(readSlotConfig(base)).toMatchObject({
      slot: 'a',
      version: 'v1',
      mode: 'slot',
      role: 'successor',
      dir: '/hotupgrade',
      handoverDeadlineMs: 60_000,
      shutdownDelayMs: 0,
    });
    expect(readSlotConfig({ ...base, HOTUPGRADE_SHUTDOWN_DELAY_MS: '3000' }).shutdownDelayMs).toBe(3000);
  });
  it.each([
    ['the active slot', { HOTUPGRADE_ACTIVE_SLOT: 'a' }, 'successor'],
    ['another slot', { HOTUPGRADE_ACTIVE_SLOT: 'b' }, 'standby'],
  ])('is a successor only when it is %s', (_t, env, role) => {
    expect(readSlotConfig({ ...base, ...env }).role).toBe(role);
  });
  it.each([
    [{ HOTUPGRADE_SLOT: '' }, /HOTUPGRADE_SLOT must name/],
    [{ HOTUPGRADE_VERSION: '' }, /HOTUPGRADE_VERSION is empty.*downward-API/],
    [{ HOTUPGRADE_MODE: 'fast' }, /HOTUPGRADE_MODE must be "slot" or "binary"/],
    [{ HOTUPGRADE_DRAIN_TIMEOUT_MS: '-5' }, /HOTUPGRADE_DRAIN_TIMEOUT_MS must be a positive number/],
    [
      { HOTUPGRADE_SHUTDOWN_DELAY_MS: '3s' },
      /HOTUPGRADE_SHUTDOWN_DELAY_MS must be a number of milliseconds, 0 or more/,
    ],
  ])('rejects %o naming the variable', (env, message) => {
    expect(() => readSlotConfig({ ...base, ...env })).toThrow(message);
  });
});

describe('parseListen', () => {
  it.each([
    ['8080', { host: '0.0.0.0', port: 8080 }],
    [':9000', { host: '0.0.0.0', port: 9000 }],
    ['127.0.0.1:80', { host: '127.0.0.1', port: 80 }],
  ])('%s', (raw, want) => expect(parseListen(raw)).toEqual(want));
  it.each(['', 'x:1', '70000', 'localhost:80'])('rejects "%s"', (raw) =>
    expect(() => parseListen(raw)).toThrow(/host:port/),
  );
});
