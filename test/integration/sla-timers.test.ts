/**
 * Durable SLA timers on real PostgreSQL (graphile-worker), against a small stand-in for the
 * tickets module (test/support/fake-tickets.ts): scheduling in the transition's transaction,
 * replacement and cancellation, 预警 / 超期 / 督办, a restart between scheduling and firing, and two
 * instances sharing one database with every timer firing exactly once. Time passes by moving the
 * injected clock and making the jobs due in the database (advanceTime), never by sleeping.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Actor } from '../../src/domain/tickets/index.js';
import { createSlaModule } from '../../src/modules/sla/sla.module.js';
import type { SlaService } from '../../src/modules/sla/sla.service.js';
import { FakeTicketStore, type FakeTicketsPort } from '../support/fake-tickets.js';
import { advanceTime, createSharedDatabase, query, SLA_JOBS, startInstance, TestClock, timersScheduled, type Instance } from '../support/sla.js';

const MINUTE = 60_000;
const AGENT: Actor = { role: 'agent', id: 'agent-1' };
const SUPERVISOR: Actor = { role: 'supervisor', id: 'sup-1' };
const DEPT = randomUUID();

const clock = new TestClock(new Date());
const store = new FakeTicketStore();
let db: { url: string; drop(): Promise<void> };
const open: Instance[] = [];

/** An instance with the SLA module on the fake tickets; returns the port it sees. */
async function instance(): Promise<{ app: Instance; port: FakeTicketsPort; sla: SlaService }> {
  let port: FakeTicketsPort | undefined;
  const app = await startInstance(db.url, {
    clock,
    modules: [createSlaModule({ pollIntervalMs: 100, concurrency: 2, resolveTickets: (ctx) => (port = store.portFor(ctx.db, ctx.clock)) })],
  });
  open.push(app);
  return { app, port: port!, sla: app.hotline.modules.get('sla')!.exports!['sla'] as SlaService };
}

async function close(app: Instance): Promise<void> {
  open.splice(open.indexOf(app), 1);
  await app.close();
}

/** 受理 a very urgent 求助: dispatch within 1 natural hour, warning at 80 % (48 min). */
async function acceptTicket(port: FakeTicketsPort, sla: SlaService): Promise<string> {
  const id = randomUUID();
  store.create(id, 'help', 'very_urgent');
  const d = await sla.deadlinesFor({ type: 'help', urgency: 'very_urgent', stage: 'dispatch', at: clock.now() });
  await port.act(id, { type: 'accept', dispatchDueAt: d.dueAt }, AGENT);
  return id;
}

/** The ticket's jobs once the scheduler has added what the transitions recorded. */
const jobsOf = async (id: string) => {
  await timersScheduled(db.url);
  return query<{ key: string; task_identifier: string; payload: { stage: string; dueAt: string; warnAt: string } }>(
    db.url, `SELECT j.key, t.identifier AS task_identifier, j.payload FROM ${SLA_JOBS} WHERE j.key LIKE $1 ORDER BY j.key DESC`, [`sla:${id}:%`]);
};
const firingsOf = (id: string) => query<{ kind: string; outcome: string; actions: string[]; instance: string }>(
  db.url, 'SELECT kind, outcome, actions, instance FROM sla_timer_firings WHERE ticket_id = $1 ORDER BY id', [id]);
const waitFor = (check: () => void | Promise<void>) => vi.waitFor(check, { timeout: 15_000, interval: 50 });

beforeAll(async () => {
  db = await createSharedDatabase();
});

afterAll(async () => {
  for (const app of [...open]) await app.close();
  await db?.drop();
});

