// One window of load around one step: start the load generator, let it settle, run the
// step (an upgrade, or nothing for a baseline), keep the load a little longer so the new
// version's first answers count, stop, and keep the session counters for the next window.
import { continueFrom, type LoadOptions, type LoadReport } from '../demo/loadgen.ts';
import type { LoadThread } from './load.ts';
import type { Mode } from './options.ts';
import type { UpgradeTiming, WindowKind, WindowResult } from './summary.ts';

/** Load before the step, so the window starts in steady state, in ms. */
export const WARM_MS = 1_000;
/** Load after the step, in ms. */
export const TAIL_MS = 500;
/** A baseline window's stand-in for the step, in ms (about an upgrade's length). */
export const HOLD_MS = 1_500;
/** A warm-up window (discarded) runs this long, in ms: JIT of the load generator and the server. */
export const WARMUP_MS = 3_000;
/** The load generator stops by itself after this, whatever happens to the benchmark, in ms. */
export const WINDOW_MAX_MS = 120_000;
/** A request without a full answer after this fails as a timeout, in ms. */
export const REQUEST_TIMEOUT_MS = 5_000;

export interface LoadShape {
  url: string;
  rate: number;
  sessions: number;
  keepAliveShare: number;
  retryKeepAlive: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class WindowRunner {
  private readonly load: LoadThread;
  private readonly shape: LoadShape;
  private readonly mode: Mode;
  /** Last count per session (and sessions whose last request failed), carried from window to window so lost state is seen across them. */
  private carry: Pick<LoadOptions, 'baseline' | 'uncertain'> = {};

  constructor(load: LoadThread, shape: LoadShape, mode: Mode) {
    this.load = load;
    this.shape = shape;
    this.mode = mode;
  }

  /** Runs one window; a step that fails still stops the load, and the error carries the window's report. */
  async run(
    kind: WindowKind,
    index: number,
    step?: () => Promise<UpgradeTiming | undefined>,
  ): Promise<WindowResult> {
    const loadStartedAtMs = await this.load.start({
      ...this.shape,
      durationMs: WINDOW_MAX_MS,
      timeoutMs: REQUEST_TIMEOUT_MS,
      ...this.carry,
    });
    let upgrade: UpgradeTiming | undefined;
    let error: unknown;
    try {
      await sleep(kind === 'warmup' ? WARMUP_MS : WARM_MS);
      if (step) upgrade = (await step()) ?? undefined;
      else if (kind === 'baseline') await sleep(HOLD_MS);
      await sleep(TAIL_MS);
    } catch (err) {
      error = err;
    }
    const full: LoadReport = await this.load.stop();
    this.carry = continueFrom(full);
    const report: LoadReport = { ...full, lastCounts: {} };
    const result: WindowResult = {
      mode: this.mode,
      kind,
      index,
      loadStartedAtMs,
      report,
      ...(upgrade ? { upgrade } : {}),
    };
    if (error !== undefined) throw new WindowError(error, result);
    return result;
  }
}

export class WindowError extends Error {
  override name = 'WindowError';
  readonly window: WindowResult;
  constructor(cause: unknown, window: WindowResult) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.window = window;
  }
}
