// GET /healthz: the sidecar process answers. Says nothing about the slots (see /readyz),
// so a broken slot never gets the sidecar restarted.
import type { FastifyInstance } from 'fastify';

export async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get('/healthz', async () => ({ ok: true }));
}
