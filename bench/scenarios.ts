// The three ways the benchmark moves the demo server from v_n to v_n+1, on one shared
// volume and one port each. Every wait reads the version files (bench/settle.ts) and is
// bounded; a step that does not happen fails the run with the slots' state as evidence.
//
//   slot     two slots, plain `node demo/server.ts` (the SDK runs the protocol itself): start
//            the other slot with the new version, wait until it serves and the old one is
//            idle, then SIGTERM the old one (the controller resetting it to the placeholder)
//   binary   slot a runs `node launcher/main.ts -- node demo/server.ts`; slot b runs
//            `launcher/main.ts stage --from APP` with the new version, the launcher in slot a
//            swaps its child to the staged copy on the same sockets; then slot b is stopped
//   restart  one slot: SIGTERM the server, wait for it to exit, start the new version
import { ENV } from '../sdk/constants.ts';
import type { VersionFile } from '../sdk/versionFile.ts';
import type { Mode } from './options.ts';
import type { Processes, Started } from './procs.ts';
import { describeSlots, slotFileWhere, slotGone, waitFor, type Waited } from './settle.ts';
import type { UpgradeTiming } from './summary.ts';

/** Bound on each step of an upgrade (a process starting, a handover, a process stopping), in ms. */
export const STEP_TIMEOUT_MS = 30_000;
/** Grace between SIGTERM and SIGKILL for a process the benchmark stops, in ms. */
export const STOP_GRACE_MS = 10_000;

export interface ScenarioContext {
  procs: Processes;
  /** The repository root: cwd of every process. */
  root: string;
  /** The shared volume of this mode. */
  dir: string;
  shmDir: string;
  port: number;
  /** Binary mode: the application directory the stager copies (demo/, sdk/, node_modules link). */
  appDir: string;
}

export interface Scenario {
  readonly mode: Mode;
  /** Version serving now. */
  readonly version: string;
  start(): Promise<void>;
  /** Upgrades to `next`; rejects with the slots' state when a step does not happen in time. */
  upgrade(next: string): Promise<UpgradeTiming>;
  /** The slots' version files in one line, for progress and errors. */
  describe(): string;
}

export class StepError extends Error {
  override name = 'StepError';
}

function must<T>(w: Waited<T>, evidence: () => string): { value: T; atMs: number } {
  if (!w.ok) throw new StepError(`${w.error} [${evidence()}]`);
  return w;
}

function slotEnv(
  c: ScenarioContext,
  slot: string,
  version: string,
  mode: 'slot' | 'binary',
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  // Nothing of the caller's hot-upgrade environment leaks into the servers under test.
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('HOTUPGRADE_')) env[k] = v;
  return {
    ...env,
    [ENV.dir]: c.dir,
    [ENV.slot]: slot,
    [ENV.version]: version,
    [ENV.mode]: mode,
    [ENV.listen]: `127.0.0.1:${c.port}`,
    [ENV.shmDir]: c.shmDir,
  };
}

const other = (slot: string): string => (slot === 'a' ? 'b' : 'a');

/** Starts `node demo/server.ts` in `slot` and waits until that process serves. */
async function startServing(
  c: ScenarioContext,
  slot: string,
  version: string,
  describe: () => string,
): Promise<{ proc: Started; servingAtMs: number; file: VersionFile }> {
  const proc = c.procs.startNode(
    `${slot}-${version}`,
    ['demo/server.ts'],
    slotEnv(c, slot, version, 'slot'),
    c.root,
  );
  const w = must(
    await waitFor(
      `slot ${slot} (${version}) serving`,
      slotFileWhere(c.dir, slot, (f) => f.pid === proc.pid && f.state === 'serving'),
      STEP_TIMEOUT_MS,
      proc.exited,
    ),
    describe,
  );
  return { proc, servingAtMs: w.value.servingAtMs ?? w.atMs, file: w.value };
}

/** Stops a process the way the kubelet does (SIGTERM, then SIGKILL) and waits until its slot is free. */
async function stopSlot(
  c: ScenarioContext,
  proc: Started,
  slot: string,
  describe: () => string,
): Promise<{ sigtermAtMs: number; exitedAtMs: number }> {
  const sigtermAtMs = Date.now();
  await c.procs.stop(proc, STOP_GRACE_MS);
  const exitedAtMs = Date.now();
  must(await waitFor(`slot ${slot} released`, slotGone(c.dir, slot), STEP_TIMEOUT_MS), describe);
  return { sigtermAtMs, exitedAtMs };
}

/** The timestamps a version file holds, prefixed with a role ("old.releasedAtMs"). */
function fileEvents(prefix: string, f: VersionFile | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (!f) return out;
  for (const k of [
    'startedAtMs',
    'announcedAtMs',
    'listeningAtMs',
    'lockAcquiredAtMs',
    'servingAtMs',
    'drainStartedAtMs',
    'releasedAtMs',
  ] as const) {
    const v = f[k];
    if (v !== undefined) out[`${prefix}.${k}`] = v;
  }
  return out;
}

export class SlotScenario implements Scenario {
  readonly mode = 'slot';
  private readonly c: ScenarioContext;
  private slot = 'a';
  private proc: Started | undefined;
  version = 'v1';
  constructor(c: ScenarioContext) {
    this.c = c;
  }
  describe = (): string => describeSlots(this.c.dir, ['a', 'b']);

  async start(): Promise<void> {
    this.proc = (await startServing(this.c, this.slot, this.version, this.describe)).proc;
  }

