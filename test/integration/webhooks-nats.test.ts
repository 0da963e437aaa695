/**
 * Webhooks over real NATS JetStream: department events reach the webhooks consumer through its
 * durable consumer on `<prefix>.dept.>`, each department's receiver gets exactly its own events,
 * once each.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { buildApp, type Hotline } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createWebhooksModule } from '../../src/modules/webhooks/webhooks.module.js';
import { createTestDatabase } from '../support/db.js';
import { until } from '../support/wait.js';

const prefix = `wh${Date.now()}`;
const received: { path: string; eventId: string; signature: string }[] = [];
let server: Server;
let base = '';
let hotline: Hotline;
let db: { url: string; drop(): Promise<void> };
let admin = '';

const api = (method: 'GET' | 'POST', url: string, payload?: object) =>
  hotline.app.inject({ method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${admin}` }, ...(payload ? { payload } : {}) });

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { eventId: string };
      received.push({ path: req.url ?? '', eventId: body.eventId, signature: String(req.headers['x-hotline-signature']) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  db = await createTestDatabase();
  const config = loadConfig({
    NODE_ENV: 'test', DATABASE_URL: db.url, DATABASE_POOL_SIZE: '5', BOOTSTRAP_ADMIN_USER: 'root', BOOTSTRAP_ADMIN_PASSWORD: 'Bootstrap-Pa55word!',
    OUTBOX_POLL_MS: '200', NATS_URL: inject('natsUrl'), NATS_STREAM: `HOTLINE_WH${Date.now()}`, NATS_SUBJECT_PREFIX: prefix,
  });
  hotline = await buildApp({
    config, logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), databaseUrl: db.url, jwtSecret: 'test-secret-test-secret-test-secret-0123',
    scrypt: { N: 1024, r: 8, p: 1 },
    modules: [createWebhooksModule({ allowLoopbackHttp: true, baseDelayMs: 20, maxDelayMs: 80, timeoutMs: 1000, pollMs: 50, secretKey: 'nats-test-webhook-key-0123456789abcdef' })],
  });
  await hotline.start();
  await hotline.app.ready();
  const login = await hotline.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'root', password: 'Bootstrap-Pa55word!' } });
  admin = login.json<{ token: string }>().token;
});

afterAll(async () => {
  await hotline?.close();
  await db?.drop();
  server?.closeAllConnections();
  await new Promise<void>((r) => server?.close(() => r()) ?? r());
});

describe('webhooks over NATS JetStream', () => {
  it('delivers each department exactly its own events, once', async () => {
    const depts: string[] = [];
    for (const code of ['nats-a', 'nats-b']) {
      const res = await api('POST', '/departments', { code, name: code, level: 'district' });
      expect(res.statusCode, res.body).toBe(201);
      depts.push(res.json<{ id: string }>().id);
    }
    for (const [i, id] of depts.entries()) {
      const res = await api('POST', '/webhooks', { departmentId: id, url: `${base}/d${i}`, events: ['ticket.*'] });
      expect(res.statusCode, res.body).toBe(201);
    }
    const events = await hotline.db.db.transaction().execute((tx) => hotline.events.outbox.append(tx, [
      { type: 'ticket.dispatched', payload: { ticketId: 'a' }, subject: `${prefix}.dept.${depts[0]}.ticket.dispatched` },
      { type: 'ticket.dispatched', payload: { ticketId: 'b' }, subject: `${prefix}.dept.${depts[1]}.ticket.dispatched` },
      { type: 'ticket.reminded', payload: { ticketId: 'a' }, subject: `${prefix}.dept.${depts[0]}.ticket.reminded` },
      { type: 'ticket.dispatched', payload: { ticketId: 'all' } },
    ]));
    await until(() => received.length >= 3, 'three deliveries');
    // Publishing the same outbox rows again (a relay crash before marking them) changes nothing.
    for (const e of events) await hotline.events.publisher.publish(e);
    await hotline.events.relay.whenIdle();
    await new Promise((r) => setTimeout(r, 300));
    expect(received.filter((r) => r.path === '/d0').map((r) => r.eventId).sort()).toEqual([events[0]!.id, events[2]!.id].sort());
    expect(received.filter((r) => r.path === '/d1').map((r) => r.eventId)).toEqual([events[1]!.id]);
    expect(received.every((r) => /^sha256=[0-9a-f]{64}$/.test(r.signature))).toBe(true);
  });
});
