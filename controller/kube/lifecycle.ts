// What a controller process does between start-up and exit, shared by the HotDeployment
// controller and the hub: it leads (through a Lease, or alone), stops on SIGTERM/SIGINT
// within a bound, and exits when it loses the Lease: like client-go's, it starts over
// with fresh caches rather than campaign again.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { KubeClient } from './client.ts';
import { LeaderElector } from './leader.ts';

/** Hard bound on shutdown, in ms (the pod's grace period is 30 s). */
const SHUTDOWN_TIMEOUT_MS = 10_000;

/** What a controller runs while it leads: both reconcilers have this shape. */
export interface Runner {
  waitForSync(timeoutMs: number): Promise<boolean>;
  /** Reconciles until the signal aborts. */
  run(signal: AbortSignal): Promise<void>;
  /** Releases informers and queues. */
  stop(): Promise<void>;
}

export interface LifecycleOptions {
  log: Logger;
  client: KubeClient;
  registry: Registry;
  app: FastifyInstance;
  leaderElection: boolean;
  leaseNamespace: string;
  leaseName: string;
  identity: string;
  /** Runs while this replica leads (after its caches sync, 60 s at most), until the signal aborts. */
  runner: Runner;
  /** What leading means, for the log ("reconciling HotReleases"). */
  what: string;
  /** Set once the elector exists: isLeader() and the holder for /readyz. */
  onElector?: (e: LeaderElector) => void;
}

/** Runs until shutdown or loss of the Lease, then exits the process (0, or 1 after losing the Lease). */
export async function runLifecycle(o: LifecycleOptions): Promise<never> {
  const { log } = o;
  const shutdownSignal = new AbortController();
  let exitCode = 0;
  const shutdown = (why: string, code: number): void => {
    if (shutdownSignal.signal.aborted) return;
    exitCode = code;
    log.info({ why }, 'shutting down');
    setTimeout(() => {
      log.warn({ timeoutMs: SHUTDOWN_TIMEOUT_MS }, 'shutdown took too long: exiting');
      process.exit(code || 1);
    }, SHUTDOWN_TIMEOUT_MS).unref();
    shutdownSignal.abort();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM', 0));
  process.once('SIGINT', () => shutdown('SIGINT', 0));

  const lead = async (signal: AbortSignal): Promise<void> => {
    if (!(await o.runner.waitForSync(60_000))) log.warn('caches not synced after 60 s; reconciling anyway');
    log.info({ identity: o.identity }, `leading: ${o.what}`);
    await o.runner.run(signal);
  };

  if (o.leaderElection) {
    const elector = new LeaderElector({
      client: o.client,
      namespace: o.leaseNamespace,
      name: o.leaseName,
      identity: o.identity,
      logger: log,
      registry: o.registry,
      onStartedLeading: lead,
      onStoppedLeading: () => {
        if (!shutdownSignal.signal.aborted) shutdown('lost the leader lease', 1);
      },
    });
    o.onElector?.(elector);
    await elector.run(shutdownSignal.signal);
  } else {
    await lead(shutdownSignal.signal);
  }
  await o.runner.stop();
  await o.app.close();
  await o.client.close();
  log.info('stopped');
  process.exit(exitCode);
}
