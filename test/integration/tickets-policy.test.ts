/**
 * Settings a deployment changes through the environment (src/config.ts), on the real app: the
 * 不满意 follow-up (TICKET_REOPEN_MAX, TICKET_REOPEN_SUPERVISE) and the duplicate window
 * (DUPLICATE_WINDOW_HOURS).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { phoneTicket, world, type World } from './tickets-helpers.js';

async function handledTicket(w: World, dept: string, handler: string): Promise<string> {
  const { ticket } = await w.intake(w.agent);
  for (const [token, action, payload] of [
    [w.agent, 'dispatch', { mainDepartmentId: dept }], [handler, 'sign', {}], [handler, 'reply', { content: '已处理' }], [w.agent, 'approve_reply', {}],
  ] as const) {
    const res = await w.act(token, ticket.id, action, payload);
    expect(res.statusCode, res.body).toBe(200);
  }
  return ticket.id;
}

async function redo(w: World, id: string, handler: string): Promise<void> {
  for (const [token, action, payload] of [[handler, 'reply', { content: '再次处理' }], [w.agent, 'approve_reply', {}]] as const) {
    expect((await w.act(token, id, action, payload)).statusCode).toBe(200);
  }
}

describe('TICKET_REOPEN_MAX=2', () => {
  let w: World;
  let dept: string;
  let handler: string;
  beforeAll(async () => {
    w = await world({ TICKET_REOPEN_MAX: '2' });
    dept = await w.dept('reopen-2');
    handler = (await w.t.createUser('reopen-handler', 'dept_handler', dept)).token;
  });
  afterAll(async () => w.close());

  it('reopens twice after 不满意, then escalates to 督办', async () => {
    const id = await handledTicket(w, dept, handler);
    const dissatisfied = async () => (await w.act(w.agent, id, 'evaluate', { evaluation: 'dissatisfied' })).json<{ status: string; supervised: boolean; counters: { reopens: number } }>();
    expect(await dissatisfied()).toMatchObject({ status: 'in_progress', counters: { reopens: 1 }, supervised: false });
    await redo(w, id, handler);
    expect(await dissatisfied()).toMatchObject({ status: 'in_progress', counters: { reopens: 2 } });
    await redo(w, id, handler);
    expect(await dissatisfied()).toMatchObject({ status: 'evaluated', counters: { reopens: 2 }, supervised: true });
  });
});

describe('TICKET_REOPEN_MAX=0, TICKET_REOPEN_SUPERVISE=false, DUPLICATE_WINDOW_HOURS=2', () => {
  let w: World;
  let dept: string;
  let handler: string;
  beforeAll(async () => {
    w = await world({ TICKET_REOPEN_MAX: '0', TICKET_REOPEN_SUPERVISE: 'false', DUPLICATE_WINDOW_HOURS: '2' });
    dept = await w.dept('reopen-0');
    handler = (await w.t.createUser('reopen0-handler', 'dept_handler', dept)).token;
  });
  afterAll(async () => w.close());

  it('never reopens and does not escalate: 不满意 is recorded for a supervisor to act on', async () => {
    const id = await handledTicket(w, dept, handler);
    const res = (await w.act(w.agent, id, 'evaluate', { evaluation: 'dissatisfied' })).json();
    expect(res).toMatchObject({ status: 'evaluated', evaluation: 'dissatisfied', supervised: false, counters: { reopens: 0 } });
    // A supervisor may still reopen by hand.
    expect((await w.act(w.supervisor, id, 'reopen', { reason: '复核后重办' })).json()).toMatchObject({ status: 'in_progress' });
  });

  it('compares a request only with those of the last two hours', async () => {
    const body = { title: '幸福小区3号楼门口路灯不亮', content: '幸福小区3号楼门口的路灯坏了好几天，晚上很黑，请尽快维修。', address: '幸福路1号', areaCode: '330106001001' };
    const old = (await w.intake(w.agent, phoneTicket({ ...body, caller: { phone: '13700000001' } }))).ticket.id;
    const recent = (await w.intake(w.agent, phoneTicket({ ...body, caller: { phone: '13700000002' } }))).ticket.id;
    // The first request was taken three hours ago (moving created_at is allowed; deleting is not).
    await w.sql.query(`UPDATE tickets SET created_at = now() - interval '3 hours' WHERE id = $1`, [old]);
    const fresh = (await w.intake(w.agent, phoneTicket({ ...body, caller: { phone: '13700000003' } }))).ticket.id;
    const s = await vi.waitFor(async () => {
      const r = (await w.call(w.agent, 'GET', `/duplicates/tickets/${fresh}/suggestions`)).json<{ analyzedAt: string | null; items: { candidate: { id: string } }[] }>();
      expect(r.analyzedAt).not.toBeNull();
      return r;
    }, { timeout: 15_000, interval: 100 });
    const candidates = s.items.map((i) => i.candidate.id);
    expect(candidates).toContain(recent);
    expect(candidates).not.toContain(old);
  });
});
