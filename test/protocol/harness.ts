// The conformance harness: one "pod" is a temporary directory standing in for the shared
// volume (plus one for shared memory) and a loopback port; its slots are real processes
// started from a command line (HOTUPGRADE_CONFORMANCE_CMD, default the demo server), so
// the same scenarios run against any implementation of the protocol.
//
// Every wait is bounded in time and every process is killed (with its process group)
// by cleanup(); nothing asserts on how fast the machine is.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLoad, type LoadOptions, type LoadReport, type LoadRun } from '../../demo/loadgen.ts';
import { ENV } from '../../sdk/constants.ts';
import { readVersionFile, type SlotState, type VersionFile } from '../../sdk/versionFile.ts';
import { readVolume, type SlotView, type VolumeView } from '../../sdk/volume.ts';
import { freePort } from '../../demo/ports.ts';

export const REPO = path.resolve(import.meta.dirname, '../..');
/** The variable naming the slot program under test, as one command line. */
export const CMD_ENV = 'HOTUPGRADE_CONFORMANCE_CMD';

/** Splits a command line on blanks, honouring '...' and "..." quotes (no other shell syntax). */
export function splitCommand(line: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  let cur: string | undefined;
  let lastEnd = -1;
  for (let m = re.exec(line); m; m = re.exec(line)) {
    const part = m[1] ?? m[2] ?? m[3] ?? '';
    // Adjacent pieces without a blank between them form one word: a"b c" -> ab c.
    if (cur !== undefined && m.index === lastEnd) cur += part;
    else {
      if (cur !== undefined) out.push(cur);
      cur = part;
    }
    lastEnd = re.lastIndex;
  }
  if (cur !== undefined) out.push(cur);
  return out;
}

/** The slot program: HOTUPGRADE_CONFORMANCE_CMD, or this repository's demo server on the running node. */
export function slotCommand(env: NodeJS.ProcessEnv = process.env): string[] {
  const raw = env[CMD_ENV]?.trim();
  if (raw) return splitCommand(raw);
  return [process.execPath, path.join(REPO, 'demo/server.ts')];
}

/** The variable naming the placeholder program under test, as one command line. */
export const PLACEHOLDER_CMD_ENV = 'HOTUPGRADE_CONFORMANCE_PLACEHOLDER_CMD';

/** The placeholder program: HOTUPGRADE_CONFORMANCE_PLACEHOLDER_CMD, or this repository's placeholder on the running node. */
export function placeholderCommand(env: NodeJS.ProcessEnv = process.env): string[] {
  const raw = env[PLACEHOLDER_CMD_ENV]?.trim();
  if (raw) return splitCommand(raw);
  return [process.execPath, path.join(REPO, 'placeholder/main.ts')];
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` every 20 ms until it returns a value, or throws `what` with `context()` after timeoutMs. */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false,
  timeoutMs: number,
  context: () => string = () => '',
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${context()}`);
    await sleep(20);
  }
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SlotSpec {
  slot: string;
  version: string;
  /** Extra environment, e.g. {HOTUPGRADE_HANDOVER_DEADLINE_MS: '2000'}. */
  env?: Record<string, string>;
  /** Run this instead of the slot program (e.g. a version that crashes at once). */
  cmd?: string[];
}

const LOG_CAP = 64 * 1024;

/** One run of a slot's container: a process group, its output and its exit. */
export class SlotProcess {
  readonly slot: string;
  readonly version: string;
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  /** The instance id of the slot's version file before this process started: any other is ours. */
  readonly previousInstance: string | undefined;
  exit: Exit | undefined;
  private output = '';

