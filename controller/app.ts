// The controller's fastify instance: /healthz (the process answers), /readyz (informers
// synced and watching, leader election running), /metrics. Never listens (main.ts does);
// tests call app.inject().
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

export interface Readiness {
  ok: boolean;
  [detail: string]: unknown;
}

export interface AppOptions {
  log: Logger;
  registry: Registry;
  /** What /readyz reports; 200 when ok. */
  readiness: () => Readiness;
}

export function buildApp(o: AppOptions): FastifyInstance {
  const loggerInstance: FastifyBaseLogger = o.log;
  const app = Fastify({ loggerInstance, logController: new LogController({ disableRequestLogging: true }) });
  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_req, reply) => {
    const r = o.readiness();
    return reply.code(r.ok ? 200 : 503).send(r);
  });
  app.get('/metrics', async (_req, reply) => {
    const body = await o.registry.metrics();
    return reply.type(o.registry.contentType).send(body);
  });
  return app;
}
