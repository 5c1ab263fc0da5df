import { describe, expect, it } from 'vitest';
import { decide, microTime, observe, releaseSpec, type LeaseSpec } from './leaderDecision.ts';

const T0 = Date.parse('2026-11-28T20:00:00.000Z');
const held = (holder: string, extra: Partial<LeaseSpec> = {}): LeaseSpec => ({
  holderIdentity: holder,
  leaseDurationSeconds: 15,
  acquireTime: microTime(T0 - 60_000),
  renewTime: microTime(T0),
  leaseTransitions: 3,
  ...extra,
});

describe('decide', () => {
  it.each([
    {
      title: 'with no lease, we create one holding it',
      spec: undefined,
      observedAgoMs: 0,
      want: { kind: 'create', spec: { holderIdentity: 'me', leaseTransitions: 0 } },
    },
    {
      title: "another replica's lease seen changing 5 s ago makes us wait 10 s more",
      spec: held('other'),
      observedAgoMs: 5_000,
      want: { kind: 'wait', holder: 'other', expiresInMs: 10_000 },
    },
    {
      title: "another replica's lease unchanged for longer than its duration is taken over",
      spec: held('other'),
      observedAgoMs: 15_001,
      want: { kind: 'takeover', from: 'other', spec: { holderIdentity: 'me', leaseTransitions: 4 } },
    },
    {
      title: 'a renewTime far in the future (clock skew) does not extend the lease',
      spec: held('other', { renewTime: microTime(T0 + 3_600_000) }),
      observedAgoMs: 15_001,
      want: { kind: 'takeover', from: 'other' },
    },
    {
      title: 'a renewTime far in the past (clock skew) does not shorten the lease',
      spec: held('other', { renewTime: microTime(T0 - 3_600_000) }),
      observedAgoMs: 1_000,
      want: { kind: 'wait', holder: 'other' },
    },
    {
      title: 'a released lease (no holder) is taken at once',
      spec: held('', { leaseDurationSeconds: 1 }),
      observedAgoMs: 0,
      want: { kind: 'takeover', from: '', spec: { leaseTransitions: 4 } },
    },
    {
      title: "the holder's own duration counts, not ours",
      spec: held('other', { leaseDurationSeconds: 60 }),
      observedAgoMs: 30_000,
      want: { kind: 'wait', holder: 'other', expiresInMs: 30_000 },
    },
    {
      title: 'our own lease is renewed, keeping acquireTime and the transition count',
      spec: held('me'),
      observedAgoMs: 14_000,
      want: {
        kind: 'renew',
        spec: {
          holderIdentity: 'me',
          acquireTime: microTime(T0 - 60_000),
          renewTime: microTime(T0),
          leaseTransitions: 3,
        },
      },
    },
  ])('$title', ({ spec, observedAgoMs, want }) => {
    const d = decide({
      identity: 'me',
      observed: { spec, observedAtMs: T0 - observedAgoMs },
      nowMs: T0,
      leaseDurationSeconds: 15,
    });
    expect(d).toMatchObject(want);
  });
});

describe('observe', () => {
  it('keeps the first-seen time while the record does not change', () => {
    const first = observe(undefined, held('other'), T0);
    expect(observe(first, { ...held('other') }, T0 + 10_000).observedAtMs).toBe(T0);
  });

  it('restarts the clock when the holder renews', () => {
    const first = observe(undefined, held('other'), T0);
    const renewed = observe(first, held('other', { renewTime: microTime(T0 + 2_000) }), T0 + 2_500);
    expect(renewed.observedAtMs).toBe(T0 + 2_500);
  });
});

describe('microTime', () => {
  it.each([
    {
      title: 'milliseconds get three zeros appended',
      ms: Date.parse('2026-11-28T20:00:00.123Z'),
      want: '2026-11-28T20:00:00.123000Z',
    },
    {
      title: 'a whole second still has six digits',
      ms: Date.parse('2026-11-28T20:00:00Z'),
      want: '2026-11-28T20:00:00.000000Z',
    },
  ])('$title', ({ ms, want }) => {
    expect(microTime(ms)).toBe(want);
  });
});

describe('releaseSpec', () => {
  it('clears the holder and shortens the lease to 1 s so a standby takes over on its next try', () => {
    expect(releaseSpec(held('me'), T0)).toMatchObject({
      holderIdentity: '',
      leaseDurationSeconds: 1,
      leaseTransitions: 3,
    });
  });
});