  constructor(spec: SlotSpec, cmd: string[], env: NodeJS.ProcessEnv, previousInstance: string | undefined) {
    this.slot = spec.slot;
    this.version = spec.version;
    this.previousInstance = previousInstance;
    const [file, ...args] = cmd;
    if (!file) throw new Error(`the slot command is empty; set ${CMD_ENV} to a command line`);
    // detached: its own process group, so a wrapper (launcher, sh -c) dies with its children.
    this.child = spawn(file, args, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const keep = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString('utf8')).slice(-LOG_CAP);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => {
      this.child.once('error', (err) => {
        keep(Buffer.from(`spawn failed: ${err.message}\n`));
        this.exit = { code: -1, signal: null };
        resolve(this.exit);
      });
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** Sends `sig` to the whole process group. */
  signal(sig: NodeJS.Signals): void {
    if (!this.running || this.pid < 0) return;
    try {
      process.kill(-this.pid, sig);
    } catch {
      // already gone
    }
  }

  /**
   * What the kubelet does when the controller resets this slot to the placeholder image:
   * SIGTERM, then SIGKILL after the grace period (bounded).
   */
  async reset(graceMs = 10_000): Promise<Exit> {
    this.signal('SIGCONT');
    this.signal('SIGTERM');
    const e = await this.waitExit(graceMs);
    return this.running ? this.kill() : e;
  }

  /** kill -9 and wait for the exit (bounded). */
  async kill(): Promise<Exit> {
    this.signal('SIGCONT');
    this.signal('SIGKILL');
    return this.waitExit(10_000);
  }

  async waitExit(timeoutMs: number): Promise<Exit> {
    const t = sleep(timeoutMs).then(() => undefined);
    const e = await Promise.race([this.exited, t]);
    if (!e)
      throw new Error(
        `slot ${this.slot} (${this.version}, pid ${this.pid}) did not exit within ${timeoutMs} ms\n${this.log()}`,
      );
    return e;
  }

  /** The process's output so far (last 64 KiB), for failure messages. */
  log(): string {
    return this.output;
  }
}

/** Live slots whose process says it serves (serving, or draining while it still holds the lock). */
export function servingSlots(view: VolumeView): SlotView[] {
  return view.slots.filter((s) => s.alive && (s.file?.state === 'serving' || s.file?.state === 'draining'));
}

/** One pod: a shared volume, a shared-memory directory and a port, and the slots started in it. */
export class Pod {
  readonly root: string;
  readonly dir: string;
  readonly shmDir: string;
  readonly port: number;
  readonly cmd: string[];
  readonly procs: SlotProcess[] = [];
  private readonly loads: LoadRun[] = [];

  private constructor(root: string, port: number, cmd: string[]) {
    this.root = root;
    this.dir = path.join(root, 'volume');
    this.shmDir = path.join(root, 'shm');
    this.port = port;
    this.cmd = cmd;
    fs.mkdirSync(this.dir, { recursive: true });
    fs.mkdirSync(this.shmDir, { recursive: true });
  }

  static async create(cmd: string[] = slotCommand()): Promise<Pod> {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hotupgrade-conformance-'));
    return new Pod(root, await freePort(), cmd);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The environment a slot container gets in a pod spec; nothing of ours leaks in. */
  slotEnv(spec: SlotSpec): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env))
      if (!k.startsWith('HOTUPGRADE_') && !k.startsWith('VITEST')) env[k] = v;
    return {
      ...env,
      [ENV.dir]: this.dir,
      [ENV.slot]: spec.slot,
      [ENV.version]: spec.version,
      [ENV.listen]: `127.0.0.1:${this.port}`,
      [ENV.shmDir]: this.shmDir,
      ...spec.env,
    };
  }

  /** Starts (or restarts) a slot's container. */
  start(spec: SlotSpec): SlotProcess {
    const prior = readVolume(this.dir).slots.find((s) => s.slot === spec.slot)?.file?.instance;
    const p = new SlotProcess(spec, spec.cmd ?? this.cmd, this.slotEnv(spec), prior);
    this.procs.push(p);
    return p;
  }

  /**
   * Starts a helper of the pod that is not a slot (the sidecar, a slot under the
   * launcher): `name` labels it in failure messages; cleanup() kills it like a slot.
   */
  spawn(name: string, cmd: string[], env: Record<string, string>): SlotProcess {
    const p = new SlotProcess(
      { slot: name, version: '-', cmd },
      cmd,
      this.slotEnv({ slot: name, version: '-', env }),
      undefined,
    );
    this.procs.push(p);
    return p;
  }

  volume(): VolumeView {
    return readVolume(this.dir);
  }

  /** The version file this process wrote, once it wrote one. */
  fileOf(p: SlotProcess, view: VolumeView = this.volume()): VersionFile | undefined {
    const f = view.slots.find((s) => s.slot === p.slot)?.file;
    return f && f.instance !== p.previousInstance ? f : undefined;
  }

  /**
   * Waits until process `p` reports one of `states` in its version file and its slot looks
   * alive (a process writes its file before it takes the liveness lock, protocol §4.2), and,
   * for serving, holds the active lock.
   */
  async waitForState(
    p: SlotProcess,
    states: SlotState | SlotState[],
    timeoutMs = 20_000,
  ): Promise<VersionFile> {
    const want = Array.isArray(states) ? states : [states];
    return waitFor(
      `slot ${p.slot} (${p.version}) to be ${want.join(' or ')}`,
      () => {
        if (!p.running)
          throw new Error(
            `slot ${p.slot} (${p.version}) exited (${JSON.stringify(p.exit)}) before it was ${want.join(' or ')}\n${this.describe()}`,
          );
        const view = this.volume();
        const f = this.fileOf(p, view);
        if (!f || !want.includes(f.state)) return undefined;
        if (f.state !== 'stopped' && !view.slots.find((s) => s.slot === p.slot)?.alive) return undefined;
        if (f.state === 'serving' && !view.lockHeld) return undefined;
        return f;
      },
      timeoutMs,
      () => this.describe(),
    );
  }

