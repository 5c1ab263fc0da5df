// Exponential backoff for reconnect loops (the informer's list/watch restarts).

export interface BackoffOptions {
  /** Delay after the first failure, in ms. */
  initialMs: number;
  /** Upper bound of the delay, in ms. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 200, maxMs: 30_000 };

/**
 * Delay before the next attempt after `failures` consecutive failures, in ms: 0 for none,
 * then initialMs, 2*initialMs, ... capped at maxMs. `jitter` in [0, 1) adds up to 10 % so
 * that replicas cut off together do not reconnect in lockstep.
 */
export function backoffMs(failures: number, opts: BackoffOptions = DEFAULT_BACKOFF, jitter = 0): number {
  if (failures <= 0) return 0;
  // 2^30 already dwarfs any sane maxMs; capping the exponent avoids Infinity.
  const base = Math.min(opts.maxMs, opts.initialMs * 2 ** Math.min(failures - 1, 30));
  return Math.round(base * (1 + 0.1 * jitter));
}
