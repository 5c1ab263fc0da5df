// Load generator for the demo server: a steady rate of `GET /s/<id>` over many sessions,
// part on keep-alive connections (an undici Pool) and part on a fresh TCP connection
// each (node:http, agent:false), recording what a user of the service would notice:
// failed requests, latency, the longest silence between answers, and sessions whose
// counter did not continue (state lost).
//
//   node demo/loadgen.ts --url http://127.0.0.1:8080 --rate 2000/s --sessions 500 \
//     --keep-alive-share 0.8 --duration 30s            -> prints a LoadReport as JSON
//
// Each session is owned by at most one request at a time, so its answers arrive in
// order and `count` must be the previous count + 1. The recorder below is pure (times
// are passed in), the driver around it does the I/O.
import http from 'node:http';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

/** Hard bounds, whatever the caller asks for. */
export const LIMITS = {
  /** Longest run, in ms. */
  maxDurationMs: 3_600_000,
  /** Highest rate, in requests per second. */
  maxRate: 50_000,
  /** Failures and lost-state events kept in full in a report (all are counted). */
  maxRecorded: 200,
  /** Latency samples kept; beyond this every further sample replaces a random kept one. */
  maxLatencySamples: 500_000,
} as const;

export interface LoadOptions {
  /** Base URL of the server, e.g. http://127.0.0.1:8080 (loopback in tests). */
  url: string;
  /** Requests per second started, at most; fewer when every session is busy. */
  rate: number;
  /** Number of sessions; ids are firstSession .. firstSession + sessions - 1. */
  sessions: number;
  /** Share of requests sent on pooled keep-alive connections, 0..1; the rest use a new connection each. */
  keepAliveShare: number;
  /** Stops by itself after this many ms (default and cap: LIMITS.maxDurationMs). */
  durationMs?: number;
  /** Requests in flight at most (default 256); a request that would exceed it is skipped, not sent. */
  maxInFlight?: number;
  /** A request without a complete answer after this many ms fails as a timeout (default 5000). */
  timeoutMs?: number;
  /** Keep-alive connections in the pool (default 16). */
  connections?: number;
  firstSession?: number;
  /** Counts already seen per session (from an earlier run's report.lastCounts), so continuity spans runs. */
  baseline?: Record<string, number>;
  /** Sessions of the baseline whose last request failed (report.uncertain): their next count may skip ahead. */
  uncertain?: number[];
  /**
   * Retry a request once when its keep-alive connection is closed or reset before any
   * answer, as HTTP clients do for idempotent requests (RFC 9112 §9.3.1; Go's net/http,
   * browsers): a server may close an idle connection just as a request is sent on it.
   * Retries are counted in the report. Default true; fresh connections are never retried.
   */
  retryKeepAlive?: boolean;
}

/** Errors of a keep-alive connection closed under a request before any answer: retried once. */
export const RETRYABLE = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

export type Transport = 'keepalive' | 'fresh';

export interface Failure {
  /** ms since the run started */
  atMs: number;
  session: number;
  transport: Transport;
  reason: string;
}

export interface LostStateEvent {
  atMs: number;
  session: number;
  /** The count this session should have answered next. */
  expected: number;
  got: number;
}

export interface LoadReport {
  durationMs: number;
  /** Requests started. */
  sent: number;
  ok: number;
  failed: number;
  /** Requests not started because every session was busy or maxInFlight was reached. */
  skipped: number;
  /** Keep-alive requests retried once after their connection closed before any answer (see LoadOptions.retryKeepAlive). */
  retried: number;
  retryReasons: Record<string, number>;
  inFlight: number;
  failures: Failure[];
  /** Failures per reason, e.g. {"ECONNREFUSED": 3, "status 503": 1}. */
  failureReasons: Record<string, number>;
  latencyMs: { p50: number; p99: number; max: number };
  /** Longest time between two consecutive successful answers, in ms. */
  maxGapMs: number;
  /** When the longest gap ended, ms since the run started. */
  maxGapAtMs: number;
  /** Time from the last successful answer to the end of the run, in ms (the gap still open). */
  trailingGapMs: number;
  sessionsSeen: number;
  /** Sessions whose counter did not continue at least once. */
  sessionsLost: number;
  /** Their ids, ascending (as many as there are sessions at most). */
  lostSessionIds: number[];
  lostEvents: LostStateEvent[];
  lostEventCount: number;
  /** Successful answers per server version, e.g. {"v1": 900, "v2": 1100}. */
  versions: Record<string, number>;
  /** Successful answers per slot. */
  slots: Record<string, number>;
  /** Successful answers per pod, for servers that name it (the demo does, in a pod); empty otherwise. */
  pods: Record<string, number>;
  /**
   * Last count seen per session: the baseline of a following run. Keyed by the session id,
   * or by `<pod>/<session>` when the server names its pod: each pod keeps its own counter
   * of a session, so continuity is checked per pod (requests through a Service land on any pod).
   */
  lastCounts: Record<string, number>;
  /** Sessions whose last request failed or was retried, so the server may have counted more than lastCounts. */
  uncertain: number[];
}

