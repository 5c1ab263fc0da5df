// A work queue with client-go's semantics (k8s.io/client-go/util/workqueue):
// - a key waiting in the queue is there once, however often it is added (dedupe);
// - a key is never handed to two workers at once: added while processing, it is queued
//   again when the worker calls done();
// - addAfter delays a key, addRateLimited delays it by its failure history.
// Level-triggered reconcilers need exactly this: the key says "look at this object", the
// worker reads the current state from the cache.
import { Registry, type Counter, type Gauge, type Histogram } from 'prom-client';
import { systemClock, type Clock, type TimerHandle } from './clock.ts';
import { MinHeap } from './heap.ts';
import { counter, exponentialBuckets, gauge, histogram } from './metrics.ts';
import { defaultControllerRateLimiter, type RateLimiter } from './rateLimiter.ts';

export interface WorkQueueOptions<K> {
  /** The `name` label of the workqueue_* metrics (the controller's name). */
  name: string;
  clock?: Clock;
  /** Default: client-go's controller default (per item 5 ms..1000 s, overall 10 qps / burst 100). */
  rateLimiter?: RateLimiter<K>;
  registry?: Registry;
}

interface Delayed<K> {
  at: number;
  seq: number;
  key: K;
}

interface QueueMetrics {
  depth: Gauge<'name'>;
  adds: Counter<'name'>;
  retries: Counter<'name'>;
  queueDuration: Histogram<'name'>;
  workDuration: Histogram<'name'>;
  longest: Gauge<'name'>;
}

// Queues per registry, so the longest-running gauge (one metric, a label per queue) can
// ask each of them at scrape time.
const queuesByRegistry = new WeakMap<Registry, Set<WorkQueue<unknown>>>();

function queueMetrics(registry: Registry): QueueMetrics {
  // controller-runtime's buckets for both durations: 10 ns .. 1000 s, in seconds.
  const buckets = exponentialBuckets(10e-9, 10, 12);
  return {
    depth: gauge(registry, 'workqueue_depth', 'Current depth of workqueue', ['name']),
    adds: counter(registry, 'workqueue_adds_total', 'Total number of adds handled by workqueue', ['name']),
    retries: counter(registry, 'workqueue_retries_total', 'Total number of retries handled by workqueue', [
      'name',
    ]),
    queueDuration: histogram(
      registry,
      'workqueue_queue_duration_seconds',
      'How long in seconds an item stays in workqueue before being requested',
      ['name'],
      buckets,
    ),
    workDuration: histogram(
      registry,
      'workqueue_work_duration_seconds',
      'How long in seconds processing an item from workqueue takes.',
      ['name'],
      buckets,
    ),
    longest: gauge(
      registry,
      'workqueue_longest_running_processor_seconds',
      'How many seconds has the longest running processor for workqueue been running.',
      ['name'],
      () => {
        for (const q of queuesByRegistry.get(registry) ?? []) q.updateLongestRunning();
      },
    ),
  };
}

export class WorkQueue<K = string> {
  readonly name: string;
  readonly #clock: Clock;
  readonly #limiter: RateLimiter<K>;
  readonly #registry: Registry;
  readonly #m: QueueMetrics;
  // FIFO as an array with a moving head: shift() would be O(n) per get with 10 000 keys.
  #queue: K[] = [];
  #head = 0;
  /** Keys that need processing (queued, or re-added while processing). */
  readonly #dirty = new Set<K>();
  /** Keys a worker holds, with when it got them (ms). */
  readonly #processing = new Map<K, number>();
  /** When each queued key was first added, for workqueue_queue_duration_seconds (ms). */
  readonly #addedAt = new Map<K, number>();
  readonly #waiters: ((key: K | undefined) => void)[] = [];
  // Delayed keys: the heap orders them, #waiting holds each key's live entry (a stale
  // heap entry, superseded by an earlier time, is skipped when popped).
  readonly #delayed = new MinHeap<Delayed<K>>((a, b) => a.at < b.at || (a.at === b.at && a.seq < b.seq));
  readonly #waiting = new Map<K, Delayed<K>>();
  #seq = 0;
  #timer: { handle: TimerHandle; at: number } | undefined;
  #shuttingDown = false;

