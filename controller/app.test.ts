import pino from 'pino';
import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { buildApp } from './app.ts';

describe('controller app', () => {
  it('answers /readyz 503 with the reason until the informers are healthy', async () => {
    let ok = false;
    const registry = new Registry();
    new Counter({ name: 'controller_runtime_reconcile_total', help: 'h', registers: [registry] }).inc();
    const app = buildApp({
      log: pino({ level: 'silent' }),
      registry,
      readiness: () => ({ ok, pods: ok ? 'watching' : 'not synced' }),
    });
    expect((await app.inject('/readyz')).statusCode).toBe(503);
    expect((await app.inject('/readyz')).json()).toEqual({ ok: false, pods: 'not synced' });
    ok = true;
    expect((await app.inject('/readyz')).statusCode).toBe(200);
    expect((await app.inject('/healthz')).statusCode).toBe(200);
    const m = await app.inject('/metrics');
    expect(m.headers['content-type']).toContain('text/plain');
    expect(m.body).toContain('controller_runtime_reconcile_total 1');
  });
});
