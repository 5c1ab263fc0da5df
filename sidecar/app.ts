// Builds the sidecar's fastify instance; never listens (server.ts does). Routes are small
// plugins under routes/; each reads the shared volume afresh. Nothing here writes to the
// volume or takes a lock: the sidecar only probes them.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { Registry } from 'prom-client';
import { DEFAULTS } from '../sdk/constants.ts';
import { podFromEnv } from './config.ts';
import { createMetrics } from './metrics.ts';
import { Observer } from './observer.ts';
import { collectProcessMetrics } from './processMetrics.ts';
import type { PodRef } from './report.ts';
import { healthRoutes } from './routes/health.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { readyRoutes } from './routes/ready.ts';
import { slotReadyRoutes } from './routes/slotReady.ts';
import { stateRoutes } from './routes/state.ts';

export type { PodState, SlotReport } from './report.ts';
export type { Readiness } from './readiness.ts';
export type { SlotReadiness } from './slotReadiness.ts';

export interface AppOptions {
  /** The shared volume (HOTUPGRADE_DIR). */
  dir: string;
  log?: Logger;
  /** Where metrics register; a fresh registry by default. */
  registry?: Registry;
  /** Clock in ms since the epoch, for tests. */
  now?: () => number;
  /** Backstop re-read of the volume, in ms. */
  rescanMs?: number;
  /** Pod identity; from POD_NAME / POD_NAMESPACE by default. */
  pod?: PodRef;
  /** Register prom-client's process metrics (RSS, CPU, heap, GC); true by default. */
  processMetrics?: boolean;
}

export function defaultLogger(pod: PodRef | undefined): Logger {
  return pino({
    name: 'hotupgrade-sidecar',
    base: { pid: process.pid, namespace: pod?.namespace, name: pod?.name },
  });
}

export function buildApp(opts: AppOptions): FastifyInstance {
  const pod = opts.pod ?? podFromEnv(process.env);
  const log = opts.log ?? defaultLogger(pod);
  const registry = opts.registry ?? new Registry();
  if (opts.processMetrics ?? true) collectProcessMetrics(registry);
  const observer = new Observer({
    dir: opts.dir,
    log,
    metrics: createMetrics(registry),
    now: opts.now ?? Date.now,
    rescanMs: opts.rescanMs ?? DEFAULTS.rescanMs,
  });

  // Probes and scrapes every few seconds would drown the transitions in request logs.
  const loggerInstance: FastifyBaseLogger = log;
  const app = Fastify({ loggerInstance, logController: new LogController({ disableRequestLogging: true }) });
  app.addHook('onReady', async () => observer.start());
  app.addHook('onClose', async () => observer.stop());
  app.register(healthRoutes);
  app.register(readyRoutes, { observer, dir: opts.dir });
  app.register(slotReadyRoutes, { dir: opts.dir });
  app.register(stateRoutes, { observer, pod });
  app.register(metricsRoutes, { observer, registry });
  return app;
}