describe('SLA timers (durable, graphile-worker)', () => {
  it('are scheduled with the transition, replaced when the deadline changes and removed when the ticket closes', async () => {
    const { app, port, sla } = await instance();
    try {
      const id = await acceptTicket(port, sla);
      const accepted = store.states.get(id)!;
      let jobs = await jobsOf(id);
      expect(jobs.map((j) => [j.key, j.task_identifier])).toEqual([[`sla:${id}:warning`, 'sla_warning'], [`sla:${id}:overdue`, 'sla_overdue']]);
      expect(jobs[0]!.payload).toMatchObject({ stage: 'dispatch', dueAt: accepted.dispatchDueAt!.toISOString() });
      expect(new Date(jobs[0]!.payload.warnAt).getTime() - clock.now().getTime()).toBe(48 * MINUTE);

      // 派单: the completion deadline (24 natural hours) replaces the dispatch one.
      const c = await sla.deadlinesFor({ type: 'help', urgency: 'very_urgent', stage: 'completion', at: clock.now() });
      await port.act(id, { type: 'dispatch', mainDepartmentId: DEPT, dueAt: c.dueAt }, AGENT);
      jobs = await jobsOf(id);
      expect(jobs).toHaveLength(2);
      expect(jobs.every((j) => j.payload.stage === 'completion' && j.payload.dueAt === c.dueAt.toISOString())).toBe(true);
      const timers = await app.hotline.app.inject({ method: 'GET', url: `/api/v1/sla/tickets/${id}/timers`, headers: { authorization: `Bearer ${app.adminToken}` } });
      expect(timers.json()).toMatchObject({ timer: { stage: 'completion', dueAt: c.dueAt.toISOString() }, firings: [] });
      expect(timers.json().jobs).toHaveLength(2);

      // 撤单 by a supervisor: nothing runs any more.
      await port.act(id, { type: 'cancel', reason: '重复来电' }, SUPERVISOR);
      expect(await jobsOf(id)).toEqual([]);
      expect((await query(db.url, 'SELECT 1 FROM sla_ticket_timers WHERE ticket_id = $1', [id]))).toEqual([]);

      // 直办 right after acceptance closes the ticket at once.
      const direct = await acceptTicket(port, sla);
      expect(await jobsOf(direct)).toHaveLength(2);
      await port.act(direct, { type: 'direct_answer', content: '已当场答复' }, AGENT);
      expect(await jobsOf(direct)).toEqual([]);

      // Two days later nothing has fired for either ticket.
      const due = await advanceTime(clock, db.url, 48 * 60 * MINUTE);
      expect(due.filter((k) => k.includes(id) || k.includes(direct))).toEqual([]);
      expect([...(await firingsOf(id)), ...(await firingsOf(direct))]).toEqual([]);
    } finally {
      await close(app);
    }
  });

  it('warn (预警), then mark overdue (超期) and escalate to supervision (督办), each once', async () => {
    const { app, port, sla } = await instance();
    try {
      const id = await acceptTicket(port, sla);
      expect(await advanceTime(clock, db.url, 50 * MINUTE)).toContain(`sla:${id}:warning`);
      await waitFor(() => expect(store.count('sla_warning', id)).toBe(1));
      expect(store.states.get(id)).toMatchObject({ warned: true, overdue: false, supervised: false });

      expect(await advanceTime(clock, db.url, 11 * MINUTE)).toContain(`sla:${id}:overdue`);
      await waitFor(() => expect(store.count('supervise', id)).toBe(1));
      expect(store.states.get(id)).toMatchObject({ status: 'accepted', warned: true, overdue: true, supervised: true });
      const mine = store.transitions.filter((t) => t.ticketId === id && t.actor.role === 'system');
      expect(mine.map((t) => t.action)).toEqual(['sla_warning', 'mark_overdue', 'supervise']);
      expect(mine[2]!.reason).toMatch(/^超期自动督办/);
      await waitFor(async () => expect(await firingsOf(id)).toEqual([
        expect.objectContaining({ kind: 'warning', outcome: 'applied', actions: ['sla_warning'] }),
        expect.objectContaining({ kind: 'overdue', outcome: 'applied', actions: ['mark_overdue', 'supervise'] }),
      ]));
      await waitFor(async () => expect(await jobsOf(id)).toEqual([])); // completed jobs are deleted
    } finally {
      await close(app);
    }
  });

  it('watch the response deadline (签收) after dispatch: warn, mark overdue and escalate, then run the completion deadline afresh once signed', async () => {
    const { app, port, sla } = await instance();
    try {
      const id = await acceptTicket(port, sla);
      // 派单 of a very urgent 求助: sign within 1 natural hour (warning at 48 min), complete within 24.
      const r = await sla.deadlinesFor({ type: 'help', urgency: 'very_urgent', stage: 'response', at: clock.now() });
      const c = await sla.deadlinesFor({ type: 'help', urgency: 'very_urgent', stage: 'completion', at: clock.now() });
      await port.act(id, { type: 'dispatch', mainDepartmentId: DEPT, dueAt: c.dueAt, responseDueAt: r.dueAt }, AGENT);
      const jobs = await jobsOf(id);
      expect(jobs).toHaveLength(2);
      expect(jobs.every((j) => j.payload.stage === 'response' && j.payload.dueAt === r.dueAt.toISOString())).toBe(true);

      expect(await advanceTime(clock, db.url, 50 * MINUTE)).toContain(`sla:${id}:warning`);
      await waitFor(() => expect(store.count('sla_warning', id)).toBe(1));
      expect(await advanceTime(clock, db.url, 11 * MINUTE)).toContain(`sla:${id}:overdue`);
      await waitFor(() => expect(store.count('supervise', id)).toBe(1));
      expect(store.states.get(id)).toMatchObject({ status: 'dispatched', warned: true, overdue: true, supervised: true });
      const mine = store.transitions.filter((t) => t.ticketId === id && t.actor.role === 'system');
      expect(mine.map((t) => [t.action, t.data['stage'] ?? null])).toEqual([['sla_warning', 'response'], ['mark_overdue', 'response'], ['supervise', null]]);
      expect(mine[2]!.reason).toMatch(/^超期自动督办：响应时限/);
      await waitFor(async () => expect((await firingsOf(id)).map((f) => [f.kind, f.outcome])).toEqual([['warning', 'applied'], ['overdue', 'applied']]));

      // The department signs late: the completion deadline runs from here with fresh flags.
      await port.act(id, { type: 'sign' }, { role: 'dept_handler', id: 'handler-1', departmentId: DEPT });
      expect(store.states.get(id)).toMatchObject({ status: 'in_progress', warned: false, overdue: false, supervised: true });
      const after = await jobsOf(id);
      expect(after.map((j) => [j.task_identifier, j.payload.stage, j.payload.dueAt])).toEqual([
        ['sla_warning', 'completion', c.dueAt.toISOString()], ['sla_overdue', 'completion', c.dueAt.toISOString()],
      ]);
    } finally {
      await close(app);
    }
  });

  it('schedule a deadline recorded by an instance that stopped before adding its jobs', async () => {
    const id = randomUUID();
    const due = new Date(clock.now().getTime() + 60 * MINUTE);
    // As a transition leaves it: recorded, pending, no jobs yet.
    await query(db.url, `INSERT INTO sla_ticket_timers (ticket_id, stage, started_at, due_at, warn_at, policy_version, scheduled)
      VALUES ($1, 'dispatch', $2, $3, $4, 0, false)`, [id, clock.now(), due, new Date(due.getTime() - 12 * MINUTE)]);
    const { app } = await instance();
    try {
      const jobs = await jobsOf(id);
      expect(jobs.map((j) => [j.task_identifier, j.payload.dueAt])).toEqual([['sla_warning', due.toISOString()], ['sla_overdue', due.toISOString()]]);
    } finally {
      await close(app);
      await query(db.url, 'DELETE FROM sla_ticket_timers WHERE ticket_id = $1', [id]);
      await query(db.url, 'SELECT graphile_worker.remove_job(k) FROM unnest($1::text[]) AS k', [[`sla:${id}:warning`, `sla:${id}:overdue`]]);
    }
  });

  it('a timer that the database runs before its moment (clock skew) is put back, not acted on', async () => {
    const { app, port, sla } = await instance();
    try {
      const id = await acceptTicket(port, sla);
      await timersScheduled(db.url);
      // Make the warning job due in the database while the clock has not reached its moment.
      await query(db.url, `SELECT graphile_worker.reschedule_jobs(ARRAY(SELECT id FROM graphile_worker.jobs WHERE key = $1), run_at := now())`, [`sla:${id}:warning`]);
      await waitFor(async () => expect(await firingsOf(id)).toEqual([expect.objectContaining({ kind: 'warning', outcome: 'early', actions: [] })]));
      expect(store.count('sla_warning', id)).toBe(0);
      const [warning] = await query<{ later: boolean }>(db.url, `SELECT run_at > now() + interval '40 minutes' AS later FROM graphile_worker.jobs WHERE key = $1`, [`sla:${id}:warning`]);
      expect(warning).toEqual({ later: true });

      expect(await advanceTime(clock, db.url, 50 * MINUTE)).toContain(`sla:${id}:warning`);
      await waitFor(() => expect(store.count('sla_warning', id)).toBe(1));
    } finally {
      await close(app);
    }
  });

  it('fire after a restart: scheduled by one process, fired by the next', async () => {
    const first = await instance();
    const id = await acceptTicket(first.port, first.sla);
    await close(first.app); // stopped before anything was due
    expect(await jobsOf(id)).toHaveLength(2);
    expect(await firingsOf(id)).toEqual([]);

    // While no process runs, the warning falls due.
    expect(await advanceTime(clock, db.url, 50 * MINUTE)).toContain(`sla:${id}:warning`);
    const second = await instance();
    try {
      await waitFor(() => expect(store.count('sla_warning', id)).toBe(1));
      expect(await advanceTime(clock, db.url, 11 * MINUTE)).toContain(`sla:${id}:overdue`);
      await waitFor(() => expect(store.count('supervise', id)).toBe(1));
      expect(store.states.get(id)).toMatchObject({ warned: true, overdue: true, supervised: true });
      // The firing row is written after the action it records: wait for it too.
      await waitFor(async () => expect((await firingsOf(id)).map((f) => [f.kind, f.outcome])).toEqual([['warning', 'applied'], ['overdue', 'applied']]));
    } finally {
      await close(second.app);
    }
  });

  it('readiness reports timers that failed every attempt', async () => {
    const { app } = await instance();
    try {
      const sla = async () => (await app.hotline.app.inject({ method: 'GET', url: '/readyz' })).json().checks.sla;
      expect(await sla()).toMatchObject({ worker: true, failedTimers: 0 });
      const key = `sla:${randomUUID()}:overdue`;
      // A timer whose action kept failing: graphile-worker keeps the row with attempts = max_attempts.
      await query(db.url, `SELECT graphile_worker.add_job('sla_overdue', '{}'::json, run_at := now() + interval '1 day', max_attempts := 1, job_key := $1)`, [key]);
      await query(db.url, 'UPDATE graphile_worker._private_jobs SET attempts = 1 WHERE key = $1', [key]);
      expect(await sla()).toMatchObject({ status: 'degraded', failedTimers: 1, detail: expect.stringContaining('failed every attempt') });
      await query(db.url, 'SELECT graphile_worker.remove_job($1)', [key]);
    } finally {
      await close(app);
    }
  });

  it('two instances on one database: every timer fires exactly once', async () => {
    const a = await instance();
    const b = await instance();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) ids.push(await acceptTicket(i % 2 === 0 ? a.port : b.port, i % 2 === 0 ? a.sla : b.sla));
      expect(await advanceTime(clock, db.url, 50 * MINUTE)).toEqual(expect.arrayContaining(ids.map((id) => `sla:${id}:warning`)));
      await waitFor(() => expect(ids.map((id) => store.count('sla_warning', id))).toEqual([1, 1, 1, 1, 1, 1]));
      expect(await advanceTime(clock, db.url, 11 * MINUTE)).toEqual(expect.arrayContaining(ids.map((id) => `sla:${id}:overdue`)));
      await waitFor(() => expect(ids.map((id) => store.count('supervise', id))).toEqual([1, 1, 1, 1, 1, 1]));
      // Let both workers poll a few more times: nothing runs again.
      const keys = ids.flatMap((id) => [`sla:${id}:warning`, `sla:${id}:overdue`]);
      await waitFor(async () => expect(await query(db.url, 'SELECT 1 FROM graphile_worker.jobs WHERE key = ANY($1)', [keys])).toEqual([]));
      await new Promise((r) => setTimeout(r, 400));
      for (const id of ids) {
        expect(['sla_warning', 'mark_overdue', 'supervise'].map((action) => store.count(action, id))).toEqual([1, 1, 1]);
        expect((await firingsOf(id)).map((f) => f.kind)).toEqual(['warning', 'overdue']);
      }
    } finally {
      await close(a.app);
      await close(b.app);
    }
  });
});
