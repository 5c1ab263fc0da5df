// The sidecar's idle cost, measured beside the slot-mode run: it watches the same
// shared volume through all the upgrades, then sits with no requests while /proc says
// how much memory it holds and how much CPU it burns (sidecar/measure.ts). It runs the
// way sidecar/README.md recommends for production: compiled JS with small-heap flags.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { measureIdle } from '../sidecar/measure.ts';
import type { Processes, Started } from './procs.ts';
import { waitFor } from './settle.ts';
import type { SidecarCost } from './summary.ts';

/** Bound on the sidecar's start, in ms. */
const START_TIMEOUT_MS = 30_000;
/** Bound on one HTTP request to the sidecar, in ms. */
const REQUEST_TIMEOUT_MS = 5_000;
/** Bound on compiling the sidecar, in ms. */
const BUILD_TIMEOUT_MS = 180_000;
/** sidecar/README.md's production flags. */
export const SIDECAR_NODE_FLAGS = ['--max-semi-space-size=1', '--lite-mode', '--max-old-space-size=64'];

/**
 * Compiles sidecar/ and sdk/ into `outDir` (as `npm run build` does into dist/, without
 * touching the repository) and returns the server's entry, or undefined when tsc emitted
 * nothing. Type errors elsewhere do not stop the emit.
 */
export function buildSidecar(root: string, outDir: string): { entry: string } | { error: string } {
  const config = path.join(outDir, 'tsconfig.json');
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(
    config,
    JSON.stringify({
      extends: path.join(root, 'tsconfig.build.json'),
      compilerOptions: {
        outDir: path.join(outDir, 'dist'),
        rootDir: root,
        typeRoots: [path.join(root, 'node_modules/@types')],
      },
      include: [path.join(root, 'sidecar/**/*.ts'), path.join(root, 'sdk/**/*.ts')],
      exclude: [path.join(root, '**/*.test.ts'), path.join(root, 'node_modules')],
    }),
  );
  const r = spawnSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', config], {
    encoding: 'utf8',
    timeout: BUILD_TIMEOUT_MS,
  });
  const entry = path.join(outDir, 'dist/sidecar/server.js');
  if (!fs.existsSync(entry))
    return { error: `tsc emitted no ${entry}: ${(r.stdout + r.stderr).slice(0, 500) || r.error?.message}` };
  // The compiled files are ES modules and import fastify & co. from the repository's node_modules.
  fs.writeFileSync(path.join(outDir, 'dist/package.json'), '{"type":"module"}\n');
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(outDir, 'dist/node_modules'));
  return { entry };
}

export interface SidecarRun {
  proc: Started;
  port: number;
  command: string;
}

/** Starts the sidecar (compiled `entry`, else `sidecar/server.ts`) on 127.0.0.1:port over `dir` and waits until /healthz answers. */
export async function startSidecar(
  procs: Processes,
  root: string,
  dir: string,
  port: number,
  entry?: string,
): Promise<SidecarRun> {
  const args = entry ? [...SIDECAR_NODE_FLAGS, entry] : ['sidecar/server.ts'];
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('HOTUPGRADE_')) env[k] = v;
  const proc = procs.startNode(
    'sidecar',
    args,
    {
      ...env,
      HOTUPGRADE_DIR: dir,
      HOTUPGRADE_SIDECAR_PORT: String(port),
      HOTUPGRADE_SIDECAR_HOST: '127.0.0.1',
    },
    root,
  );
  let healthy = false;
  let asking = false;
  const probe = (): true | undefined => {
    if (!healthy && !asking) {
      asking = true;
      fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
        .then(
          (r) => (healthy = r.ok),
          () => undefined,
        )
        .finally(() => (asking = false));
    }
    return healthy ? true : undefined;
  };
  const w = await waitFor('sidecar /healthz', probe, START_TIMEOUT_MS, proc.exited);
  if (!w.ok) throw new Error(`${w.error} (log: ${proc.log})`);
  const command = entry
    ? `node ${SIDECAR_NODE_FLAGS.join(' ')} dist/sidecar/server.js`
    : `node ${args.join(' ')}`;
  return { proc, port, command };
}

/** Asks each endpoint once (as probes and a scrape would), then watches the idle process for `seconds`. */
export async function measureSidecar(s: SidecarRun, seconds: number): Promise<SidecarCost> {
  for (const p of ['/readyz', '/v1/state', '/metrics']) {
    await fetch(`http://127.0.0.1:${s.port}${p}`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
      .then((r) => r.arrayBuffer())
      .catch(() => undefined);
  }
  const cost = await measureIdle(s.proc.pid, seconds);
  return {
    rssMb: cost.rssMb,
    anonRssMb: cost.anonRssMb,
    peakRssMb: cost.peakRssMb,
    cpuPct: cost.cpuPct,
    command: s.command,
  };
}
