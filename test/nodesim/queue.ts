// A keyed work queue with a concurrency limit, as client-go's workqueue: a key is queued
// at most once, a key being worked on is not worked on twice at once, and a key added
// while in flight runs again afterwards. Coalescing happens here: the worker reads the
// latest state when it runs, so ten transitions while queued are one write.
import type { TimerQueue } from './timers.ts';

/** What a worker says about a key: done, or try again after a delay (ms). */
export type WorkResult = 'done' | { retryAfterMs: number };

export interface WorkQueueOptions {
  concurrency: number;
  timers: TimerQueue;
  work(key: string, attempt: number): Promise<WorkResult>;
  /** A worker that throws is a bug: reported here, the key is dropped. */
  onError(key: string, err: unknown): void;
  /** Retries per key before it is dropped (a later add starts over). */
  maxAttempts: number;
}

export class WorkQueue {
  private fifo: string[] = [];
  private head = 0;
  private readonly queued = new Set<string>();
  private readonly active = new Set<string>();
  private readonly again = new Set<string>();
  private readonly attempts = new Map<string, number>();
  private readonly opts: WorkQueueOptions;
  private running = 0;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(opts: WorkQueueOptions) {
    this.opts = opts;
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.active.has(key)) {
      this.again.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.fifo.push(key);
    this.pump();
  }

  /** Queued or in flight. */
  has(key: string): boolean {
    return this.queued.has(key) || this.active.has(key);
  }

  depth(): number {
    return this.queued.size;
  }

  inFlight(): number {
    return this.running;
  }

  /** Resolves when nothing is queued or in flight (or after timeoutMs). */
  idle(timeoutMs: number): Promise<void> {
    if (this.running === 0 && this.queued.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  stop(): void {
    this.stopped = true;
    this.fifo = [];
    this.head = 0;
    this.queued.clear();
    this.again.clear();
  }

  private pump(): void {
    while (!this.stopped && this.running < this.opts.concurrency && this.head < this.fifo.length) {
      const key = this.fifo[this.head++] as string;
      if (this.head > 1024 && this.head * 2 > this.fifo.length) {
        this.fifo = this.fifo.slice(this.head);
        this.head = 0;
      }
      this.queued.delete(key);
      this.active.add(key);
      this.running++;
      void this.runOne(key);
    }
    if (this.running === 0 && this.queued.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private async runOne(key: string): Promise<void> {
    const attempt = (this.attempts.get(key) ?? 0) + 1;
    let result: WorkResult = 'done';
    try {
      result = await this.opts.work(key, attempt);
    } catch (err) {
      this.opts.onError(key, err);
    }
    this.running--;
    this.active.delete(key);
    const again = this.again.delete(key);
    if (result !== 'done' && attempt < this.opts.maxAttempts && !this.stopped) {
      this.attempts.set(key, attempt);
      if (again) this.add(key);
      else this.opts.timers.after(result.retryAfterMs, () => this.add(key));
    } else {
      this.attempts.delete(key);
      if (again) this.add(key);
    }
    this.pump();
  }
}
