// GET /metrics: Prometheus text. Looks at the volume first, so gauges are current at
// scrape time even between two rescans.
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Observer } from '../observer.ts';

export interface MetricsOptions {
  observer: Observer;
  registry: Registry;
}

export async function metricsRoutes(app: FastifyInstance, opts: MetricsOptions): Promise<void> {
  app.get('/metrics', async (_req, reply) => {
    opts.observer.refresh();
    const text = await opts.registry.metrics();
    return reply.type(opts.registry.contentType).send(text);
  });
}
