// GET /v1/slots/:slot/ready[?waitMs=N]: 200 while the slot's live process is settled in
// its role, 503 with the reason otherwise, 400 for a path that names no slot or a bad
// waitMs. The readiness probe of every slot container: it reads the volume afresh (a few
// syscalls) and nothing else; no diff, no metrics, no report.
//
// waitMs (0..MAX_WAIT_MS) makes a not-ready answer wait: the volume is read again every
// POLL_MS until the slot is settled or waitMs has passed. The kubelet probes every second
// at best, so a new version that takes over just after a failed probe would otherwise
// wait up to a second to be seen; with waitMs just under the probe's timeout, the probe
// answers within POLL_MS of the takeover. A ready slot answers at once, and so does a slot
// that stops being ready (the wait only delays "not ready").
import type { FastifyInstance } from 'fastify';
import { readVolume } from '../../sdk/volume.ts';
import { invalidSlot, isSlotName, slotReadiness } from '../slotReadiness.ts';

export interface SlotReadyOptions {
  dir: string;
}

export const MAX_WAIT_MS = 10_000;
export const POLL_MS = 20;

/** waitMs from the query: a number of ms, or an error naming the parameter and the range. */
export function parseWaitMs(raw: unknown): { ok: true; ms: number } | { ok: false; error: string } {
  if (raw === undefined || raw === '') return { ok: true, ms: 0 };
  const ms = typeof raw === 'string' && /^\d{1,6}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(ms) || ms > MAX_WAIT_MS) {
    return {
      ok: false,
      error: `waitMs must be a whole number of milliseconds from 0 to ${MAX_WAIT_MS}, got ${JSON.stringify(raw)}`,
    };
  }
  return { ok: true, ms };
}

export async function slotReadyRoutes(app: FastifyInstance, opts: SlotReadyOptions): Promise<void> {
  app.get<{ Params: { slot: string }; Querystring: { waitMs?: string } }>(
    '/v1/slots/:slot/ready',
    async (req, reply) => {
      const { slot } = req.params;
      if (!isSlotName(slot)) return reply.code(400).send(invalidSlot(slot));
      const wait = parseWaitMs(req.query.waitMs);
      if (!wait.ok)
        return reply.code(400).send({ ready: false, slot, state: null, version: null, reason: wait.error });
      const until = Date.now() + wait.ms;
      let r = slotReadiness(readVolume(opts.dir), slot);
      while (!r.ready && Date.now() < until && !req.raw.destroyed) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        r = slotReadiness(readVolume(opts.dir), slot);
      }
      return reply.code(r.ready ? 200 : 503).send(r);
    },
  );
}
