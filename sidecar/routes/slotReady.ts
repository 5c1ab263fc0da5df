// GET /v1/slots/:slot/ready: 200 while the slot's live process is settled in its role,
// 503 with the reason otherwise, 400 for a path that names no slot. The readiness probe
// of every slot container, every second: it reads the volume afresh (a few syscalls) and
// nothing else; no diff, no metrics, no report.
import type { FastifyInstance } from 'fastify';
import { readVolume } from '../../sdk/volume.ts';
import { invalidSlot, isSlotName, slotReadiness } from '../slotReadiness.ts';

export interface SlotReadyOptions {
  dir: string;
}

export async function slotReadyRoutes(app: FastifyInstance, opts: SlotReadyOptions): Promise<void> {
  app.get<{ Params: { slot: string } }>('/v1/slots/:slot/ready', async (req, reply) => {
    const { slot } = req.params;
    if (!isSlotName(slot)) return reply.code(400).send(invalidSlot(slot));
    const r = slotReadiness(readVolume(opts.dir), slot);
    return reply.code(r.ready ? 200 : 503).send(r);
  });
}
