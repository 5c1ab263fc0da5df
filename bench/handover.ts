// `npm run bench:handover -- [--json] [--upgrades N] [--rate R] ...`
//
// The demo server under steady load (keep-alive and new connections, 127.0.0.1 only),
// upgraded N times in slot mode, N times in binary mode and N times by a plain
// stop-and-start, each upgrade inside its own window of load (bench/windows.ts). The
// sidecar watches the slot-mode volume and its idle cost is measured afterwards.
// Progress goes to stderr; the last line on stdout is one JSON object (bench/summary.ts).
// Every process and the temporary directory go at the end, on failure and on Ctrl-C.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LoadThread } from './load.ts';
import { busyPct, codeHash, loadavg, sampleCpu } from './machine.ts';
import { parseOptions, USAGE, type BenchOptions, type Mode } from './options.ts';
import { Processes } from './procs.ts';
import { table, windowLine } from './render.ts';
import { makeScenario, type ScenarioContext } from './scenarios.ts';
import { buildSidecar, measureSidecar, startSidecar, type SidecarRun } from './sidecar.ts';
import {
  buildResult,
  summarizeMode,
  type ModeSummary,
  type SidecarCost,
  type WindowResult,
} from './summary.ts';
import { WindowError, WindowRunner } from './windows.ts';
import { freePort } from '../demo/ports.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Grace for every process at clean-up, in ms. */
const CLEANUP_GRACE_MS = 3_000;
/** The code a run measures (hashed into the result). */
const CODE_DIRS = ['sdk', 'launcher', 'demo', 'sidecar'] as const;

const progress = (line: string): void => void process.stderr.write(line + '\n');

/** What the stager copies in binary mode: the demo, the SDK and a link to the dependencies. */
function makeAppDir(tmp: string): string {
  const app = path.join(tmp, 'app');
  fs.mkdirSync(app, { recursive: true });
  for (const d of ['demo', 'sdk']) fs.cpSync(path.join(ROOT, d), path.join(app, d), { recursive: true });
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(app, 'node_modules'));
  return app;
}

interface ModeRun {
  windows: WindowResult[];
  sidecar?: SidecarCost;
  error?: string;
  /** Load average (1, 5, 15 min) when the mode ended. */
  loadavgEnd?: number[];
}

async function runMode(
  mode: Mode,
  o: BenchOptions,
  tmp: string,
  procs: Processes,
  load: LoadThread,
  sidecarEntry: string | undefined,
): Promise<ModeRun> {
  const base = path.join(tmp, mode);
  const ctx: ScenarioContext = {
    procs,
    root: ROOT,
    dir: path.join(base, 'volume'),
    shmDir: path.join(base, 'shm'),
    port: await freePort(),
    appDir: path.join(tmp, 'app'),
  };
  fs.mkdirSync(ctx.dir, { recursive: true });
  const scenario = makeScenario(mode, ctx);
  const runner = new WindowRunner(
    load,
    {
      url: `http://127.0.0.1:${ctx.port}`,
      rate: o.rate,
      sessions: o.sessions,
      keepAliveShare: o.keepAliveShare,
      retryKeepAlive: o.retry,
    },
    mode,
  );
  const windows: WindowResult[] = [];
  const out: ModeRun = { windows };
  let sidecar: SidecarRun | undefined;
  try {
    if (mode === 'slot' && o.sidecarIdleS > 0)
      sidecar = await startSidecar(procs, ROOT, ctx.dir, await freePort(), sidecarEntry);
    await scenario.start();
    progress(`${mode}: ${scenario.version} serving on 127.0.0.1:${ctx.port} [${scenario.describe()}]`);
    windows.push(await runner.run('warmup', 1));
    progress(windowLine(windows[windows.length - 1] as WindowResult, 1));
    for (let i = 1; i <= o.baselineWindows; i++) {
      windows.push(await runner.run('baseline', i));
      progress(windowLine(windows[windows.length - 1] as WindowResult, o.baselineWindows));
    }
    for (let i = 1; i <= o.baselineWindows; i++) {
      // The same code starting and exiting with no handover: how much of an upgrade's gap
      // is only the CPU a new Node process takes on this machine.
      const control = (): Promise<undefined> =>
        procs
          .startNode(`control-${mode}-${i}`, ['launcher/main.ts', '--help'], process.env, ROOT)
          .exited.then(() => undefined);
      windows.push(await runner.run('control', i, control));
      progress(windowLine(windows[windows.length - 1] as WindowResult, o.baselineWindows));
    }
    for (let i = 1; i <= o.upgrades; i++) {
      const next = `v${i + 1}`;
      windows.push(await runner.run('upgrade', i, () => scenario.upgrade(next)));
      progress(windowLine(windows[windows.length - 1] as WindowResult, o.upgrades));
    }
    if (sidecar) {
      progress(`sidecar: watching it idle for ${o.sidecarIdleS} s (pid ${sidecar.proc.pid})`);
      out.sidecar = await measureSidecar(sidecar, o.sidecarIdleS);
      progress(
        `sidecar: ${out.sidecar.rssMb} MiB resident, ${out.sidecar.anonRssMb} MiB private (peak ${out.sidecar.peakRssMb} MiB), ${out.sidecar.cpuPct}% CPU idle; ${out.sidecar.command}`,
      );
    }
  } catch (err) {
    if (err instanceof WindowError) {
      windows.push(err.window);
      progress(windowLine(err.window, o.upgrades));
    }
    out.error = `${mode}: ${(err as Error).message}`;
    progress(`${out.error}; logs in ${path.join(tmp, 'logs')}${o.keep ? '' : ' (use --keep to keep them)'}`);
  } finally {
    await procs.stopAll(CLEANUP_GRACE_MS);
    out.loadavgEnd = loadavg();
    progress(`${mode}: done; load average ${out.loadavgEnd.join(' ')}`);
  }
  return out;
}

