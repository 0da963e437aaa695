import { describe, expect, it } from 'vitest';
import { HealthService } from './health.service.js';

describe('HealthService', () => {
  it('is ready only while every required check is up', async () => {
    const h = new HealthService(50);
    let dbUp = true;
    h.register({ name: 'postgres', required: true, check: async () => { if (!dbUp) throw new Error('connection refused'); return { status: 'up' }; } });
    h.register({ name: 'ari', required: false, check: async () => ({ status: 'down', detail: 'reconnecting' }) });
    expect((await h.readiness()).status).toBe('ready');
    dbUp = false;
    const r = await h.readiness();
    expect(r.status).toBe('not_ready');
    expect(r.checks.postgres).toMatchObject({ status: 'down', detail: 'connection refused' });
    expect(r.checks.ari!.status).toBe('down');
  });
  it('times out a hanging check and reports draining', async () => {
    const h = new HealthService(20);
    h.register({ name: 'nats', required: true, check: () => new Promise(() => undefined) });
    expect((await h.readiness()).checks.nats).toMatchObject({ status: 'down', detail: 'no answer within 20 ms' });
    const h2 = new HealthService();
    h2.setDraining();
    expect((await h2.readiness()).status).toBe('not_ready');
  });
});
