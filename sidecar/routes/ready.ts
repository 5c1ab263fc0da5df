// GET /readyz: 200 while some process holds the active lock and says it serves, 503 with
// the reason otherwise. Reads the volume afresh on every probe.
import type { FastifyInstance } from 'fastify';
import type { Observer } from '../observer.ts';
import { readiness } from '../readiness.ts';

export interface ReadyOptions {
  observer: Observer;
  dir: string;
}

export async function readyRoutes(app: FastifyInstance, opts: ReadyOptions): Promise<void> {
  app.get('/readyz', async (_req, reply) => {
    const { view, summary } = opts.observer.refresh();
    const r = readiness(view, summary, opts.dir);
    return reply.code(r.ready ? 200 : 503).send(r);
  });
}
