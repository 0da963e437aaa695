/**
 * Department webhooks on real PostgreSQL with a local HTTP receiver: registration and its
 * validation, signed deliveries, retries after 500s, giving up at the limit, redelivery, the
 * delivery log, and department scoping (no department ever receives another's events).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createWebhooksModule, WEBHOOKS_CONSUMER } from '../../src/modules/webhooks/webhooks.module.js';
import { verifySignature } from '../../src/modules/webhooks/webhooks.crypto.js';
import { createSharedDatabase, startInstance, type Instance } from '../support/sla.js';
import { until } from '../support/wait.js';

interface Received { path: string; headers: IncomingHttpHeaders; body: string }

/** A receiver on 127.0.0.1: answers each path from a script of status codes (then 200). */
class Receiver {
  readonly received: Received[] = [];
  private readonly scripts = new Map<string, number[]>();
  private server: Server | undefined;
  base = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '/';
        this.received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        const script = this.scripts.get(path) ?? [];
        const status = script.shift() ?? 200;
        if (status === 0) return; // hang: the deliverer's timeout must fire
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : `boom ${status}`);
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  script(path: string, statuses: number[]): void {
    this.scripts.set(path, [...statuses]);
  }

  at(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }
}

const MAX_ATTEMPTS = 3;
let db: { url: string; drop(): Promise<void> };
let app: Instance;
const receiver = new Receiver();
let deptA = '';
let deptB = '';
let handlerA = '';
let handlerB = '';
let operator = '';
let supervisor = '';

const api = async (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, token: string, payload?: object) =>
  app.hotline.app.inject({ method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });

async function createDepartment(code: string, name: string): Promise<string> {
  const res = await api('POST', '/departments', app.adminToken, { code, name, level: 'district' });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string }>().id;
}

