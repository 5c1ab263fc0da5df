// A token bucket (like golang.org/x/time/rate, which client-go's limiters use): holds up
// to `burst` tokens, refills at `qps` tokens per second. Pure: the caller passes the time,
// so the same code serves the REST client (real clock) and the work queue (fake clock in
// tests).

export interface TokenBucketOptions {
  /** Sustained rate, in tokens per second. 0 or Infinity disables limiting. */
  qps: number;
  /** Bucket size: how many tokens may be taken at once after a quiet period. */
  burst: number;
}

export class TokenBucket {
  readonly qps: number;
  readonly burst: number;
  // May go negative: each negative token is a reservation someone is already waiting for.
  #tokens: number;
  #lastMs: number;

  constructor(opts: TokenBucketOptions, nowMs: number) {
    if (!(opts.qps >= 0)) throw new Error(`token bucket qps must be >= 0, got ${opts.qps}`);
    if (!(opts.burst >= 1)) throw new Error(`token bucket burst must be >= 1, got ${opts.burst}`);
    this.qps = opts.qps;
    this.burst = opts.burst;
    this.#tokens = opts.burst;
    this.#lastMs = nowMs;
  }

  get unlimited(): boolean {
    return this.qps === 0 || this.qps === Infinity;
  }

  #refill(nowMs: number): void {
    // A clock that steps back (NTP) must not drain the bucket: count no elapsed time.
    const elapsedMs = Math.max(0, nowMs - this.#lastMs);
    this.#tokens = Math.min(this.burst, this.#tokens + (elapsedMs * this.qps) / 1000);
    this.#lastMs = Math.max(this.#lastMs, nowMs);
  }

  /** Takes one token and returns how long to wait before using it, in ms (0: now). */
  reserve(nowMs: number): number {
    if (this.unlimited) return 0;
    this.#refill(nowMs);
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : (-this.#tokens * 1000) / this.qps;
  }

  /** Takes one token only if one is available now. */
  tryTake(nowMs: number): boolean {
    if (this.unlimited) return true;
    this.#refill(nowMs);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Tokens available at nowMs (negative: outstanding reservations). */
  tokens(nowMs: number): number {
    if (this.unlimited) return this.burst;
    this.#refill(nowMs);
    return this.#tokens;
  }
}