  async upgrade(next: string): Promise<UpgradeTiming> {
    const from = this.version;
    const old = { slot: this.slot, proc: this.proc };
    const slot = other(this.slot);
    const triggerAtMs = Date.now();
    const started = await startServing(this.c, slot, next, this.describe);
    const idle = must(
      await waitFor(
        `slot ${old.slot} idle`,
        slotFileWhere(this.c.dir, old.slot, (f) => f.state === 'idle'),
        STEP_TIMEOUT_MS,
      ),
      this.describe,
    );
    const stopped = old.proc ? await stopSlot(this.c, old.proc, old.slot, this.describe) : undefined;
    this.slot = slot;
    this.proc = started.proc;
    this.version = next;
    const events = {
      ...fileEvents('new', started.file),
      ...fileEvents('old', idle.value),
      ...(stopped ? { 'old.sigtermAtMs': stopped.sigtermAtMs, 'old.exitedAtMs': stopped.exitedAtMs } : {}),
    };
    return {
      from,
      to: next,
      triggerAtMs,
      servingAtMs: started.servingAtMs,
      settledAtMs: Date.now(),
      handover: started.file.handover,
      events,
    };
  }
}

export class RestartScenario implements Scenario {
  readonly mode = 'restart';
  private readonly c: ScenarioContext;
  private proc: Started | undefined;
  version = 'v1';
  constructor(c: ScenarioContext) {
    this.c = c;
  }
  describe = (): string => describeSlots(this.c.dir, ['a']);

  async start(): Promise<void> {
    this.proc = (await startServing(this.c, 'a', this.version, this.describe)).proc;
  }

  async upgrade(next: string): Promise<UpgradeTiming> {
    const from = this.version;
    const triggerAtMs = Date.now();
    const stopped = this.proc ? await stopSlot(this.c, this.proc, 'a', this.describe) : undefined;
    const started = await startServing(this.c, 'a', next, this.describe);
    this.proc = started.proc;
    this.version = next;
    const events = {
      ...fileEvents('new', started.file),
      ...(stopped ? { 'old.sigtermAtMs': stopped.sigtermAtMs, 'old.exitedAtMs': stopped.exitedAtMs } : {}),
    };
    return { from, to: next, triggerAtMs, servingAtMs: started.servingAtMs, settledAtMs: Date.now(), events };
  }
}

export class BinaryScenario implements Scenario {
  readonly mode = 'binary';
  private readonly c: ScenarioContext;
  version = 'v1';
  constructor(c: ScenarioContext) {
    this.c = c;
  }
  describe = (): string => describeSlots(this.c.dir, ['a', 'b']);

  async start(): Promise<void> {
    const proc = this.c.procs.startNode(
      'a-launcher',
      ['launcher/main.ts', '--', 'node', 'demo/server.ts'],
      slotEnv(this.c, 'a', this.version, 'binary'),
      this.c.root,
    );
    must(
      await waitFor(
        'launcher in slot a serving',
        slotFileWhere(this.c.dir, 'a', (f) => f.pid === proc.pid && f.state === 'serving'),
        STEP_TIMEOUT_MS,
        proc.exited,
      ),
      this.describe,
    );
  }

  async upgrade(next: string): Promise<UpgradeTiming> {
    const from = this.version;
    const triggerAtMs = Date.now();
    const stager = this.c.procs.startNode(
      `b-stage-${next}`,
      ['launcher/main.ts', 'stage', '--from', this.c.appDir, '--', 'node', 'demo/server.ts'],
      slotEnv(this.c, 'b', next, 'binary'),
      this.c.root,
    );
    const staged = must(
      await waitFor(
        `slot b staged ${next}`,
        slotFileWhere(
          this.c.dir,
          'b',
          (f) => f.pid === stager.pid && (f.state === 'staged' || f.state === 'failed'),
        ),
        STEP_TIMEOUT_MS,
        stager.exited,
      ),
      this.describe,
    );
    const swapped = must(
      await waitFor(
        `slot a running ${next}`,
        slotFileWhere(this.c.dir, 'a', (f) => f.runningVersion === next && f.handover?.to.version === next),
        STEP_TIMEOUT_MS,
      ),
      this.describe,
    );
    // The controller resets the staging slot to the placeholder once the swap is confirmed.
    const stopped = await stopSlot(this.c, stager, 'b', this.describe);
    this.version = next;
    const h = swapped.value.handover;
    const events: Record<string, number> = {
      'stager.stagedAtMs': staged.value.updatedAtMs,
      'stager.sigtermAtMs': stopped.sigtermAtMs,
    };
    if (h) {
      // The launcher's own measures: swap started, old child drained, new child owns.
      events['swap.startAtMs'] = h.atMs - h.totalMs;
      events['swap.drainStartedAtMs'] = h.atMs - h.takeoverMs - h.drainMs;
      events['swap.releasedAtMs'] = h.atMs - h.takeoverMs;
      events['swap.servingAtMs'] = h.atMs;
    }
    return {
      from,
      to: next,
      triggerAtMs,
      servingAtMs: h?.atMs ?? swapped.atMs,
      settledAtMs: Date.now(),
      handover: h,
      events,
    };
  }
}

export function makeScenario(mode: Mode, c: ScenarioContext): Scenario {
  if (mode === 'slot') return new SlotScenario(c);
  if (mode === 'binary') return new BinaryScenario(c);
  return new RestartScenario(c);
}