async function register(token: string, body: object): Promise<{ webhook: { id: string; secretHint: string }; secret: string }> {
  const res = await api('POST', '/webhooks', token, body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

/** A department event as the tickets module writes it: the outbox row with its department subject. */
async function emit(departmentId: string, type: string, payload: Record<string, unknown>): Promise<string> {
  const [event] = await app.hotline.db.db.transaction().execute((tx) =>
    app.hotline.events.outbox.append(tx, [{ type, payload, subject: `hotline.dept.${departmentId}.${type}` }]));
  return event!.id;
}

type Delivery = { id: string; eventId: string; status: string; attempts: number; responseCode: number | null; error: string | null; redeliveries: number };
async function deliveries(webhookId: string, token = app.adminToken): Promise<Delivery[]> {
  const res = await api('GET', `/webhooks/${webhookId}/deliveries`, token);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ items: Delivery[] }>().items;
}

async function deliveryOf(webhookId: string, eventId: string, status: string): Promise<Delivery> {
  return until(async () => (await deliveries(webhookId)).find((d) => d.eventId === eventId && d.status === status), `delivery of ${eventId} ${status}`);
}

beforeAll(async () => {
  await receiver.start();
  db = await createSharedDatabase();
  app = await startInstance(db.url, {
    modules: [createWebhooksModule({
      allowLoopbackHttp: true, maxAttempts: MAX_ATTEMPTS, baseDelayMs: 20, maxDelayMs: 80, timeoutMs: 500, pollMs: 50,
      secretKey: 'integration-test-webhook-key-0123456789',
    })],
  });
  deptA = await createDepartment('wh-a', '城管局');
  deptB = await createDepartment('wh-b', '住建局');
  handlerA = await app.userToken('handler-a', 'dept_handler', deptA);
  handlerB = await app.userToken('handler-b', 'dept_handler', deptB);
  operator = await app.userToken('ops-wh', 'operator');
  supervisor = await app.userToken('sup-wh', 'supervisor');
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
  await receiver.stop();
});

describe('registration', () => {
  it('a department registers its own webhook and sees the secret only once', async () => {
    const { webhook, secret } = await register(handlerA, { url: `${receiver.base}/reg`, events: ['ticket.*'], description: '城管局工单系统' });
    expect(secret).toMatch(/^whsec_/);
    expect(webhook).toMatchObject({ departmentId: deptA, events: ['ticket.*'], active: true, secretHint: `…${secret.slice(-4)}` });
    const got = await api('GET', `/webhooks/${webhook.id}`, handlerA);
    expect(got.statusCode).toBe(200);
    expect(got.body).not.toContain(secret);
    const rows = await app.hotline.db.db.selectFrom('webhooks').select('secretCiphertext').where('id', '=', webhook.id).executeTakeFirstOrThrow();
    expect(rows.secretCiphertext).not.toContain(secret.slice(6));
  });

  it('refuses bad input with stable codes', async () => {
    const cases: Array<[string, object, number, string]> = [
      [handlerA, { url: 'http://example.com/hook', events: ['ticket.*'] }, 400, 'webhook_url_insecure'],
      [handlerA, { url: 'http://10.0.0.8/hook', events: ['ticket.*'] }, 400, 'webhook_url_insecure'],
      [handlerA, { url: 'not a url at all', events: ['ticket.*'] }, 400, 'webhook_url_invalid'],
      [handlerA, { url: 'https://user:pw@example.com/hook', events: ['ticket.*'] }, 400, 'webhook_url_credentials'],
      [handlerA, { url: 'https://example.com/hook', events: ['Ticket dispatched'] }, 400, 'webhook_events_invalid'],
      [handlerA, { url: 'https://example.com/hook', events: [] }, 400, 'validation_failed'],
      [handlerA, { url: 'https://example.com/hook', events: ['ticket.*'], departmentId: deptB }, 404, 'department_not_found'],
      [operator, { url: 'https://example.com/hook', events: ['ticket.*'] }, 400, 'webhook_department_required'],
      [supervisor, { url: 'https://example.com/hook', events: ['ticket.*'], departmentId: deptA }, 403, 'role_forbidden'],
    ];
    for (const [token, body, status, code] of cases) {
      const res = await api('POST', '/webhooks', token, body);
      expect(res.statusCode, `${JSON.stringify(body)} → ${res.body}`).toBe(status);
      expect(res.json<{ code: string }>().code).toBe(code);
    }
  });

  it('an operator registers on a department\'s behalf; handlers see only their own', async () => {
    const { webhook } = await register(operator, { departmentId: deptB, url: 'https://hooks.example.com/zjj', events: ['ticket.dispatched'] });
    expect(webhook.id).toBeTruthy();
    const listB = (await api('GET', '/webhooks', handlerB)).json<{ items: { departmentId: string }[] }>().items;
    expect(listB.length).toBeGreaterThan(0);
    expect(listB.every((w) => w.departmentId === deptB)).toBe(true);
    // Even asking for another department's list gives only one's own.
    const asked = (await api('GET', `/webhooks?departmentId=${deptA}`, handlerB)).json<{ items: { departmentId: string }[] }>().items;
    expect(asked.every((w) => w.departmentId === deptB)).toBe(true);
    for (const [method, url] of [['GET', ''], ['PATCH', ''], ['DELETE', ''], ['POST', '/rotate-secret'], ['GET', '/deliveries']] as const) {
      const res = await api(method, `/webhooks/${webhook.id}${url}`, handlerA, method === 'PATCH' ? { active: false } : undefined);
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json<{ code: string }>().code).toBe('webhook_not_found');
    }
    const all = (await api('GET', '/webhooks?limit=200', supervisor)).json<{ items: { departmentId: string }[] }>().items;
    expect(new Set(all.map((w) => w.departmentId))).toEqual(new Set([deptA, deptB]));
  });
});

