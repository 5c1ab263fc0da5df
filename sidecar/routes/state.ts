// GET /v1/state: the pod's hot-upgrade state for the controller (schema: PodState).
import type { FastifyInstance } from 'fastify';
import type { Observer } from '../observer.ts';
import { buildReport, type PodRef } from '../report.ts';

export interface StateOptions {
  observer: Observer;
  pod: PodRef | undefined;
}

export async function stateRoutes(app: FastifyInstance, opts: StateOptions): Promise<void> {
  app.get('/v1/state', async () => {
    const { view, summary, observedAtMs } = opts.observer.refresh();
    return buildReport({ view, summary, handovers: opts.observer.handovers, pod: opts.pod, observedAtMs });
  });
}
