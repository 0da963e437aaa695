/**
 * No event is lost and none is seen twice: changes made while NATS is unreachable are kept in
 * the outbox, published when NATS returns, and a durable consumer handles each exactly once.
 */
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsEventBus } from '../../src/adapters/nats/nats.js';
import type { EventEnvelope } from '../../src/modules/events/events.js';
import { idempotent } from '../../src/modules/events/idempotent-consumer.js';
import { buildTestApp, type TestApp } from '../support/app.js';
import { TestNatsServer } from '../support/nats-server.js';
import { until } from '../support/wait.js';


describe('outbox relay to NATS JetStream', () => {
  let nats: TestNatsServer;
  let t: TestApp;
  let sql: pg.Client;
  const prefix = `h${Date.now()}`;

  beforeAll(async () => {
    nats = await TestNatsServer.start();
    t = await buildTestApp({ NATS_URL: nats.url, NATS_STREAM: 'HOTLINE_OUTBOX_TEST', NATS_SUBJECT_PREFIX: prefix });
    sql = new pg.Client({ connectionString: t.dbUrl });
    await sql.connect();
  });
  afterAll(async () => {
    await sql.end();
    await t.close();
    await nats.stop();
  });

  const createDept = (code: string) => t.hotline.app.inject({
    method: 'POST', url: '/api/v1/departments', headers: { authorization: `Bearer ${t.adminToken}` }, payload: { code, name: code, level: 'city' },
  });

  it('creates the stream at start-up with the hotline subjects', async () => {
    const nc = await connect({ servers: nats.url });
    const info = await (await jetstreamManager(nc)).streams.info('HOTLINE_OUTBOX_TEST');
    expect(info.config.subjects).toEqual([`${prefix}.>`]);
    expect(info.config.duplicate_window).toBeGreaterThan(0);
    await nc.close();
  });

  it('keeps every change made while NATS is down and delivers each exactly once when it returns', async () => {
    // A consumer that de-duplicates by event id in PostgreSQL, as every consumer must.
    const seen: string[] = [];
    const handled: string[] = [];
    const consumerBus = new NatsEventBus({ url: nats.url, stream: 'HOTLINE_OUTBOX_TEST', subjectPrefix: prefix, name: 'test-consumer' }, pino({ level: 'silent' }));
    await consumerBus.ready;
    const handler = idempotent(t.hotline.db.db, t.hotline.events.consumed, 'test-consumer', async (e: EventEnvelope) => {
      handled.push(e.id);
    });
    const sub = await consumerBus.subscribe('test-consumer', `${prefix}.department.>`, async (e) => {
      seen.push(e.id);
      await handler(e);
    });

    // Warm-up: the path works while NATS is up.
    expect((await createDept('before-outage')).statusCode).toBe(201);
    await until(() => handled.length === 1, 'first event', 10_000);

    await nats.down();
    const codes: number[] = [];
    for (let i = 0; i < 25; i++) codes.push((await createDept(`outage-${i}`)).statusCode);
    expect(codes.every((c) => c === 201)).toBe(true); // the service keeps accepting work

    // The relay is retrying with backoff, and the rows wait in PostgreSQL.
    await until(async () => (await sql.query("SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL AND type = 'department.created'")).rows[0].n === 25, 'pending rows', 10_000);
    await until(() => t.hotline.events.relay.status().consecutiveFailures >= 2, 'relay retries', 15_000);
    const ready = await t.hotline.app.inject('/readyz');
    expect(ready.json()).toMatchObject({ checks: { nats: { status: 'down' } } });
    expect(ready.statusCode).toBe(200); // NATS is not required for taking calls and requests
    expect((ready.json<{ checks: { nats: { outboxPending: number } } }>()).checks.nats.outboxPending).toBeGreaterThanOrEqual(25);

    await nats.up();
    await until(() => handled.length === 26, 'all events after NATS returned', 30_000);
    await until(async () => (await sql.query('SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL')).rows[0].n === 0, 'outbox drained', 10_000);

    // Exactly once: every event id once, in creation order.
    expect(new Set(handled).size).toBe(26);
    const { rows } = await sql.query("SELECT id FROM outbox WHERE type = 'department.created' ORDER BY seq");
    expect(handled).toEqual(rows.map((r: { id: string }) => r.id));
    await sub.stop();
    await consumerBus.drain();
  }, 90_000);

  it('drops a re-published event at the server and skips a redelivered one at the consumer', async () => {
    const bus = new NatsEventBus({ url: nats.url, stream: 'HOTLINE_OUTBOX_TEST', subjectPrefix: prefix, name: 'dup-test' }, pino({ level: 'silent' }));
    await bus.ready;
    const event: EventEnvelope = { id: '11111111-1111-4111-8111-111111111111', type: 'dup.test', subject: `${prefix}.dup.test`, occurredAt: new Date().toISOString(), payload: { n: 1 } };
    // The relay crashed after publishing but before marking the row: it publishes again.
    await bus.publish(event);
    await bus.publish(event);
    const nc = await connect({ servers: nats.url });
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.getMessage('HOTLINE_OUTBOX_TEST', { last_by_subj: `${prefix}.dup.test` });
    expect(info?.seq).toBeDefined();
    const subjectCount = (await jsm.streams.info('HOTLINE_OUTBOX_TEST', { subjects_filter: `${prefix}.dup.test` })).state.subjects?.[`${prefix}.dup.test`];
    expect(subjectCount).toBe(1);

    // A consumer that fails once gets the message again; the effect still happens once.
    let attempts = 0;
    const effects: string[] = [];
    const handler = idempotent(t.hotline.db.db, t.hotline.events.consumed, 'flaky-consumer', async (e) => void effects.push(e.id));
    const sub = await bus.subscribe('flaky-consumer', `${prefix}.dup.>`, async (e) => {
      attempts += 1;
      await handler(e);
      if (attempts === 1) throw new Error('crash after the effect, before the ack');
    });
    await until(() => attempts >= 2, 'redelivery', 15_000);
    expect(effects).toEqual([event.id]);
    await sub.stop();
    await nc.close();
    await bus.drain();
  }, 60_000);
});

describe('in-process bus without NATS', () => {
  it('relays outbox events to local consumers', async () => {
    const t = await buildTestApp();
    try {
      const got: EventEnvelope[] = [];
      await t.hotline.events.subscriber.subscribe('local', 'hotline.department.>', async (e) => void got.push(e));
      const res = await t.hotline.app.inject({ method: 'POST', url: '/api/v1/departments', headers: { authorization: `Bearer ${t.adminToken}` }, payload: { code: 'local', name: '本地', level: 'city' } });
      expect(res.statusCode).toBe(201);
      await until(() => got.length === 1, 'local delivery', 10_000);
      expect(got[0]).toMatchObject({ type: 'department.created', subject: 'hotline.department.created', payload: { department: { code: 'local' } } });
    } finally {
      await t.close();
    }
  });
});