/** The options that make a following run check continuity from where `report` ended. */
export function continueFrom(report: LoadReport): Pick<LoadOptions, 'baseline' | 'uncertain'> {
  return { baseline: report.lastCounts, uncertain: report.uncertain };
}

/** One successful answer as the driver saw it. */
export interface Success {
  session: number;
  /** ms since the run started, when the answer completed */
  atMs: number;
  latencyMs: number;
  count: number;
  version: string;
  slot: string;
  /** The pod that answered, when the server says. */
  pod?: string;
}

/** Nearest-rank percentile of ascending `sorted`; 0 for no samples. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

/**
 * Continuity of one session's counter. After a failure on the same session the server
 * may have counted a hit whose answer was lost, so the next count may skip ahead; only
 * a count that does not move forward is then state lost.
 */
export function continues(last: number | undefined, count: number, failedSince: boolean): boolean {
  if (last === undefined) return true;
  return failedSince ? count > last : count === last + 1;
}

/** The key of one session's counter: per pod when the server names its pod. */
export const counterKey = (session: number, pod?: string): string =>
  pod === undefined ? String(session) : `${pod}/${session}`;

/** The pod of a lastCounts key, or undefined for a key without one. */
export function podOfKey(key: string): string | undefined {
  const i = key.lastIndexOf('/');
  return i < 0 ? undefined : key.slice(0, i);
}

/**
 * Sessions whose state lived on a pod that is gone: their counter there can never
 * continue. A rolling update loses these even when no answer ever went backwards.
 */
export function sessionsOnGonePods(
  report: Pick<LoadReport, 'lastCounts'>,
  livePods: Iterable<string>,
): Set<number> {
  const live = new Set(livePods);
  const gone = new Set<number>();
  for (const key of Object.keys(report.lastCounts)) {
    const pod = podOfKey(key);
    if (pod !== undefined && !live.has(pod)) gone.add(Number(key.slice(pod.length + 1)));
  }
  return gone;
}

/** Sessions whose state a user lost: a counter that did not continue, or state on a pod that is gone. */
export function sessionsLostWith(
  report: Pick<LoadReport, 'lastCounts' | 'lostSessionIds'>,
  livePods: Iterable<string>,
): number {
  const lost = sessionsOnGonePods(report, livePods);
  for (const s of report.lostSessionIds) lost.add(s);
  return lost.size;
}

/** Accumulates answers and failures; pure apart from the random reservoir replacement. */
export class LoadRecorder {
  private readonly last = new Map<string, number>();
  /** Sessions whose last request failed or was retried (the report's `uncertain`). */
  private readonly failedLast = new Set<number>();
  /**
   * Sessions with a failure or retry whose hit the server may have counted, each with the
   * counters already seen since: a failed request does not say which pod counted it, so
   * every counter of the session may skip ahead once.
   */
  private readonly failedSince = new Map<number, Set<string>>();
  private readonly seen = new Set<number>();
  private readonly lostSessions = new Set<number>();
  private readonly latencies: number[] = [];
  private latencyCount = 0;
  private latencyMax = 0;
  private lastOkAtMs: number | undefined;
  private readonly startedAtMs: number;
  sent = 0;
  ok = 0;
  failed = 0;
  skipped = 0;
  retried = 0;
  inFlight = 0;
  maxGapMs = 0;
  maxGapAtMs = 0;
  readonly failures: Failure[] = [];
  readonly failureReasons: Record<string, number> = {};
  readonly retryReasons: Record<string, number> = {};
  readonly lostEvents: LostStateEvent[] = [];
  lostEventCount = 0;
  readonly versions: Record<string, number> = {};
  readonly slots: Record<string, number> = {};
  readonly pods: Record<string, number> = {};

