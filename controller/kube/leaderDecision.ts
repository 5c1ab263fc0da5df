// Leader election decisions on a coordination.k8s.io/v1 Lease, as client-go's
// tryAcquireOrRenew makes them. Pure: the lease as read, when we saw it change and the
// time in, a decision out.
//
// Expiry is judged on OUR clock from when WE saw the lease record change, never by
// comparing its renewTime with our clock: replicas' clocks may disagree by minutes, but
// each one measures 15 s correctly.

/** coordination.k8s.io/v1 LeaseSpec (times are MicroTime strings). */
export interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number;
}

export interface ObservedLease {
  /** The spec as last read; undefined when no Lease object exists. */
  spec: LeaseSpec | undefined;
  /** Our clock when this spec was first seen (it changed since the read before), in ms. */
  observedAtMs: number;
}

export type LeaderDecision =
  /** No Lease yet: create it holding it. */
  | { kind: 'create'; spec: LeaseSpec }
  /** We hold it: push renewTime. */
  | { kind: 'renew'; spec: LeaseSpec }
  /** Free (released) or expired: take it, counting a transition. */
  | { kind: 'takeover'; spec: LeaseSpec; from: string }
  /** Someone else holds a lease that has not expired on our clock. */
  | { kind: 'wait'; holder: string; expiresInMs: number };

/**
 * MicroTime as the API server wants it: RFC 3339 with exactly 6 fractional digits
 * (2026-11-28T20:00:00.123456Z); other forms are rejected with 400.
 */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** The record a read found, stamped with when it changed (client-go's observedTime). */
export function observe(
  prev: ObservedLease | undefined,
  spec: LeaseSpec | undefined,
  nowMs: number,
): ObservedLease {
  if (prev && sameSpec(prev.spec, spec)) return prev;
  return { spec, observedAtMs: nowMs };
}

function sameSpec(a: LeaseSpec | undefined, b: LeaseSpec | undefined): boolean {
  if (!a || !b) return a === b;
  return (
    (a.holderIdentity ?? '') === (b.holderIdentity ?? '') &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    (a.acquireTime ?? '') === (b.acquireTime ?? '') &&
    (a.renewTime ?? '') === (b.renewTime ?? '') &&
    (a.leaseTransitions ?? 0) === (b.leaseTransitions ?? 0)
  );
}

export interface DecideInput {
  identity: string;
  observed: ObservedLease;
  /** Our clock, in ms since the epoch; also what acquireTime/renewTime are written from. */
  nowMs: number;
  /** How long our lease is valid without renewal, in s. */
  leaseDurationSeconds: number;
}

export function decide(input: DecideInput): LeaderDecision {
  const { identity, observed, nowMs, leaseDurationSeconds } = input;
  const now = microTime(nowMs);
  const cur = observed.spec;
  if (!cur) {
    return {
      kind: 'create',
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds,
        acquireTime: now,
        renewTime: now,
        leaseTransitions: 0,
      },
    };
  }
  const holder = cur.holderIdentity ?? '';
  if (holder === identity) {
    return {
      kind: 'renew',
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds,
        acquireTime: cur.acquireTime ?? now,
        renewTime: now,
        leaseTransitions: cur.leaseTransitions ?? 0,
      },
    };
  }
  // The holder's own duration: a released lease says 1 s, a replica with another config
  // its own value.
  const durationMs = (cur.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
  const expiresInMs = observed.observedAtMs + durationMs - nowMs;
  if (holder !== '' && expiresInMs > 0) return { kind: 'wait', holder, expiresInMs };
  return {
    kind: 'takeover',
    from: holder,
    spec: {
      holderIdentity: identity,
      leaseDurationSeconds,
      acquireTime: now,
      renewTime: now,
      leaseTransitions: (cur.leaseTransitions ?? 0) + 1,
    },
  };
}

/** The spec that gives the lease up (client-go's ReleaseOnCancel): no holder, 1 s duration. */
export function releaseSpec(cur: LeaseSpec, nowMs: number): LeaseSpec {
  const now = microTime(nowMs);
  return {
    holderIdentity: '',
    leaseDurationSeconds: 1,
    acquireTime: now,
    renewTime: now,
    leaseTransitions: cur.leaseTransitions ?? 0,
  };
}
