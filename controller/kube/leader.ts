// Leader election on a coordination.k8s.io/v1 Lease, with client-go's timing rules
// (leaseDuration 15 s, renewDeadline 10 s, retryPeriod 2 s). The decisions are in
// leaderDecision.ts; this file reads and writes the Lease and keeps time.
//
// Safety: a leader that cannot renew stops acting when its renew deadline passes, measured
// from when it SENT its last successful renewal. Others take over no sooner than
// leaseDuration after they SAW that renewal, which was later, and renewDeadline <
// leaseDuration: so the old leader has stopped before anyone else starts, whatever the
// clocks of the two machines say (only their rates must agree).
import type { Logger } from 'pino';
import { Registry, type Gauge } from 'prom-client';
import { sleep, systemClock, type Clock, type TimerHandle } from './clock.ts';
import type { KubeClient } from './client.ts';
import { decide, observe, releaseSpec, type LeaseSpec, type ObservedLease } from './leaderDecision.ts';
import { gauge } from './metrics.ts';
import type { KubeObject } from './types.ts';

/** What the elector needs of a client (tests wrap a real one to make it hang). */
export type LeaseClient = Pick<KubeClient, 'get' | 'create' | 'replace'>;

export interface LeaderElectorOptions {
  client: LeaseClient;
  namespace: string;
  /** The Lease's name (one per controller). */
  name: string;
  /** This replica, unique among replicas (e.g. the pod name plus a random suffix). */
  identity: string;
  logger: Logger;
  /** How long a lease is valid without renewal, in s. Default 15. */
  leaseDurationSeconds?: number;
  /** A leader that has not renewed for this long stops, in ms; < leaseDuration. Default 10 000. */
  renewDeadlineMs?: number;
  /** Pause between acquire attempts and between renewals, in ms. Default 2000. */
  retryPeriodMs?: number;
  /** Give the lease up when run()'s signal aborts, for a handover in ~retryPeriod. Default true. */
  releaseOnCancel?: boolean;
  /** Called on becoming leader; `signal` aborts the moment leadership ends. */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** Called once leadership has ended (after the signal aborted). */
  onStoppedLeading?(): void;
  /** Called when the observed holder changes (to another replica, or to us). */
  onNewLeader?(identity: string): void;
  registry?: Registry;
  clock?: Clock;
}

interface Lease extends KubeObject {
  spec?: LeaseSpec;
}

// Attempt outcome: got/kept the lease, could not this time, or someone else holds it.
type Attempt = 'ok' | 'failed' | 'held-by-other';

export class LeaderElector {
  readonly #o: Required<
    Omit<LeaderElectorOptions, 'onStoppedLeading' | 'onNewLeader' | 'registry' | 'clock'>
  > &
    LeaderElectorOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #status: Gauge<'name'>;
  readonly #collection: string;
  readonly #path: string;
  #observed: ObservedLease | undefined;
  /** The Lease as we last read or wrote it (its resourceVersion guards our next write). */
  #lease: Lease | undefined;
  #leading = false;
  #leadAbort: AbortController | undefined;
  /** Our clock when the last successful renewal was sent, in ms. */
  #renewedAt = 0;
  #deadline: TimerHandle | undefined;
  #lastHolder: string | undefined;

