/**
 * SLA timers end to end with the real tickets module (src/modules/index.ts as shipped, the SLA
 * module polling faster): tickets taken over HTTP get their deadline recorded in the same
 * transaction (jobs follow from the scheduler), dispatch replaces it with the response deadline
 * (签收), signing with the completion one, cancelling removes them; 预警, 超期 and 督办 land in the ticket, its
 * audit history and the outbox exactly once, also across a restart and with two instances.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FEATURE_MODULES } from '../../src/modules/index.js';
import { createSlaModule, slaModule } from '../../src/modules/sla/sla.module.js';
import { advanceTime, createSharedDatabase, query, startInstance, TestClock, timersScheduled, type Instance } from '../support/sla.js';

const MINUTE = 60_000;
const clock = new TestClock(new Date());
const modules = FEATURE_MODULES.map((f) => (f === slaModule ? createSlaModule({ pollIntervalMs: 100, concurrency: 2 }) : f));
let db: { url: string; drop(): Promise<void> };
const open: Instance[] = [];
let agent: string;
let supervisor: string;
let departmentId: string;
let handler: string;

async function instance(): Promise<Instance> {
  const app = await startInstance(db.url, { clock, modules });
  open.push(app);
  if (!app.hotline.modules.has('tickets') || !app.hotline.modules.has('sla')) {
    throw new Error('the SLA end-to-end test needs both the sla and the tickets module in src/modules/index.ts');
  }
  return app;
}

async function close(app: Instance): Promise<void> {
  open.splice(open.indexOf(app), 1);
  await app.close();
}

const call = async (app: Instance, method: 'GET' | 'POST', url: string, token: string, payload?: object) => {
  const res = await app.hotline.app.inject({ method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });
  if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
  return res.json();
};

/** A very urgent 求助 taken by an agent: accepted at once, dispatch due in 1 natural hour. */
async function takeTicket(app: Instance): Promise<string> {
  const body = await call(app, 'POST', '/tickets', agent, {
    channel: 'website', channelMeta: { submissionId: randomUUID() }, type: 'help', urgency: 'very_urgent', title: '小区停水', content: '小区停水已经三天，老人无法做饭', caller: { phone: '13800138000' },
  });
  expect(body.ticket.status).toBe('accepted');
  return body.ticket.id as string;
}

const systemActions = (id: string) => query<{ action: string; n: number }>(db.url,
  `SELECT action, count(*)::int AS n FROM ticket_transitions WHERE ticket_id = $1 AND actor_type = 'system' GROUP BY action ORDER BY min(id)`, [id]);
const waitFor = (check: () => void | Promise<void>) => vi.waitFor(check, { timeout: 15_000, interval: 50 });

beforeAll(async () => {
  db = await createSharedDatabase();
  const app = await instance();
  agent = await app.userToken('agent1', 'agent');
  supervisor = await app.userToken('sup1', 'supervisor');
  departmentId = (await call(app, 'POST', '/departments', app.adminToken, { code: 'water', name: '市水务局', level: 'city' })).id;
  handler = await app.userToken('water1', 'dept_handler', departmentId);
});

afterAll(async () => {
  for (const app of [...open]) await app.close();
  await db?.drop();
});