describe('delivery', () => {
  it('POSTs signed JSON with the event headers, and logs the delivery', async () => {
    const { webhook, secret } = await register(handlerA, { url: `${receiver.base}/signed`, events: ['ticket.dispatched'] });
    const payload = { ticketId: '3c1f1a52-4a38-4a0f-9a4e-8f0b0d2f3c11', number: 'GD20250301000042', title: '幸福小区3号楼路灯不亮' };
    const eventId = await emit(deptA, 'ticket.dispatched', payload);
    const [req] = await until(() => receiver.at('/signed').length > 0 && receiver.at('/signed'), 'the signed delivery');
    expect(req!.headers['content-type']).toBe('application/json');
    expect(req!.headers['x-hotline-event']).toBe('ticket.dispatched');
    const timestamp = Number(req!.headers['x-hotline-timestamp']);
    expect(Math.abs(timestamp - Date.now() / 1000)).toBeLessThan(60);
    const sig = String(req!.headers['x-hotline-signature']);
    expect(sig).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifySignature(secret, sig, timestamp, req!.body, Math.floor(Date.now() / 1000))).toBe(true);
    expect(verifySignature(`${secret}x`, sig, timestamp, req!.body, Math.floor(Date.now() / 1000))).toBe(false);
    const body = JSON.parse(req!.body);
    expect(body).toMatchObject({ event: 'ticket.dispatched', eventId, departmentId: deptA, data: payload });
    expect(req!.headers['x-hotline-delivery']).toBe(body.id);

    const d = await deliveryOf(webhook.id, eventId, 'succeeded');
    expect(d).toMatchObject({ id: body.id, attempts: 1, responseCode: 200, error: null });
    const detail = (await api('GET', `/webhooks/${webhook.id}/deliveries/${d.id}`, handlerA)).json<{ attemptLog: { responseCode: number; latencyMs: number }[]; body: unknown }>();
    expect(detail.attemptLog).toHaveLength(1);
    expect(detail.attemptLog[0]).toMatchObject({ responseCode: 200 });
    expect(detail.body).toEqual(body);
  });

  it('sends only the events the filter names', async () => {
    const { webhook } = await register(handlerA, { url: `${receiver.base}/filtered`, events: ['ticket.returned'] });
    await emit(deptA, 'ticket.reminded', { ticketId: 'x' });
    const wanted = await emit(deptA, 'ticket.returned', { ticketId: 'y' });
    await deliveryOf(webhook.id, wanted, 'succeeded');
    expect(receiver.at('/filtered').map((r) => JSON.parse(r.body).event)).toEqual(['ticket.returned']);
  });

  it('retries after 500s with backoff, then succeeds', async () => {
    receiver.script('/flaky', [500, 503]);
    const { webhook } = await register(handlerA, { url: `${receiver.base}/flaky`, events: ['ticket.*'] });
    const eventId = await emit(deptA, 'ticket.supervised', { ticketId: 'z', note: '督办：请于3个工作日内办结' });
    const d = await deliveryOf(webhook.id, eventId, 'succeeded');
    expect(d.attempts).toBe(3);
    const log = (await api('GET', `/webhooks/${webhook.id}/deliveries/${d.id}`, handlerA)).json<{ attemptLog: { attempt: number; responseCode: number; error: string | null; responseBody: string }[] }>().attemptLog;
    expect(log.map((a) => [a.attempt, a.responseCode, a.error])).toEqual([[1, 500, 'HTTP 500'], [2, 503, 'HTTP 503'], [3, 200, null]]);
    expect(log[0]!.responseBody).toBe('boom 500');
    // Every attempt is the same delivery, freshly signed.
    const ids = new Set(receiver.at('/flaky').map((r) => r.headers['x-hotline-delivery']));
    expect(ids).toEqual(new Set([d.id]));
  });

  it('gives up after the attempt limit, shows it, and redelivers on request', async () => {
    receiver.script('/down', [500, 500, 500, 500]);
    const { webhook } = await register(handlerA, { url: `${receiver.base}/down`, events: ['ticket.*'] });
    const eventId = await emit(deptA, 'ticket.overdue', { ticketId: 'w' });
    const failed = await deliveryOf(webhook.id, eventId, 'failed');
    expect(failed).toMatchObject({ attempts: MAX_ATTEMPTS, responseCode: 500, error: 'HTTP 500' });
    const onlyFailed = (await api('GET', `/webhooks/${webhook.id}/deliveries?status=failed`, handlerA)).json<{ items: { id: string }[] }>().items;
    expect(onlyFailed.map((x) => x.id)).toEqual([failed.id]);

    // The receiver answers 500 once more, then recovers: the redelivery retries and succeeds.
    const other = await api('POST', `/webhooks/${webhook.id}/deliveries/${failed.id}/redeliver`, handlerB);
    expect(other.statusCode).toBe(404);
    const redo = await api('POST', `/webhooks/${webhook.id}/deliveries/${failed.id}/redeliver`, handlerA);
    expect(redo.statusCode, redo.body).toBe(202);
    expect(redo.json()).toMatchObject({ status: 'pending', redeliveries: 1, maxAttempts: MAX_ATTEMPTS * 2 });
    const done = await deliveryOf(webhook.id, eventId, 'succeeded');
    expect(done).toMatchObject({ id: failed.id, attempts: MAX_ATTEMPTS + 2, redeliveries: 1, responseCode: 200 });
    expect(receiver.at('/down')).toHaveLength(MAX_ATTEMPTS + 2);
  });

  it('refuses to redeliver one still in flight, and unknown deliveries', async () => {
    receiver.script('/slow', [0, 0, 0]);
    const { webhook } = await register(handlerA, { url: `${receiver.base}/slow`, events: ['ticket.*'] });
    const eventId = await emit(deptA, 'ticket.reminded', { ticketId: 'v' });
    const pending = await until(async () => (await deliveries(webhook.id)).find((d) => d.eventId === eventId), 'the delivery row');
    const res = await api('POST', `/webhooks/${webhook.id}/deliveries/${pending.id}/redeliver`, handlerA);
    expect(res.statusCode).toBe(409);
    expect(res.json<{ code: string }>().code).toBe('delivery_in_progress');
    const missing = await api('POST', `/webhooks/${webhook.id}/deliveries/00000000-0000-4000-8000-000000000000/redeliver`, handlerA);
    expect(missing.json<{ code: string }>().code).toBe('delivery_not_found');
    // A receiver that never answers runs into the request deadline.
    const failed = await deliveryOf(webhook.id, eventId, 'failed');
    expect(failed.error).toMatch(/no response within 500 ms/);
    expect(failed.responseCode).toBeNull();
  });

  it('a paused webhook gets nothing; resumed, it gets new events', async () => {
    const { webhook } = await register(handlerA, { url: `${receiver.base}/paused`, events: ['ticket.*'] });
    expect((await api('PATCH', `/webhooks/${webhook.id}`, handlerA, { active: false })).statusCode).toBe(200);
    const skipped = await emit(deptA, 'ticket.reminded', { ticketId: 'p1' });
    // Published is not yet handled: wait until the consumer has seen it while paused.
    await until(async () => (await sql`SELECT 1 FROM consumed_events WHERE consumer = ${WEBHOOKS_CONSUMER} AND event_id = ${skipped}`.execute(app.hotline.db.db)).rows.length > 0, 'the paused event consumed');
    expect((await api('PATCH', `/webhooks/${webhook.id}`, handlerA, { active: true })).statusCode).toBe(200);
    const sent = await emit(deptA, 'ticket.reminded', { ticketId: 'p2' });
    await deliveryOf(webhook.id, sent, 'succeeded');
    expect((await deliveries(webhook.id)).map((d) => d.eventId)).not.toContain(skipped);
  });

  it('never sends a department another department\'s events', async () => {
    const a = await register(handlerA, { url: `${receiver.base}/leak-a`, events: ['>'] });
    const b = await register(handlerB, { url: `${receiver.base}/leak-b`, events: ['>'] });
    const forB = await emit(deptB, 'ticket.dispatched', { ticketId: 'b1', title: '某工地夜间施工噪音扰民' });
    const forA = await emit(deptA, 'ticket.dispatched', { ticketId: 'a1', title: '人民路井盖缺失' });
    // Hotline-wide subjects are not department subjects: nobody's webhook gets them.
    await app.hotline.db.db.transaction().execute((tx) => app.hotline.events.outbox.append(tx, [{ type: 'ticket.dispatched', payload: { ticketId: 'all' } }]));
    await deliveryOf(a.webhook.id, forA, 'succeeded');
    await deliveryOf(b.webhook.id, forB, 'succeeded');
    await app.hotline.events.relay.whenIdle();
    expect(receiver.at('/leak-a').map((r) => JSON.parse(r.body).eventId)).toEqual([forA]);
    expect(receiver.at('/leak-b').map((r) => JSON.parse(r.body).eventId)).toEqual([forB]);
    expect((await deliveries(a.webhook.id)).map((d) => d.eventId)).toEqual([forA]);
    // A department cannot read another's delivery log.
    expect((await api('GET', `/webhooks/${a.webhook.id}/deliveries`, handlerB)).statusCode).toBe(404);
  });

  it('rotating the secret signs later deliveries with the new one', async () => {
    const { webhook, secret: old } = await register(handlerA, { url: `${receiver.base}/rotate`, events: ['ticket.*'] });
    const res = await api('POST', `/webhooks/${webhook.id}/rotate-secret`, handlerA);
    expect(res.statusCode).toBe(200);
    const { secret } = res.json<{ secret: string }>();
    expect(secret).not.toBe(old);
    const eventId = await emit(deptA, 'ticket.closed', { ticketId: 'r' });
    await deliveryOf(webhook.id, eventId, 'succeeded');
    const [req] = receiver.at('/rotate');
    const ts = Number(req!.headers['x-hotline-timestamp']);
    const now = Math.floor(Date.now() / 1000);
    expect(verifySignature(secret, String(req!.headers['x-hotline-signature']), ts, req!.body, now)).toBe(true);
    expect(verifySignature(old, String(req!.headers['x-hotline-signature']), ts, req!.body, now)).toBe(false);
  });

  it('deleting a webhook removes it and its log', async () => {
    const { webhook } = await register(handlerA, { url: `${receiver.base}/gone`, events: ['ticket.*'] });
    expect((await api('DELETE', `/webhooks/${webhook.id}`, handlerA)).statusCode).toBe(204);
    expect((await api('GET', `/webhooks/${webhook.id}`, handlerA)).statusCode).toBe(404);
  });
});