  constructor(opts: LeaderElectorOptions) {
    this.#o = {
      ...opts,
      leaseDurationSeconds: opts.leaseDurationSeconds ?? 15,
      renewDeadlineMs: opts.renewDeadlineMs ?? 10_000,
      retryPeriodMs: opts.retryPeriodMs ?? 2_000,
      releaseOnCancel: opts.releaseOnCancel ?? true,
    };
    if (this.#o.renewDeadlineMs >= this.#o.leaseDurationSeconds * 1000) {
      throw new Error('leader election: renewDeadline must be shorter than leaseDuration');
    }
    if (this.#o.retryPeriodMs >= this.#o.renewDeadlineMs) {
      throw new Error('leader election: retryPeriod must be shorter than renewDeadline');
    }
    this.#clock = opts.clock ?? systemClock;
    this.#log = opts.logger.child({ lease: `${opts.namespace}/${opts.name}`, identity: opts.identity });
    this.#status = gauge(
      opts.registry ?? new Registry(),
      'leader_election_master_status',
      'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master.',
      ['name'],
    );
    this.#status.set({ name: opts.name }, 0);
    this.#collection = `/apis/coordination.k8s.io/v1/namespaces/${opts.namespace}/leases`;
    this.#path = `${this.#collection}/${opts.name}`;
  }

  /** True while we hold the lease AND our renew deadline has not passed (even if a renewal hangs). */
  isLeader(): boolean {
    return this.#leading && this.#clock.now() < this.#renewedAt + this.#o.renewDeadlineMs;
  }

  /** The holder we last observed, if any. */
  get leader(): string | undefined {
    return this.#lastHolder;
  }

  /**
   * Campaigns until leader, leads until leadership is lost or `signal` aborts, then
   * resolves. Like client-go, it does not campaign again: a replica that lost the lease
   * should exit and start over with fresh caches.
   */
  async run(signal: AbortSignal): Promise<void> {
    // Acquire: one attempt per retryPeriod (+ up to 20 % jitter so standbys do not
    // collide on every try), until we hold the lease or are stopped.
    while (!signal.aborted) {
      const sentAt = this.#clock.now();
      if ((await this.#tryAcquireOrRenew(signal)) === 'ok') {
        this.#startLeading(sentAt);
        break;
      }
      await sleep(this.#clock, this.#o.retryPeriodMs * (1 + 0.2 * Math.random()), signal);
    }
    // Renew: every retryPeriod; the deadline timer ends leadership if renewals stop working.
    while (this.#leading && !signal.aborted) {
      const leadSignal = this.#leadAbort?.signal;
      await sleep(this.#clock, this.#o.retryPeriodMs, anySignal(signal, leadSignal));
      if (!this.#leading || signal.aborted) break;
      const sentAt = this.#clock.now();
      // The renewal request is cut off when leadership ends (leadSignal aborts at the deadline).
      const r = await this.#tryAcquireOrRenew(anySignal(signal, leadSignal));
      if (!this.#leading) break;
      if (r === 'ok') this.#renewed(sentAt);
      else if (r === 'held-by-other') this.#stopLeading('another replica holds the lease');
      else this.#log.warn('lease renewal failed; retrying until the renew deadline');
    }
    if (signal.aborted && this.#leading && this.#o.releaseOnCancel) await this.release();
    else if (this.#leading) this.#stopLeading('stopped');
  }

  /** Stops leading at once and gives the lease up, so a standby takes over in ~retryPeriod. */
  async release(): Promise<void> {
    if (!this.#leading) return;
    const lease = this.#lease;
    this.#stopLeading('releasing the lease');
    if (!lease?.spec || lease.spec.holderIdentity !== this.#o.identity) return;
    const signal = AbortSignal.timeout(this.#o.renewDeadlineMs);
    let current: Lease = lease;
    // Two tries: a renewal cut off by the abort above may still have landed, moving the
    // resourceVersion; then re-read and release only if the lease is still ours.
    for (let attempt = 0; attempt < 2; attempt++) {
      const spec = releaseSpec(current.spec ?? {}, this.#clock.now());
      const r = await this.#o.client.replace<Lease>(this.#path, { ...current, spec }, { signal });
      if (r.ok) {
        this.#lease = r.body;
        this.#log.info('released the lease');
        return;
      }
      if (r.reason !== 'Conflict') {
        this.#log.warn(
          { reason: r.reason, err: r.message },
          'could not release the lease; it expires on its own',
        );
        return;
      }
      const got = await this.#o.client.get<Lease>(this.#path, { signal });
      if (!got.ok || got.body.spec?.holderIdentity !== this.#o.identity) return;
      current = got.body;
    }
  }

  async #tryAcquireOrRenew(signal: AbortSignal | undefined): Promise<Attempt> {
    const now = this.#clock.now();
    // Fast path while leading: write over the Lease we last wrote; a 409 means someone
    // else wrote it since, so read it and decide again.
    if (this.#leading && this.#lease?.spec) {
      const d = decide({ ...this.#input(now), observed: { spec: this.#lease.spec, observedAtMs: now } });
      if (d.kind === 'renew') {
        const r = await this.#o.client.replace<Lease>(
          this.#path,
          { ...this.#lease, spec: d.spec },
          { signal },
        );
        if (r.ok) return this.#wrote(r.body, now);
        if (r.reason !== 'Conflict') return this.#failed('renew', r.reason, r.message);
      }
    }
    const got = await this.#o.client.get<Lease>(this.#path, { signal });
    if (!got.ok && got.reason !== 'NotFound') return this.#failed('read', got.reason, got.message);
    const current = got.ok ? got.body : undefined;
    this.#lease = current;
    this.#observed = observe(this.#observed, current?.spec, this.#clock.now());
    this.#noteHolder(current?.spec?.holderIdentity ?? '');
    const d = decide(this.#input(this.#clock.now()));
    if (d.kind === 'wait') return 'held-by-other';
    if (d.kind === 'create') {
      const body: Lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.#o.name, namespace: this.#o.namespace },
        spec: d.spec,
      };
      const r = await this.#o.client.create<Lease>(this.#collection, body, { signal });
      // AlreadyExists: another replica created it first; the next read says who.
      return r.ok ? this.#wrote(r.body, now) : this.#failed('create', r.reason, r.message);
    }
    // Optimistic concurrency: metadata.resourceVersion of what we read; 409 = lost the race.
    const r = await this.#o.client.replace<Lease>(this.#path, { ...current, spec: d.spec }, { signal });
    if (!r.ok) return this.#failed(d.kind, r.reason, r.message);
    if (d.kind === 'takeover') this.#log.info({ from: d.from || '(released)' }, 'took over the lease');
    return this.#wrote(r.body, now);
  }

  #input(nowMs: number): {
    identity: string;
    observed: ObservedLease;
    nowMs: number;
    leaseDurationSeconds: number;
  } {
    return {
      identity: this.#o.identity,
      observed: this.#observed ?? { spec: undefined, observedAtMs: nowMs },
      nowMs,
      leaseDurationSeconds: this.#o.leaseDurationSeconds,
    };
  }

  #wrote(lease: Lease, nowMs: number): Attempt {
    this.#lease = lease;
    this.#observed = { spec: lease.spec, observedAtMs: nowMs };
    this.#noteHolder(this.#o.identity);
    return 'ok';
  }

  #failed(what: string, reason: string, message: string): Attempt {
    this.#log.debug({ reason, err: message }, `lease ${what} failed`);
    return 'failed';
  }

  #noteHolder(holder: string): void {
    if (holder === this.#lastHolder) return;
    this.#lastHolder = holder;
    if (holder) {
      this.#log.info({ leader: holder }, 'new leader observed');
      this.#o.onNewLeader?.(holder);
    }
  }

  #startLeading(sentAt: number): void {
    this.#leading = true;
    this.#leadAbort = new AbortController();
    this.#renewed(sentAt);
    this.#status.set({ name: this.#o.name }, 1);
    this.#log.info('started leading');
    const signal = this.#leadAbort.signal;
    // Not awaited: the callback runs the controllers for as long as it likes.
    Promise.resolve()
      .then(() => this.#o.onStartedLeading(signal))
      .catch((err: unknown) => this.#log.error({ err }, 'onStartedLeading failed'));
  }

  #renewed(sentAt: number): void {
    this.#renewedAt = sentAt;
    this.#deadline?.cancel();
    const left = sentAt + this.#o.renewDeadlineMs - this.#clock.now();
    this.#deadline = this.#clock.setTimer(() => this.#stopLeading('renew deadline passed'), left);
  }

  // Ends leadership now: abort the signal first so controllers stop acting, then tell.
  #stopLeading(why: string): void {
    if (!this.#leading) return;
    this.#leading = false;
    this.#deadline?.cancel();
    this.#deadline = undefined;
    this.#leadAbort?.abort(new Error(`leadership lost: ${why}`));
    this.#status.set({ name: this.#o.name }, 0);
    this.#log.warn({ why }, 'stopped leading');
    try {
      this.#o.onStoppedLeading?.();
    } catch (err) {
      this.#log.error({ err }, 'onStoppedLeading failed');
    }
  }
}

function anySignal(a: AbortSignal, b: AbortSignal | undefined): AbortSignal {
  return b ? AbortSignal.any([a, b]) : a;
}
