#!/usr/bin/env node
// The hub's entry point: configuration, the hub API client, leader election (Lease
// hotupgrade-hub), the reconciler and the HTTP endpoints. Like the controller's: on
// SIGTERM it stops, releases the Lease and exits; a replica that loses the Lease exits.
import { hostname } from 'node:os';
import pino from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { buildApp } from '../controller/app.ts';
import { KubeClient, loadKubeConfig } from '../controller/kube/client.ts';
import type { LeaderElector } from '../controller/kube/leader.ts';
import { runLifecycle } from '../controller/kube/lifecycle.ts';
import { OPERATOR_VERSION } from '../controller/version.ts';
import { ConfigError, readHubConfig, usage, type HubConfig } from './config.ts';
import { HUB_COMPONENT, HubReconciler } from './reconciler.ts';

function loadConfig(): HubConfig {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(usage());
    process.exit(0);
  }
  try {
    return readHubConfig(process.argv.slice(2), process.env, hostname());
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`hotupgrade-hub: bad configuration: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  const log = pino({ name: 'hotupgrade-hub', level: config.logLevel, base: { pid: process.pid } });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const userAgent = `hotupgrade-hub/${OPERATOR_VERSION}`;
  const client = await KubeClient.fromKubeConfig(loadKubeConfig(config.kubeconfig), {
    qps: config.qps,
    burst: config.burst,
    fieldManager: HUB_COMPONENT,
    registry,
    userAgent,
  });
  let elector: LeaderElector | undefined;
  const isLeader = (): boolean => (elector ? elector.isLeader() : true);
  const hub = new HubReconciler({
    client,
    log,
    registry,
    workers: config.workers,
    resyncMs: config.resyncSeconds * 1000,
    probeMs: config.probeSeconds * 1000,
    pollMs: config.pollSeconds * 1000,
    memberTimeoutMs: config.memberTimeoutSeconds * 1000,
    isLeader,
    userAgent,
  });
  const app = buildApp({
    log,
    registry,
    readiness: () => {
      const h = hub.health();
      return { ok: h.ok, leader: isLeader(), holder: elector?.leader ?? null, informers: h.informers };
    },
  });
  await app.listen({ port: config.port, host: config.host });
  hub.start();

  await runLifecycle({
    log,
    client,
    registry,
    app,
    leaderElection: config.leaderElection,
    leaseNamespace: config.leaseNamespace,
    leaseName: config.leaseName,
    identity: config.identity,
    runner: hub,
    what: 'reconciling HotReleases',
    onElector: (e) => (elector = e),
  });
}

main().catch((err: unknown) => {
  console.error('hotupgrade-hub: fatal:', err);
  process.exit(1);
});