  constructor(opts: WorkQueueOptions<K>) {
    this.name = opts.name;
    this.#clock = opts.clock ?? systemClock;
    this.#limiter = opts.rateLimiter ?? defaultControllerRateLimiter<K>(this.#clock);
    this.#registry = opts.registry ?? new Registry();
    this.#m = queueMetrics(this.#registry);
    let set = queuesByRegistry.get(this.#registry);
    if (!set) queuesByRegistry.set(this.#registry, (set = new Set()));
    set.add(this as WorkQueue<unknown>);
    this.#m.depth.set({ name: this.name }, 0);
    this.#m.adds.inc({ name: this.name }, 0);
    this.#m.retries.inc({ name: this.name }, 0);
    this.#m.queueDuration.zero({ name: this.name });
    this.#m.workDuration.zero({ name: this.name });
  }

  /** Keys waiting to be handed out (not those being processed or delayed). */
  get len(): number {
    return this.#queue.length - this.#head;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  add(key: K): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#m.adds.inc({ name: this.name });
    this.#dirty.add(key);
    if (this.#processing.has(key)) return; // done() queues it again
    this.#push(key);
  }

  /** Adds key after ms; a key already waiting keeps the earlier of the two times. */
  addAfter(key: K, ms: number): void {
    if (this.#shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const at = this.#clock.now() + ms;
    const cur = this.#waiting.get(key);
    if (cur && cur.at <= at) return;
    const d: Delayed<K> = { at, seq: this.#seq++, key };
    this.#waiting.set(key, d);
    this.#delayed.push(d);
    this.#arm();
  }

  /** Adds key after the rate limiter's delay: call it when processing key failed. */
  addRateLimited(key: K): void {
    if (this.#shuttingDown) return;
    this.#m.retries.inc({ name: this.name });
    this.addAfter(key, this.#limiter.when(key));
  }

  /** Clears key's failure history: call it when processing key succeeded. */
  forget(key: K): void {
    this.#limiter.forget(key);
  }

  numRequeues(key: K): number {
    return this.#limiter.numRequeues(key);
  }

  /**
   * The next key, once one is available; undefined when the queue is shut down and
   * empty, or when `signal` aborts first. The caller owns the key until done(key).
   * Pass the signal rather than racing get() against it: a get() left waiting would
   * later take a key that no worker processes.
   */
  get(signal?: AbortSignal): Promise<K | undefined> {
    if (this.len > 0) return Promise.resolve(this.#take());
    if (this.#shuttingDown || signal?.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      if (!signal) return void this.#waiters.push(resolve);
      const onAbort = (): void => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        resolve(undefined);
      };
      const waiter = (key: K | undefined): void => {
        signal.removeEventListener('abort', onAbort);
        resolve(key);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Releases key; if it was added meanwhile, it is queued again. */
  done(key: K): void {
    const started = this.#processing.get(key);
    if (started === undefined) return;
    this.#processing.delete(key);
    this.#m.workDuration.observe({ name: this.name }, (this.#clock.now() - started) / 1000);
    if (this.#dirty.has(key)) this.#push(key);
  }

  /** Stops accepting keys; waiting get()s resolve undefined; queued keys are still handed out. */
  shutDown(): void {
    this.#shuttingDown = true;
    this.#timer?.handle.cancel();
    this.#timer = undefined;
    this.#delayed.clear();
    this.#waiting.clear();
    for (const w of this.#waiters.splice(0)) w(undefined);
    queuesByRegistry.get(this.#registry)?.delete(this as WorkQueue<unknown>);
    this.#m.longest.set({ name: this.name }, 0);
  }

  /** Sets workqueue_longest_running_processor_seconds (called at scrape time). */
  updateLongestRunning(): void {
    let oldest = Infinity;
    for (const t of this.#processing.values()) oldest = Math.min(oldest, t);
    const s = oldest === Infinity ? 0 : (this.#clock.now() - oldest) / 1000;
    this.#m.longest.set({ name: this.name }, s);
  }

  #push(key: K): void {
    if (!this.#addedAt.has(key)) this.#addedAt.set(key, this.#clock.now());
    this.#queue.push(key);
    this.#m.depth.set({ name: this.name }, this.len);
    // Hand keys straight to waiting workers.
    while (this.#waiters.length && this.len > 0) this.#waiters.shift()?.(this.#take());
  }

  #take(): K {
    const key = this.#queue[this.#head] as K;
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    const now = this.#clock.now();
    this.#dirty.delete(key);
    this.#processing.set(key, now);
    const added = this.#addedAt.get(key);
    this.#addedAt.delete(key);
    if (added !== undefined) this.#m.queueDuration.observe({ name: this.name }, (now - added) / 1000);
    this.#m.depth.set({ name: this.name }, this.len);
    return key;
  }

  // One timer, for the earliest delayed key; re-armed when that changes.
  #arm(): void {
    let next = this.#delayed.peek();
    while (next && this.#waiting.get(next.key) !== next) {
      this.#delayed.pop();
      next = this.#delayed.peek();
    }
    if (!next) {
      this.#timer?.handle.cancel();
      this.#timer = undefined;
      return;
    }
    if (this.#timer && this.#timer.at === next.at) return;
    this.#timer?.handle.cancel();
    const at = next.at;
    this.#timer = { at, handle: this.#clock.setTimer(() => this.#fire(), at - this.#clock.now()) };
  }

  #fire(): void {
    this.#timer = undefined;
    const now = this.#clock.now();
    // Bounded by the heap size: each turn pops one entry.
    for (let d = this.#delayed.peek(); d && d.at <= now; d = this.#delayed.peek()) {
      this.#delayed.pop();
      if (this.#waiting.get(d.key) !== d) continue;
      this.#waiting.delete(d.key);
      this.add(d.key);
    }
    this.#arm();
  }
}