describe('SLA timers with the tickets module', () => {
  it('follow the ticket: accepting schedules, dispatching and signing replace, cancelling removes', async () => {
    const app = open[0]!;
    const id = await takeTicket(app);
    const ticket = await call(app, 'GET', `/tickets/${id}`, supervisor);
    await timersScheduled(db.url);
    let timers = await call(app, 'GET', `/sla/tickets/${id}/timers`, supervisor);
    expect(timers.timer).toMatchObject({ stage: 'dispatch', dueAt: ticket.deadlines.dispatchDueAt, warnAt: ticket.deadlines.dispatchWarnAt });
    expect((timers.jobs as { task: string }[]).map((j) => j.task).sort()).toEqual(['sla_overdue', 'sla_warning']);

    const dispatched = await call(app, 'POST', `/tickets/${id}/actions`, agent, { action: 'dispatch', mainDepartmentId: departmentId });
    await timersScheduled(db.url);
    timers = await call(app, 'GET', `/sla/tickets/${id}/timers`, supervisor);
    expect(timers.timer).toMatchObject({ stage: 'response', dueAt: dispatched.deadlines.responseDueAt, warnAt: dispatched.deadlines.responseWarnAt });
    expect(timers.jobs).toHaveLength(2);

    const signed = await call(app, 'POST', `/tickets/${id}/actions`, handler, { action: 'sign' });
    await timersScheduled(db.url);
    timers = await call(app, 'GET', `/sla/tickets/${id}/timers`, supervisor);
    expect(timers.timer).toMatchObject({ stage: 'completion', dueAt: signed.deadlines.dueAt, warnAt: signed.deadlines.dueWarnAt });
    expect(timers.jobs).toHaveLength(2);

    await call(app, 'POST', `/tickets/${id}/actions`, supervisor, { action: 'cancel', reason: '诉求人撤回' });
    timers = await call(app, 'GET', `/sla/tickets/${id}/timers`, supervisor);
    expect(timers).toEqual({ timer: null, jobs: [], firings: [] });
  });

  it('warn, mark overdue and escalate a real ticket once: state, audit history and outbox', async () => {
    const app = open[0]!;
    const id = await takeTicket(app);
    expect(await advanceTime(clock, db.url, 50 * MINUTE)).toContain(`sla:${id}:warning`);
    await waitFor(async () => expect((await call(app, 'GET', `/tickets/${id}`, supervisor)).warned).toBe(true));
    expect(await advanceTime(clock, db.url, 11 * MINUTE)).toContain(`sla:${id}:overdue`);
    await waitFor(async () => expect((await call(app, 'GET', `/tickets/${id}`, supervisor)).supervised).toBe(true));

    const ticket = await call(app, 'GET', `/tickets/${id}`, supervisor);
    expect(ticket).toMatchObject({ status: 'accepted', warned: true, overdue: true, supervised: true });
    const history = ((await call(app, 'GET', `/tickets/${id}/history`, supervisor)).items as { action: string; actor: { type: string } }[]).filter((h) => h.actor.type === 'system');
    expect(history.map((h) => h.action)).toEqual(['sla_warning', 'mark_overdue', 'supervise']);
    expect(history[2]).toMatchObject({ actor: { id: 'sla-timer', role: 'system' }, reason: expect.stringMatching(/^超期自动督办/) });
    const events = await query<{ type: string; n: number }>(db.url,
      `SELECT type, count(*)::int AS n FROM outbox WHERE payload->>'ticketId' = $1 AND type IN ('ticket.sla_warning', 'ticket.overdue', 'ticket.supervised') GROUP BY type ORDER BY type`, [id]);
    expect(events).toEqual([{ type: 'ticket.overdue', n: 1 }, { type: 'ticket.sla_warning', n: 1 }, { type: 'ticket.supervised', n: 1 }]);
  });

  it('watch a department that does not sign (签收): warn it, mark the ticket overdue and escalate to 督办', async () => {
    const app = open[0]!;
    const id = await takeTicket(app);
    const dispatched = await call(app, 'POST', `/tickets/${id}/actions`, agent, { action: 'dispatch', mainDepartmentId: departmentId });
    // Very urgent: sign within 1 natural hour, warned at 80 % (48 minutes).
    expect(new Date(dispatched.deadlines.responseDueAt).getTime() - clock.now().getTime()).toBe(60 * MINUTE);
    expect(await advanceTime(clock, db.url, 50 * MINUTE)).toContain(`sla:${id}:warning`);
    await waitFor(async () => expect((await call(app, 'GET', `/tickets/${id}`, supervisor)).warned).toBe(true));
    expect(await advanceTime(clock, db.url, 11 * MINUTE)).toContain(`sla:${id}:overdue`);
    await waitFor(async () => expect((await call(app, 'GET', `/tickets/${id}`, supervisor)).supervised).toBe(true));
    expect(await call(app, 'GET', `/tickets/${id}`, supervisor)).toMatchObject({ status: 'dispatched', warned: true, overdue: true, supervised: true });
    const history = ((await call(app, 'GET', `/tickets/${id}/history`, supervisor)).items as { action: string; actor: { type: string }; data: { stage?: string } }[])
      .filter((h) => h.actor.type === 'system');
    expect(history.map((h) => [h.action, h.data.stage ?? null])).toEqual([['sla_warning', 'response'], ['mark_overdue', 'response'], ['supervise', null]]);
    // The department is told on its own subject (webhooks, NATS): 签收 is due, then overdue.
    const deptEvents = await query<{ type: string; stage: string }>(db.url,
      `SELECT type, payload->>'stage' AS stage FROM outbox WHERE payload->>'ticketId' = $1 AND subject LIKE '%.dept.' || $2 || '.%' AND type IN ('ticket.sla_warning', 'ticket.overdue') ORDER BY seq`, [id, departmentId]);
    expect(deptEvents).toEqual([{ type: 'ticket.sla_warning', stage: 'response' }, { type: 'ticket.overdue', stage: 'response' }]);

    // Signed late: the completion deadline runs with fresh flags; the 督办 stays until lifted.
    const signed = await call(app, 'POST', `/tickets/${id}/actions`, handler, { action: 'sign' });
    expect(signed).toMatchObject({ status: 'in_progress', warned: false, overdue: false, supervised: true });
    await timersScheduled(db.url);
    expect((await call(app, 'GET', `/sla/tickets/${id}/timers`, supervisor)).timer).toMatchObject({ stage: 'completion', dueAt: signed.deadlines.dueAt });
  });

  it('fire after a restart, once, with two instances sharing the database', async () => {
    const first = open[0]!;
    const ids = [await takeTicket(first), await takeTicket(first), await takeTicket(first), await takeTicket(first)];
    await close(first); // nothing was due yet
    for (const id of ids) expect(await systemActions(id)).toEqual([]);

    // While no process runs, every warning falls due; then two new instances start together.
    expect(await advanceTime(clock, db.url, 50 * MINUTE)).toEqual(expect.arrayContaining(ids.map((id) => `sla:${id}:warning`)));
    await Promise.all([instance(), instance()]);
    await waitFor(async () => {
      for (const id of ids) expect(await systemActions(id)).toEqual([{ action: 'sla_warning', n: 1 }]);
    });
    expect(await advanceTime(clock, db.url, 11 * MINUTE)).toEqual(expect.arrayContaining(ids.map((id) => `sla:${id}:overdue`)));
    await waitFor(async () => {
      for (const id of ids) expect(await systemActions(id)).toEqual([{ action: 'sla_warning', n: 1 }, { action: 'mark_overdue', n: 1 }, { action: 'supervise', n: 1 }]);
    });
    const keys = ids.flatMap((id) => [`sla:${id}:warning`, `sla:${id}:overdue`]);
    await waitFor(async () => expect(await query(db.url, 'SELECT 1 FROM graphile_worker.jobs WHERE key = ANY($1)', [keys])).toEqual([]));
    const firings = await query<{ n: number }>(db.url, 'SELECT count(*)::int AS n FROM sla_timer_firings WHERE ticket_id = ANY($1) GROUP BY ticket_id, kind', [ids]);
    expect(firings).toEqual(Array.from({ length: 8 }, () => ({ n: 1 })));
  });
});
