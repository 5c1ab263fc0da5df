#!/usr/bin/env node
// The controller's entry point: configuration, the API client, leader election, the
// reconciler and the HTTP endpoints. On SIGTERM it stops reconciling, releases the lease
// (a standby takes over within ~2 s) and exits. A replica that loses the lease exits
// too: like client-go's, it starts over with fresh caches rather than campaign again.
import { hostname } from 'node:os';
import pino from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { buildApp } from './app.ts';
import { ConfigError, readConfig, usage, type ControllerConfig } from './config.ts';
import { FIELD_MANAGER } from './constants.ts';
import { KubeClient, loadKubeConfig } from './kube/client.ts';
import type { LeaderElector } from './kube/leader.ts';
import { runLifecycle } from './kube/lifecycle.ts';
import { HotDeploymentReconciler } from './reconciler.ts';
import { OPERATOR_VERSION } from './version.ts';

function loadConfig(): ControllerConfig {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(usage());
    process.exit(0);
  }
  try {
    return readConfig(process.argv.slice(2), process.env, hostname());
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`hotupgrade-controller: bad configuration: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  const log = pino({ name: 'hotupgrade-controller', level: config.logLevel, base: { pid: process.pid } });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const client = await KubeClient.fromKubeConfig(loadKubeConfig(config.kubeconfig), {
    qps: config.qps,
    burst: config.burst,
    fieldManager: FIELD_MANAGER,
    registry,
    userAgent: `hotupgrade-controller/${OPERATOR_VERSION}`,
  });

  let elector: LeaderElector | undefined;
  const isLeader = (): boolean => (elector ? elector.isLeader() : true);
  const reconciler = new HotDeploymentReconciler({
    client,
    log,
    registry,
    images: {
      placeholderImage: config.placeholderImage,
      sidecarImage: config.sidecarImage,
      completionSignal: config.completionSignal,
    },
    ...(config.namespace ? { namespace: config.namespace } : {}),
    workers: config.workers,
    writeConcurrency: config.writeConcurrency,
    resyncMs: config.resyncSeconds * 1000,
    isLeader,
  });
  const app = buildApp({
    log,
    registry,
    readiness: () => {
      const h = reconciler.health();
      return { ok: h.ok, leader: isLeader(), holder: elector?.leader ?? null, informers: h.informers };
    },
  });
  await app.listen({ port: config.port, host: config.host });
  reconciler.start();

  await runLifecycle({
    log,
    client,
    registry,
    app,
    leaderElection: config.leaderElection,
    leaseNamespace: config.leaseNamespace,
    leaseName: config.leaseName,
    identity: config.identity,
    runner: reconciler,
    what: 'reconciling',
    onElector: (e) => (elector = e),
  });
}

main().catch((err: unknown) => {
  console.error('hotupgrade-controller: fatal:', err);
  process.exit(1);
});
