import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SlotWatch, parseReport, type SlotReport } from './slotWatch.ts';

describe('parseReport', () => {
  it.each([
    {
      name: 'a ready answer',
      status: 200,
      body: '{"ready":true,"slot":"b","state":"serving","version":"v2"}',
      want: { slot: 'b', ready: true, state: 'serving', version: 'v2' },
    },
    {
      name: 'a not-ready answer keeps the reason',
      status: 503,
      body: '{"ready":false,"slot":"b","state":"waiting","version":"v2","reason":"waiting for the lock"}',
      want: { slot: 'b', ready: false, state: 'waiting', version: 'v2', reason: 'waiting for the lock' },
    },
    {
      name: '"ready" with a 503 is not ready',
      status: 503,
      body: '{"ready":true,"slot":"b","state":"serving","version":"v2"}',
      want: { slot: 'b', ready: false, state: 'serving', version: 'v2' },
    },
    {
      name: 'an answer about another slot is not ready',
      status: 200,
      body: '{"ready":true,"slot":"a","state":"serving","version":"v2"}',
      want: { slot: 'b', ready: false, state: null, version: null },
    },
    {
      name: 'garbage is not ready, and says what came',
      status: 404,
      body: 'Not Found',
      want: {
        slot: 'b',
        ready: false,
        state: null,
        version: null,
        reason: 'unexpected answer 404: Not Found',
      },
    },
  ])('$name', ({ status, body, want }) => {
    expect(parseReport('b', status, body)).toMatchObject(want);
  });
});

describe('SlotWatch against an HTTP server that answers like the sidecar', () => {
  let server: http.Server | undefined;
  let watch: SlotWatch | undefined;
  afterEach(async () => {
    watch?.stop();
    const s = server;
    server = undefined;
    if (s) await new Promise((r) => s.close(r));
  });

  it('long-polls each watched pod, reports changes to its owner, and forgets dropped pods', async () => {
    let settled = false;
    const asked: string[] = [];
    server = http.createServer((req, res) => {
      asked.push(req.url ?? '');
      const answer = (): void => {
        res.writeHead(settled ? 200 : 503, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            ready: settled,
            slot: 'b',
            state: settled ? 'serving' : 'waiting',
            version: 'v2',
          }),
        );
      };
      // Like the sidecar with waitMs: hold a not-ready answer a little.
      if (settled) answer();
      else setTimeout(answer, 50);
    });
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const changes: string[] = [];
    watch = new SlotWatch({ port, waitMs: 50, idleMs: 20, onChange: (o) => changes.push(o) });
    watch.watch('ns/demo', [{ uid: 'u0', pod: 'ns/demo-0', ip: '127.0.0.1', slot: 'b', version: 'v2' }]);
    const until = async (f: () => boolean): Promise<void> => {
      for (let i = 0; i < 200 && !f(); i++) await new Promise((r) => setTimeout(r, 10));
      expect(f()).toBe(true);
    };
    await until(() => watch?.report('u0') !== undefined);
    expect(watch.report('u0')).toMatchObject({
      ready: false,
      state: 'waiting',
    } satisfies Partial<SlotReport>);
    expect(changes).toEqual(['ns/demo']);
    expect(asked[0]).toBe('/v1/slots/b/ready?waitMs=50&pod=ns%2Fdemo-0');
    settled = true;
    await until(() => watch?.report('u0')?.ready === true);
    expect(changes).toEqual(['ns/demo', 'ns/demo']);
    expect(watch.size).toBe(1);
    watch.watch('ns/demo', []);
    expect(watch.size).toBe(0);
    expect(watch.report('u0')).toBeUndefined();
  });

  it('does not spin on a sidecar that answers "not ready" at once (too old to wait)', async () => {
    let asked = 0;
    server = http.createServer((_req, res) => {
      asked++;
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ready: false, slot: 'b', state: 'waiting', version: 'v2' }));
    });
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    watch = new SlotWatch({ port, waitMs: 5_000, idleMs: 100, onChange: () => undefined });
    watch.watch('ns/demo', [{ uid: 'u2', pod: 'ns/demo-2', ip: '127.0.0.1', slot: 'b', version: 'v2' }]);
    await new Promise((r) => setTimeout(r, 550));
    expect(asked).toBeGreaterThanOrEqual(3);
    expect(asked).toBeLessThanOrEqual(7);
  });

  it('reports an unreachable sidecar as not ready, with the reason', async () => {
    server = http.createServer();
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const closing = server;
    server = undefined;
    await new Promise((r) => closing.close(r));
    watch = new SlotWatch({ port, waitMs: 50, idleMs: 20, onChange: () => undefined });
    watch.watch('ns/demo', [{ uid: 'u1', pod: 'ns/demo-1', ip: '127.0.0.1', slot: 'a', version: 'v3' }]);
    for (let i = 0; i < 200 && !watch.report('u1'); i++) await new Promise((r) => setTimeout(r, 10));
    expect(watch.report('u1')).toMatchObject({ ready: false, slot: 'a' });
    expect(watch.report('u1')?.reason).toMatch(/sidecar at 127\.0\.0\.1:\d+: .*ECONNREFUSED|refused/i);
  });
});