async function main(): Promise<number> {
  const parsed = parseOptions(process.argv.slice(2));
  if (parsed.kind === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (parsed.kind === 'error') {
    console.error(`bench:handover: ${parsed.error}\n\n${USAGE}`);
    return 64;
  }
  const o = parsed.options;
  const t0 = Date.now();
  const loadavgStart = loadavg();
  const cpuStart = sampleCpu();
  const codeAtStart = codeHash(ROOT, CODE_DIRS);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hotupgrade-bench-'));
  const procs = new Processes(path.join(tmp, 'logs'));
  const load = new LoadThread();
  const removeTmp = (): void => {
    if (!o.keep) fs.rmSync(tmp, { recursive: true, force: true });
  };
  // Last resort, whatever path the process takes out: no server and no temp dir left behind.
  process.on('exit', () => {
    procs.killAllNow();
    removeTmp();
  });
  let interrupted = false;
  const abort = (why: string, code: number): void => {
    if (interrupted) return;
    interrupted = true;
    progress(`bench:handover: ${why}; stopping every process`);
    void Promise.race([
      procs.stopAll(CLEANUP_GRACE_MS),
      new Promise((r) => setTimeout(r, CLEANUP_GRACE_MS + 1_000)),
    ]).finally(() => process.exit(code));
  };
  process.once('SIGINT', () => abort('interrupted', 130));
  process.once('SIGTERM', () => abort('terminated', 143));
  const watchdog = setTimeout(
    () => abort(`the run took longer than ${o.maxRunMs / 60_000} minutes (--max-minutes)`, 3),
    o.maxRunMs,
  );

  progress(
    `bench:handover: ${o.upgrades} upgrades per mode (${o.modes.join(', ')}), ${o.rate} req/s, ${os.availableParallelism()} CPUs, load average ${loadavgStart.join(' ')}; code ${codeAtStart}; temp ${tmp}`,
  );
  const runs: Partial<Record<Mode, ModeRun>> = {};
  try {
    if (o.modes.includes('binary')) makeAppDir(tmp);
    let sidecarEntry: string | undefined;
    if (o.modes.includes('slot') && o.sidecarIdleS > 0) {
      progress(
        'sidecar: compiling sidecar/ and sdk/ to JS (sidecar/README.md runs it that way in production)',
      );
      const built = buildSidecar(ROOT, path.join(tmp, 'sidecar-build'));
      if ('entry' in built) sidecarEntry = built.entry;
      else progress(`sidecar: ${built.error}; measuring node sidecar/server.ts instead`);
    }
    for (const mode of o.modes) runs[mode] = await runMode(mode, o, tmp, procs, load, sidecarEntry);
  } finally {
    clearTimeout(watchdog);
    await procs.stopAll(CLEANUP_GRACE_MS);
    await load.close();
  }

  const summaries: Partial<Record<Mode, ModeSummary>> = {};
  for (const [mode, run] of Object.entries(runs) as Array<[Mode, ModeRun]>)
    summaries[mode] = summarizeMode(run.windows);
  const errors = Object.values(runs).flatMap((r) => (r?.error ? [r.error] : []));
  const result = {
    ...buildResult({
      targetRate: o.rate,
      modes: summaries,
      sidecar: runs.slot?.sidecar,
      machine: {
        nproc: os.availableParallelism(),
        loadavgStart,
        loadavgEnd: loadavg(),
        cpuBusyPct: busyPct(cpuStart, sampleCpu()),
      },
      durationS: Math.round((Date.now() - t0) / 1000),
    }),
    gapsMs: summaries.slot?.gapsMs ?? null,
    binaryGapsMs: summaries.binary?.gapsMs ?? null,
    restartGapsMs: summaries.restart?.gapsMs ?? null,
    code: { hash: codeAtStart, changedDuringRun: codeHash(ROOT, CODE_DIRS) !== codeAtStart },
    loadavgAfterMode: Object.fromEntries(Object.entries(runs).map(([m, r]) => [m, r?.loadavgEnd ?? null])),
    errors,
  };
  if (o.keep) {
    fs.writeFileSync(path.join(tmp, 'windows.json'), JSON.stringify(runs, null, 1));
    progress(`kept ${tmp} (logs/, windows.json, each mode's volume)`);
  }
  if (!o.json) process.stdout.write(table(summaries) + '\n');
  process.stdout.write(JSON.stringify(result) + '\n');
  removeTmp();
  return errors.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('bench:handover failed:', err);
    process.exit(2);
  },
);
