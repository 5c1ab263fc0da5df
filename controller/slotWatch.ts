// The completion signal read from the pod's sidecar (docs/controller.md, "The completion
// signal"): for each pod with a hot upgrade in flight, one long poll at a time on
// GET http://<pod IP>:9901/v1/slots/<slot>/ready?waitMs=..., which the sidecar answers as
// soon as the slot settles (or after waitMs). What it last said is a SlotReport; a change
// wakes the HotDeployment's reconcile. The slots then need no readiness probe, so a pod
// stays Ready through its upgrade.
//
// Only pods in flight are watched, so the cost is one idle connection per pod upgrading,
// not per pod. Errors (no route, the sidecar restarting) are retried with a short backoff;
// the handover deadline still bounds the upgrade.
import { Agent, request } from 'undici';
import type { SlotName } from './constants.ts';

/** What the sidecar last said about the slot of one upgrade. */
export interface SlotReport {
  slot: SlotName;
  /** The version the slot's live process runs (null without one). */
  version: string | null;
  ready: boolean;
  state: string | null;
  /** Why not ready, in the sidecar's words; or why the sidecar could not be asked. */
  reason?: string;
}

/** One pod to watch: its upgrade's slot and version, where its sidecar answers. */
export interface SlotTarget {
  uid: string;
  /** namespace/name, for logs and the sidecar's log line. */
  pod: string;
  ip: string;
  slot: SlotName;
  version: string;
}

export interface SlotWatchOptions {
  port: number;
  /** How long the sidecar may hold a not-ready answer, in ms. */
  waitMs?: number;
  /** Pause between asks once the slot is ready or after an error, in ms. */
  idleMs?: number;
  /** Called with the owner key when a report changes. */
  onChange: (owner: string) => void;
  log?: { debug(o: object, msg: string): void };
}

/** A not-ready answer faster than this did not wait in the sidecar. */
const MIN_WAIT_MS = 100;

const same = (a: SlotReport | undefined, b: SlotReport): boolean =>
  a !== undefined &&
  a.ready === b.ready &&
  a.version === b.version &&
  a.state === b.state &&
  a.slot === b.slot;

/** Parses the sidecar's answer; anything unexpected is a not-ready report saying so. */
export function parseReport(slot: SlotName, status: number, body: string): SlotReport {
  try {
    const o = JSON.parse(body) as Record<string, unknown>;
    if (typeof o.ready === 'boolean' && o.slot === slot) {
      return {
        slot,
        ready: o.ready && status === 200,
        version: typeof o.version === 'string' ? o.version : null,
        state: typeof o.state === 'string' ? o.state : null,
        ...(typeof o.reason === 'string' ? { reason: o.reason } : {}),
      };
    }
  } catch {
    // below
  }
  return {
    slot,
    ready: false,
    version: null,
    state: null,
    reason: `unexpected answer ${status}: ${body.slice(0, 120)}`,
  };
}

interface Watch {
  target: SlotTarget;
  owner: string;
  abort: AbortController;
}

export class SlotWatch {
  readonly #o: Required<Omit<SlotWatchOptions, 'log'>> & Pick<SlotWatchOptions, 'log'>;
  readonly #agent: Agent;
  /** By watch key (uid/slot/version). */
  readonly #watches = new Map<string, Watch>();
  /** By owner: the watch keys it asked for. */
  readonly #owners = new Map<string, Set<string>>();
  /** By pod uid. */
  readonly #reports = new Map<string, SlotReport & { key: string }>();
  #stopped = false;

  constructor(o: SlotWatchOptions) {
    this.#o = { waitMs: 10_000, idleMs: 500, ...o };
    this.#agent = new Agent({ connections: 1, keepAliveTimeout: 30_000, connect: { timeout: 2_000 } });
  }

  /** The last report for a pod's current upgrade, if any. */
  report(uid: string): SlotReport | undefined {
    return this.#reports.get(uid);
  }

  /** Pods currently watched. */
  get size(): number {
    return this.#watches.size;
  }

  /** Sets the pods `owner` (a HotDeployment key) wants watched; others of its are dropped. */
  watch(owner: string, targets: SlotTarget[]): void {
    if (this.#stopped) return;
    const want = new Set<string>();
    for (const t of targets) {
      const k = `${t.uid}/${t.slot}/${t.version}`;
      want.add(k);
      const w = this.#watches.get(k);
      if (w && w.target.ip === t.ip) continue;
      w?.abort.abort();
      const nw: Watch = { target: t, owner, abort: new AbortController() };
      this.#watches.set(k, nw);
      void this.#loop(k, nw);
    }
    for (const k of this.#owners.get(owner) ?? []) if (!want.has(k)) this.#drop(k);
    if (want.size) this.#owners.set(owner, want);
    else this.#owners.delete(owner);
  }

  /** Stops every watch (lost leadership, shutdown). */
  stop(): void {
    this.#stopped = true;
    for (const k of [...this.#watches.keys()]) this.#drop(k);
    this.#owners.clear();
    void this.#agent.close();
  }

  /** Stops watching, keeps nothing: a new start asks afresh. */
  pause(): void {
    for (const k of [...this.#watches.keys()]) this.#drop(k);
    this.#owners.clear();
  }

  #drop(k: string): void {
    const w = this.#watches.get(k);
    if (!w) return;
    w.abort.abort();
    this.#watches.delete(k);
    const r = this.#reports.get(w.target.uid);
    if (r?.key === k) this.#reports.delete(w.target.uid);
  }

  async #loop(k: string, w: Watch): Promise<void> {
    const { ip, slot, pod } = w.target;
    const host = ip.includes(':') ? `[${ip}]` : ip;
    const url = `http://${host}:${this.#o.port}/v1/slots/${slot}/ready?waitMs=${this.#o.waitMs}&pod=${encodeURIComponent(pod)}`;
    const signal = w.abort.signal;
    while (!signal.aborted) {
      let r: SlotReport;
      const askedAt = performance.now();
      try {
        const res = await request(url, {
          dispatcher: this.#agent,
          signal: AbortSignal.any([signal, AbortSignal.timeout(this.#o.waitMs + 5_000)]),
        });
        r = parseReport(slot, res.statusCode, await res.body.text());
      } catch (err) {
        if (signal.aborted) return;
        r = {
          slot,
          ready: false,
          version: null,
          state: null,
          reason: `sidecar at ${ip}:${this.#o.port}: ${(err as Error).message}`,
        };
      }
      if (signal.aborted) return;
      const prev = this.#reports.get(w.target.uid);
      if (!(prev?.key === k && same(prev, r))) {
        this.#reports.set(w.target.uid, { ...r, key: k });
        this.#o.log?.debug({ pod, slot, report: r }, 'slot report');
        this.#o.onChange(w.owner);
      }
      // A ready slot, or an error, is asked again after a pause; a not-ready answer has
      // already waited in the sidecar, unless it came at once (a sidecar too old to know
      // waitMs), which must not turn into a busy loop.
      const quick = performance.now() - askedAt < MIN_WAIT_MS;
      if (r.ready || r.state === null || quick) await sleep(this.#o.idleMs, signal);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
}