  /** Waits until `pred` holds for the volume. */
  async waitForVolume(
    what: string,
    pred: (v: VolumeView) => boolean,
    timeoutMs = 20_000,
  ): Promise<VolumeView> {
    return waitFor(
      what,
      () => {
        const v = this.volume();
        return pred(v) ? v : undefined;
      },
      timeoutMs,
      () => this.describe(),
    );
  }

  /** One request on a new connection; never throws (a failure is status 0 and the error text). */
  async get(urlPath: string, timeoutMs = 5_000): Promise<{ status: number; body: string }> {
    try {
      const r = await fetch(this.url + urlPath, {
        signal: AbortSignal.timeout(timeoutMs),
        headers: { connection: 'close' },
      });
      return { status: r.status, body: await r.text() };
    } catch (err) {
      return { status: 0, body: String((err as Error).cause ?? err) };
    }
  }

  /** Starts a steady load against the pod; cleanup() stops it if the test does not. */
  load(options: Partial<LoadOptions> = {}): LoadRun {
    const run = startLoad({
      url: this.url,
      rate: 200,
      sessions: 40,
      keepAliveShare: 0.5,
      durationMs: 120_000,
      timeoutMs: 15_000,
      maxInFlight: 64,
      ...options,
    });
    this.loads.push(run);
    return run;
  }

  /** What the volume and each process say, for failure messages. */
  describe(): string {
    const view = this.volume();
    const lines = [`lockHeld=${view.lockHeld}`];
    for (const s of view.slots) {
      const f = s.file;
      lines.push(
        `  slot ${s.slot}: alive=${s.alive} ${f ? `${f.version} ${f.state} role=${f.role} pid=${f.pid}${f.error ? ` error=${f.error}` : ''}` : s.problem}`,
      );
    }
    for (const p of this.procs.slice(-4)) {
      const tail = p.log().split('\n').slice(-16).join('\n    ');
      lines.push(
        `--- ${p.slot} ${p.version} pid ${p.pid} ${p.running ? 'running' : `exited ${JSON.stringify(p.exit)}`}:\n    ${tail}`,
      );
    }
    return lines.join('\n');
  }

  /** Stops every load and kills every process group it started (SIGCONT first, for stopped ones), then removes the directories. */
  async cleanup(): Promise<void> {
    await Promise.allSettled(this.loads.map((l) => l.stop()));
    await Promise.allSettled(this.procs.filter((p) => p.running).map((p) => p.kill()));
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

/** What a scenario promises about a load run, with the failures in the message when it does not hold. */
export function lossSummary(r: LoadReport): {
  failed: number;
  sessionsLost: number;
  failures: unknown[];
  lostEvents: unknown[];
} {
  return {
    // A keep-alive request whose kept connection the old process closed as the client
    // reused it is retried once by the load generator, as HTTP clients do (RFC 9112
    // §9.3.1), and is not a failure here; the benchmark reports such retries separately.
    failed: r.failed,
    sessionsLost: r.sessionsLost,
    failures: r.failures.slice(0, 10),
    lostEvents: r.lostEvents.slice(0, 10),
  };
}

export const NO_LOSS = { failed: 0, sessionsLost: 0, failures: [], lostEvents: [] };

/**
 * Polls a slot's version file as fast as the event loop allows (yielding to I/O between
 * reads), bounded in time; returns the first state seen that `until` accepts. For moments
 * that last milliseconds, like a drain of the reference implementation.
 */
export async function pollState(
  dir: string,
  slot: string,
  until: (s: SlotState) => boolean,
  timeoutMs: number,
): Promise<SlotState> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const r = readVersionFile(dir, slot);
    if (r.kind === 'ok' && until(r.file.state)) return r.file.state;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`slot ${slot} did not reach the wanted state within ${timeoutMs} ms`);
}

/** Starts a slot and waits until it serves. */
export async function startServing(pod: Pod, spec: SlotSpec): Promise<SlotProcess> {
  const p = pod.start(spec);
  await pod.waitForState(p, 'serving');
  return p;
}

/**
 * One upgrade as the controller drives it: starts `spec` (the placeholder slot with the
 * new version) and waits until it serves and the old slot's process is idle.
 */
export async function upgrade(pod: Pod, old: SlotProcess, spec: SlotSpec): Promise<SlotProcess> {
  const next = pod.start(spec);
  await pod.waitForState(next, 'serving');
  await pod.waitForState(old, 'idle');
  return next;
}

/** Waits until the load has had `n` more successful answers than now: proof that service goes on. */
export async function moreAnswers(run: LoadRun, n: number, timeoutMs = 20_000): Promise<void> {
  const from = run.snapshot().ok;
  await waitFor(
    `${n} more successful answers`,
    () => run.snapshot().ok >= from + n,
    timeoutMs,
    () => JSON.stringify(lossSummary(run.snapshot())),
  );
}

/** The slot names that serve, as the volume says. */
export const servingNames = (pod: Pod): string[] => servingSlots(pod.volume()).map((s) => s.slot);

export { freePort };