  /** startedAtMs: when the gap clock starts (the first answer's gap is measured from it). */
  constructor(baseline: Record<string, number> = {}, startedAtMs = 0, uncertain: number[] = []) {
    for (const [k, v] of Object.entries(baseline)) {
      this.last.set(k, v);
      this.seen.add(Number(k.slice(k.lastIndexOf('/') + 1)));
    }
    for (const s of uncertain) this.markFailed(s);
    this.startedAtMs = startedAtMs;
  }

  success(s: Success): void {
    this.ok++;
    this.latencyCount++;
    this.latencyMax = Math.max(this.latencyMax, s.latencyMs);
    if (this.latencies.length < LIMITS.maxLatencySamples) this.latencies.push(s.latencyMs);
    else {
      const i = Math.floor(Math.random() * this.latencyCount);
      if (i < this.latencies.length) this.latencies[i] = s.latencyMs;
    }
    const gap = s.atMs - (this.lastOkAtMs ?? this.startedAtMs);
    if (gap > this.maxGapMs) {
      this.maxGapMs = gap;
      this.maxGapAtMs = s.atMs;
    }
    this.lastOkAtMs = Math.max(this.lastOkAtMs ?? s.atMs, s.atMs);
    this.versions[s.version] = (this.versions[s.version] ?? 0) + 1;
    this.slots[s.slot] = (this.slots[s.slot] ?? 0) + 1;
    if (s.pod !== undefined) this.pods[s.pod] = (this.pods[s.pod] ?? 0) + 1;
    const key = counterKey(s.session, s.pod);
    const last = this.last.get(key);
    const since = this.failedSince.get(s.session);
    this.seen.add(s.session);
    if (!continues(last, s.count, since !== undefined && !since.has(key))) {
      this.lostSessions.add(s.session);
      this.lostEventCount++;
      if (this.lostEvents.length < LIMITS.maxRecorded)
        this.lostEvents.push({ atMs: s.atMs, session: s.session, expected: (last ?? 0) + 1, got: s.count });
    }
    since?.add(key);
    this.failedLast.delete(s.session);
    this.last.set(key, s.count);
  }

  private markFailed(session: number): void {
    this.failedLast.add(session);
    this.failedSince.set(session, new Set());
  }

  failure(f: Failure): void {
    this.failed++;
    this.markFailed(f.session);
    this.failureReasons[f.reason] = (this.failureReasons[f.reason] ?? 0) + 1;
    if (this.failures.length < LIMITS.maxRecorded) this.failures.push(f);
  }

  /** A request retried: the first attempt may have been counted by the server, so the next count may skip ahead. */
  retry(session: number, reason: string): void {
    this.retried++;
    this.markFailed(session);
    this.retryReasons[reason] = (this.retryReasons[reason] ?? 0) + 1;
  }

  /** The report as of `nowMs` (ms since the run started). */
  report(nowMs: number): LoadReport {
    const sorted = Float64Array.from(this.latencies).sort();
    return {
      durationMs: nowMs,
      sent: this.sent,
      ok: this.ok,
      failed: this.failed,
      skipped: this.skipped,
      retried: this.retried,
      retryReasons: { ...this.retryReasons },
      inFlight: this.inFlight,
      failures: [...this.failures],
      failureReasons: { ...this.failureReasons },
      latencyMs: { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: this.latencyMax },
      maxGapMs: this.maxGapMs,
      maxGapAtMs: this.maxGapAtMs,
      trailingGapMs: Math.max(0, nowMs - (this.lastOkAtMs ?? this.startedAtMs)),
      sessionsSeen: this.seen.size,
      sessionsLost: this.lostSessions.size,
      lostSessionIds: [...this.lostSessions].sort((x, y) => x - y),
      lostEvents: [...this.lostEvents],
      lostEventCount: this.lostEventCount,
      versions: { ...this.versions },
      slots: { ...this.slots },
      pods: { ...this.pods },
      lastCounts: Object.fromEntries(this.last),
      uncertain: [...this.failedLast].sort((x, y) => x - y),
    };
  }
}

