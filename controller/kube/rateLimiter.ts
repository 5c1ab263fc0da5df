// Requeue delays for failed items, as client-go's workqueue rate limiters compute them.
// Pure but for the clock passed in.
import type { Clock } from './clock.ts';
import { TokenBucket } from './tokenBucket.ts';

export interface RateLimiter<K> {
  /** How long key should wait before it is processed again, in ms (counts one failure). */
  when(key: K): number;
  /** Clears key's failure history (after it succeeded). */
  forget(key: K): void;
  /** Failures counted for key since the last forget. */
  numRequeues(key: K): number;
}

/** client-go's ItemExponentialFailureRateLimiter: base * 2^failures, capped at max. */
export class ItemExponentialRateLimiter<K> implements RateLimiter<K> {
  readonly #failures = new Map<K, number>();
  readonly #baseMs: number;
  readonly #maxMs: number;

  /** Defaults as client-go's controller default: 5 ms doubling up to 1000 s. */
  constructor(baseMs = 5, maxMs = 1_000_000) {
    this.#baseMs = baseMs;
    this.#maxMs = maxMs;
  }

  when(key: K): number {
    const exp = this.#failures.get(key) ?? 0;
    this.#failures.set(key, exp + 1);
    return Math.min(this.#maxMs, this.#baseMs * 2 ** Math.min(exp, 60));
  }

  forget(key: K): void {
    this.#failures.delete(key);
  }

  numRequeues(key: K): number {
    return this.#failures.get(key) ?? 0;
  }
}

/** client-go's BucketRateLimiter: an overall token bucket shared by all items. */
export class BucketRateLimiter<K> implements RateLimiter<K> {
  readonly #bucket: TokenBucket;
  readonly #clock: Clock;

  constructor(clock: Clock, qps = 10, burst = 100) {
    this.#clock = clock;
    this.#bucket = new TokenBucket({ qps, burst }, clock.now());
  }

  when(_key: K): number {
    return this.#bucket.reserve(this.#clock.now());
  }

  forget(_key: K): void {}

  numRequeues(_key: K): number {
    return 0;
  }
}

/** The longest delay of several limiters (client-go's MaxOfRateLimiter). */
export class MaxOfRateLimiter<K> implements RateLimiter<K> {
  readonly #limiters: RateLimiter<K>[];

  constructor(...limiters: RateLimiter<K>[]) {
    this.#limiters = limiters;
  }

  when(key: K): number {
    let ms = 0;
    for (const l of this.#limiters) ms = Math.max(ms, l.when(key));
    return ms;
  }

  forget(key: K): void {
    for (const l of this.#limiters) l.forget(key);
  }

  numRequeues(key: K): number {
    let n = 0;
    for (const l of this.#limiters) n = Math.max(n, l.numRequeues(key));
    return n;
  }
}

/** client-go's DefaultControllerRateLimiter: per-item 5 ms..1000 s, overall 10 qps burst 100. */
export function defaultControllerRateLimiter<K>(clock: Clock): RateLimiter<K> {
  return new MaxOfRateLimiter<K>(new ItemExponentialRateLimiter<K>(), new BucketRateLimiter<K>(clock));
}
