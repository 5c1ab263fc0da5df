// One timer for the whole simulator: a binary heap of due times behind a single
// setTimeout, so 10,000 pods starting together cost 10,000 heap entries, not 10,000
// Node timers. Cancelling marks the entry; it is dropped when it reaches the top.

export interface TimerHandle {
  cancel(): void;
}

interface Entry {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** Callbacks run per tick at most; the rest run on the next turn of the event loop. */
const MAX_PER_TICK = 2_000;

export class TimerQueue {
  private heap: Entry[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private armedAt = Infinity;
  private stopped = false;
  private readonly now: () => number;
  private readonly onError: (err: unknown) => void;

  constructor(opts: { now?: () => number; onError?: (err: unknown) => void } = {}) {
    this.now = opts.now ?? Date.now;
    this.onError = opts.onError ?? ((err) => console.error('nodesim timer callback failed', err));
  }

  /** Runs fn after ms (0 or less: on the next tick). */
  after(ms: number, fn: () => void): TimerHandle {
    const e: Entry = { at: this.now() + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    if (this.stopped) return { cancel: () => undefined };
    this.push(e);
    this.arm();
    return { cancel: () => void (e.cancelled = true) };
  }

  /** Entries waiting (cancelled ones included until they reach the top). */
  size(): number {
    return this.heap.length;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.heap = [];
  }

  private arm(): void {
    const top = this.heap[0];
    if (!top || this.stopped) return;
    if (this.timer && this.armedAt <= top.at) return;
    if (this.timer) clearTimeout(this.timer);
    this.armedAt = top.at;
    this.timer = setTimeout(() => this.fire(), Math.max(0, top.at - this.now()));
  }

  private fire(): void {
    this.timer = undefined;
    this.armedAt = Infinity;
    const now = this.now();
    for (let n = 0; n < MAX_PER_TICK; n++) {
      const top = this.heap[0];
      if (!top || top.at > now) break;
      this.pop();
      if (top.cancelled) continue;
      try {
        top.fn();
      } catch (err) {
        this.onError(err);
      }
    }
    this.arm();
  }

  private less(a: Entry, b: Entry): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(e: Entry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = h[parent] as Entry;
      if (!this.less(e, p)) break;
      h[i] = p;
      i = parent;
    }
    h[i] = e;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (!last || h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      let best = last;
      const le = h[l];
      const re = h[r];
      if (le && this.less(le, best)) {
        m = l;
        best = le;
      }
      if (re && this.less(re, best)) {
        m = r;
        best = re;
      }
      if (m === i) break;
      h[i] = best;
      i = m;
    }
    h[i] = last;
  }
}
