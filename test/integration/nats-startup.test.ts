/**
 * NATS down at start-up: the service still starts and answers, and the consumers its modules
 * subscribed while NATS was unreachable receive events once it comes up.
 */
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, describe, expect, it } from 'vitest';
import { DUPLICATES_CONSUMER } from '../../src/modules/duplicates/duplicates.module.js';
import type { EventEnvelope } from '../../src/modules/events/events.js';
import { WEBHOOKS_CONSUMER } from '../../src/modules/webhooks/webhooks.module.js';
import { buildTestApp, type TestApp } from '../support/app.js';
import { TestNatsServer } from '../support/nats-server.js';
import { until } from '../support/wait.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('start-up while NATS is down', () => {
  it('starts, reports NATS down, and its consumers receive events once NATS comes up', async () => {
    // A port NATS will come up on later; nothing listens there yet.
    const nats = await TestNatsServer.start();
    cleanups.push(() => nats.stop());
    await nats.down();
    const stream = 'HOTLINE_STARTUP_TEST';
    const prefix = `su${Date.now()}`;
    const t: TestApp = await buildTestApp({ NATS_URL: nats.url, NATS_STREAM: stream, NATS_SUBJECT_PREFIX: prefix }, { start: false });
    cleanups.push(() => t.close());

    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('start() did not return while NATS was down')), 15_000);
    });
    await Promise.race([t.hotline.start(), bound]);
    clearTimeout(timer);

    const got: EventEnvelope[] = [];
    await Promise.race([t.hotline.events.subscriber.subscribe('startup-probe', `${prefix}.department.>`, async (e) => void got.push(e)), bound]);

    const ready = await t.hotline.app.inject('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ready', checks: { postgres: { status: 'up' }, nats: { status: 'down', state: 'connecting' } } });
    const created = await t.hotline.app.inject({
      method: 'POST', url: '/api/v1/departments', headers: { authorization: `Bearer ${t.adminToken}` }, payload: { code: 'startup', name: '启动', level: 'city' },
    });
    expect(created.statusCode).toBe(201);

    await nats.up();
    await until(() => got.length === 1, 'the event after NATS came up', 30_000);
    expect(got[0]).toMatchObject({ type: 'department.created', subject: `${prefix}.department.created` });
    await until(async () => (await t.hotline.app.inject('/readyz')).json<{ checks: { nats: { status: string } } }>().checks.nats.status === 'up', 'NATS up in readiness');

    // The modules' durable consumers were created once NATS was reachable.
    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      for (const name of [WEBHOOKS_CONSUMER, DUPLICATES_CONSUMER, 'startup-probe']) {
        const durable = name.replace(/[^A-Za-z0-9_-]/g, '_');
        const info = await until(() => jsm.consumers.info(stream, durable).catch(() => undefined), `consumer ${durable}`);
        expect(info.config.durable_name).toBe(durable);
      }
    } finally {
      await nc.close();
    }
  }, 90_000);
});