/** Which transport the i-th request (from 0) uses, spreading `share` evenly rather than at random. */
export function transportFor(i: number, share: number): Transport {
  return Math.floor((i + 1) * share) > Math.floor(i * share) ? 'keepalive' : 'fresh';
}

export interface LoadRun {
  /** Stops sending, waits for requests in flight (bounded by their timeout) and returns the report. */
  stop(): Promise<LoadReport>;
  /** The report so far, while running. */
  snapshot(): LoadReport;
  /** Resolves when the run ended by its duration (or stop()). */
  done: Promise<LoadReport>;
}

interface Answer {
  status: number;
  body: string;
}

function validate(o: LoadOptions): void {
  const u = new URL(o.url);
  if (u.protocol !== 'http:') throw new Error(`url must be http://host:port, got "${o.url}"`);
  if (!(o.rate > 0 && o.rate <= LIMITS.maxRate))
    throw new Error(`rate must be 1..${LIMITS.maxRate} requests per second, got ${o.rate}`);
  if (!(Number.isSafeInteger(o.sessions) && o.sessions > 0))
    throw new Error(`sessions must be a positive integer, got ${o.sessions}`);
  if (!(o.keepAliveShare >= 0 && o.keepAliveShare <= 1))
    throw new Error(`keepAliveShare must be between 0 and 1, got ${o.keepAliveShare}`);
}

export function startLoad(options: LoadOptions): LoadRun {
  validate(options);
  const base = new URL(options.url);
  const durationMs = Math.min(options.durationMs ?? LIMITS.maxDurationMs, LIMITS.maxDurationMs);
  const maxInFlight = Math.max(1, options.maxInFlight ?? 256);
  const timeoutMs = options.timeoutMs ?? 5_000;
  const first = options.firstSession ?? 0;
  const t0 = performance.now();
  const since = (): number => Math.round((performance.now() - t0) * 10) / 10;
  const rec = new LoadRecorder(options.baseline, 0, options.uncertain);
  const pool = new Pool(base.origin, {
    connections: options.connections ?? 16,
    pipelining: 1,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    connect: { timeout: timeoutMs },
  });
  // Idle sessions in FIFO order: a session is taken for one request and put back after it.
  const idle: number[] = Array.from({ length: options.sessions }, (_, i) => first + i);
  let idleHead = 0;
  const pending = new Set<Promise<void>>();
  let issued = 0;
  let stopped = false;

  const retryKeepAlive = options.retryKeepAlive ?? true;
  const keepAlive = async (path: string, session: number): Promise<Answer> => {
    const signal = AbortSignal.timeout(timeoutMs);
    for (let attempt = 0; ; attempt++) {
      try {
        const r = await pool.request({ path, method: 'GET', signal });
        return { status: r.statusCode, body: await r.body.text() };
      } catch (err) {
        const reason = reasonOf(err);
        if (!retryKeepAlive || attempt > 0 || !RETRYABLE.has(reason) || signal.aborted) throw err;
        rec.retry(session, reason);
      }
    }
  };
  const fresh = (path: string): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = http.get(
        { host: base.hostname, port: base.port, path, agent: false, headers: { connection: 'close' } },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          res.on('error', reject);
        },
      );
      const timer = setTimeout(
        () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })),
        timeoutMs,
      );
      req.on('close', () => clearTimeout(timer));
      req.on('error', reject);
    });

  const one = async (session: number, transport: Transport): Promise<void> => {
    const startedAt = performance.now();
    const path = `/s/${session}`;
    try {
      const a = await (transport === 'keepalive' ? keepAlive(path, session) : fresh(path));
      if (a.status !== 200)
        throw Object.assign(new Error(`status ${a.status}`), { code: `status ${a.status}` });
      const body = JSON.parse(a.body) as {
        session?: unknown;
        count?: unknown;
        version?: unknown;
        slot?: unknown;
        pod?: unknown;
      };
      if (body.session !== session || typeof body.count !== 'number')
        throw Object.assign(new Error(`unexpected body ${a.body.slice(0, 100)}`), { code: 'bad body' });
      rec.success({
        session,
        atMs: since(),
        latencyMs: Math.round((performance.now() - startedAt) * 100) / 100,
        count: body.count,
        version: String(body.version),
        slot: String(body.slot),
        ...(typeof body.pod === 'string' ? { pod: body.pod } : {}),
      });
    } catch (err) {
      rec.failure({ atMs: since(), session, transport, reason: reasonOf(err) });
    } finally {
      rec.inFlight--;
      idle.push(session);
    }
  };

  const send = (): void => {
    if (idleHead >= idle.length || rec.inFlight >= maxInFlight) {
      rec.skipped++;
      return;
    }
    const session = idle[idleHead++] as number;
    if (idleHead > 4096) {
      idle.splice(0, idleHead);
      idleHead = 0;
    }
    const transport = transportFor(rec.sent, options.keepAliveShare);
    rec.sent++;
    rec.inFlight++;
    const p = one(session, transport);
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };

  // A tick every few ms starts what the rate owes since the start; if the event loop
  // stalled, at most 100 ms worth is caught up and the rest counts as skipped.
  const tick = (): void => {
    if (stopped) return;
    const elapsed = performance.now() - t0;
    if (elapsed >= durationMs) {
      void finish();
      return;
    }
    let owed = Math.floor((elapsed / 1000) * options.rate) - issued;
    const burst = Math.max(1, Math.ceil(options.rate / 10));
    if (owed > burst) {
      rec.skipped += owed - burst;
      issued += owed - burst;
      owed = burst;
    }
    for (let i = 0; i < owed; i++) {
      issued++;
      send();
    }
  };
  const timer = setInterval(tick, 2);

  let finished: Promise<LoadReport> | undefined;
  let resolveDone!: (r: LoadReport) => void;
  const done = new Promise<LoadReport>((r) => (resolveDone = r));
  const finish = (): Promise<LoadReport> => {
    finished ??= (async () => {
      stopped = true;
      clearInterval(timer);
      const endedAt = since();
      // Every request ends by its own timeout; the extra second is a safety net.
      await Promise.race([
        Promise.allSettled([...pending]),
        new Promise((r) => setTimeout(r, timeoutMs + 1_000)),
      ]);
      await pool.destroy().catch(() => undefined);
      const report = rec.report(endedAt);
      resolveDone(report);
      return report;
    })();
    return finished;
  };

  return { stop: finish, snapshot: () => rec.report(since()), done };
}

/** A short, stable reason for a failed request: an error code where there is one. */
export function reasonOf(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'timeout';
    if (typeof e.code === 'string') return e.code;
    if (e.cause) return reasonOf(e.cause);
    if (typeof e.message === 'string') return e.message.slice(0, 80);
  }
  return String(err).slice(0, 80);
}

/** "2000", "2000/s" -> 2000. */
export function parseRate(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)(?:\/s)?$/.exec(raw.trim());
  if (!m) throw new Error(`--rate must be requests per second such as 2000 or 2000/s, got "${raw}"`);
  return Number(m[1]);
}

/** "1500", "1500ms", "30s", "2m" -> ms. */
export function parseDuration(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(raw.trim());
  if (!m) throw new Error(`--duration must be like 30s, 1500ms or 2m, got "${raw}"`);
  const unit = m[2] ?? 'ms';
  return Number(m[1]) * (unit === 's' ? 1_000 : unit === 'm' ? 60_000 : 1);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: 'http://127.0.0.1:8080' },
      rate: { type: 'string', default: '1000' },
      sessions: { type: 'string', default: '100' },
      'keep-alive-share': { type: 'string', default: '0.8' },
      duration: { type: 'string', default: '10s' },
      'max-in-flight': { type: 'string', default: '256' },
      timeout: { type: 'string', default: '5000ms' },
      connections: { type: 'string', default: '16' },
      'no-retry': { type: 'boolean', default: false },
    },
  });
  const run = startLoad({
    url: values.url,
    rate: parseRate(values.rate),
    sessions: Number(values.sessions),
    keepAliveShare: Number(values['keep-alive-share']),
    durationMs: parseDuration(values.duration),
    maxInFlight: Number(values['max-in-flight']),
    timeoutMs: parseDuration(values.timeout),
    connections: Number(values.connections),
    retryKeepAlive: !values['no-retry'],
  });
  process.once('SIGINT', () => void run.stop());
  process.once('SIGTERM', () => void run.stop());
  const report = await run.done;
  process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  process.exitCode = report.failed > 0 || report.sessionsLost > 0 ? 1 : 0;
}

if (import.meta.main) {
  main().catch((err: unknown) => {
    console.error((err as Error).message);
    process.exit(2);
  });
}
