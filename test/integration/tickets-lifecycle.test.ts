import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TicketsService } from '../../src/modules/tickets/tickets.service.js';
import { SYSTEM_PRINCIPAL } from '../../src/modules/tickets/tickets.service.js';
import type { HistoryEntry } from '../../src/modules/tickets/tickets.service.js';
import type { TicketView } from '../../src/modules/tickets/tickets.view.js';
import { itemIds, phoneTicket, world, type World } from './tickets-helpers.js';

let w: World;
let deptA: string;
let deptB: string;
let handlerA: string;
let handlerB: string;
let apiKey: string;
beforeAll(async () => {
  w = await world();
  const city = await w.dept('city', 'city');
  deptA = await w.dept('dept-a', 'district', city);
  deptB = await w.dept('dept-b', 'district', city);
  handlerA = (await w.t.createUser('handler-a', 'dept_handler', deptA)).token;
  handlerB = (await w.t.createUser('handler-b', 'dept_handler', deptB)).token;
  apiKey = (await w.call(w.t.adminToken, 'POST', '/api-keys', { name: 'app', role: 'integrator' })).json().key;
});
afterAll(async () => w.close());

async function ok(token: string, id: string, action: string, payload: Record<string, unknown> = {}): Promise<TicketView> {
  const res = await w.act(token, id, action, payload);
  expect(res.statusCode, `${action}: ${res.body}`).toBe(200);
  return res.json<TicketView>();
}

async function draft(): Promise<string> {
  const res = await w.t.hotline.app.inject({
    method: 'POST', url: '/api/v1/tickets', headers: { 'x-api-key': apiKey, 'idempotency-key': `d-${Math.random()}` },
    payload: { ...phoneTicket(), channel: 'mobile_app', callId: undefined, channelMeta: { submissionId: `s-${Math.random()}` } },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().ticket.id;
}

async function dispatched(main = deptA, co: string[] = []): Promise<string> {
  const { ticket } = await w.intake(w.agent);
  await ok(w.agent, ticket.id, 'dispatch', { mainDepartmentId: main, coDepartmentIds: co });
  return ticket.id;
}

describe('the closed loop over HTTP', () => {
  it('goes 受理 → 派单 → 签收 → 答复 → 审核 → 办结 → 回访 → 评价 with an audit row per step', async () => {
    const id = await draft();
    expect((await ok(w.agent, id, 'accept', { urgency: 'urgent' })).urgency).toBe('urgent');
    const d = await ok(w.agent, id, 'dispatch', { mainDepartmentId: deptA, coDepartmentIds: [deptB], note: '请尽快处理' });
    expect(d).toMatchObject({ status: 'dispatched', mainDepartmentId: deptA, coDepartmentIds: [deptB] });
    expect(d.deadlines.dueAt).not.toBeNull();
    expect(d.deadlines.responseDueAt).not.toBeNull();
    await ok(handlerA, id, 'sign');
    await ok(handlerB, id, 'co_opinion', { content: '协办单位意见：已配合现场查看' });
    await ok(handlerA, id, 'reply', { content: '已更换路灯灯泡', resolved: true });
    await ok(w.agent, id, 'reject_reply', { reason: '请补充现场照片' });
    await ok(handlerA, id, 'reply', { content: '已更换路灯灯泡，附照片' });
    const closed = await ok(w.agent, id, 'approve_reply');
    expect(closed.status).toBe('closed');
    expect(closed.closedAt).not.toBeNull();
    expect((await ok(w.agent, id, 'revisit', { reached: false, revisitChannel: 'phone' })).status).toBe('closed');
    expect((await ok(w.agent, id, 'revisit', { reached: true, revisitChannel: 'phone' })).status).toBe('revisited');
    const evaluated = await ok(w.agent, id, 'evaluate', { evaluation: 'satisfied' });
    expect(evaluated).toMatchObject({ status: 'evaluated', evaluation: 'satisfied' });

    const history = (await w.call(w.supervisor, 'GET', `/tickets/${id}/history`)).json<{ items: HistoryEntry[] }>().items;
    expect(history.map((h) => h.action)).toEqual(['accept', 'dispatch', 'sign', 'co_opinion', 'reply', 'reject_reply', 'reply', 'approve_reply', 'revisit', 'revisit', 'evaluate']);
    expect(history[2]).toMatchObject({ from: 'dispatched', to: 'in_progress', actor: { type: 'user', role: 'dept_handler', departmentId: deptA } });
    expect(history[5]).toMatchObject({ actionLabel: '审核退回', reason: '请补充现场照片' });
    expect(history.map((h) => h.version)).toEqual(history.map((_, i) => i + 1));
  });

  it('answers an illegal step with 409 and the steps that are allowed', async () => {
    const id = await dispatched();
    const res = await w.act(w.agent, id, 'approve_reply');
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'illegal_transition', from: 'dispatched', action: 'approve_reply' });
    expect(res.json().allowed).toEqual(['remind', 'absorb_duplicate']);
    const allowed = (await w.call(handlerA, 'GET', `/tickets/${id}/allowed-actions`)).json<{ allowed: { action: string }[] }>();
    expect(allowed).toMatchObject({ status: 'dispatched', statusLabel: '已派单' });
    expect(allowed.allowed.map((a) => a.action)).toEqual(['sign', 'return']);
    const timer = await w.act(w.supervisor, id, 'mark_overdue');
    expect(timer.statusCode).toBe(409);
    const missing = await w.act(w.agent, id, 'remind', { expectedVersion: 99 });
    expect(missing.json().code).toBe('version_conflict');
    const noPayload = await w.act(w.supervisor, id, 'cancel');
    expect(noPayload.statusCode).toBe(400);
    expect(noPayload.json().code).toBe('reason_required');
  });

  it('handles 退单, 争议审核 (redispatch and uphold), reminders, supervision, extensions, reopening and cancelling', async () => {
    const id = await dispatched();
    expect((await ok(handlerA, id, 'return', { reason: '不属于本部门职责' })).status).toBe('returned');
    const re = await ok(w.supervisor, id, 'redispatch', { mainDepartmentId: deptB, reason: '改派B部门' });
    expect(re).toMatchObject({ status: 'dispatched', mainDepartmentId: deptB });
    // The withdrawn department no longer sees the ticket.
    expect((await w.call(handlerA, 'GET', `/tickets/${id}`)).statusCode).toBe(404);
    expect((await ok(handlerB, id, 'return', { reason: '也不属于我们' })).status).toBe('returned');
    expect((await ok(w.supervisor, id, 'uphold_dispatch', { reason: '经审核属于B部门' })).status).toBe('in_progress');
    expect((await ok(w.agent, id, 'remind', { note: '群众再次来电' })).counters.reminders).toBe(1);
    expect((await ok(w.supervisor, id, 'supervise', { reason: '多次催办未果' })).supervised).toBe(true);
    expect((await ok(w.supervisor, id, 'lift_supervision', { reason: '已有进展' })).supervised).toBe(false);

    const current = (await w.call(w.agent, 'GET', `/tickets/${id}`)).json();
    const later = new Date(new Date(current.deadlines.dueAt).getTime() + 5 * 86400_000).toISOString();
    const requested = await ok(handlerB, id, 'request_extension', { requestedDueAt: later, reason: '需要协调施工单位' });
    expect(requested.extension).toMatchObject({ requestedDueAt: later, departmentId: deptB });
    expect((await ok(w.supervisor, id, 'reject_extension', { reason: '理由不充分' })).extension).toBeNull();
    await ok(handlerB, id, 'request_extension', { requestedDueAt: later, reason: '施工单位排期' });
    const approved = await ok(w.supervisor, id, 'approve_extension');
    expect(approved.deadlines.dueAt).toBe(later);
    expect(approved.counters.extensions).toBe(1);

    await ok(handlerB, id, 'reply', { content: '已处理' });
    await ok(w.agent, id, 'approve_reply');
    // 不满意 reopens once (policy), back to the department.
    const reopened = await ok(w.agent, id, 'evaluate', { evaluation: 'dissatisfied', comment: '没解决' });
    expect(reopened).toMatchObject({ status: 'in_progress', closedAt: null });
    await ok(handlerB, id, 'reply', { content: '再次处理' });
    await ok(w.agent, id, 'approve_reply');
    expect((await ok(w.supervisor, id, 'reopen', { reason: '复核发现未解决' })).counters.reopens).toBe(2);
    expect((await ok(w.supervisor, id, 'cancel', { reason: '诉求人撤回' })).status).toBe('cancelled');

    const other = await draft();
    expect((await ok(w.agent, other, 'not_accept', { notAcceptedReason: 'petition' })).notAccepted).toMatchObject({ reason: 'petition', label: '已进入信访程序' });
    const direct = (await w.intake(w.agent)).ticket.id;
    expect((await ok(w.agent, direct, 'direct_answer', { content: '已当场解答' })).status).toBe('closed');
  });

  it('merges duplicates: the callers move to the master and both sides are recorded', async () => {
    const master = (await w.intake(w.agent, phoneTicket({ caller: { phone: '13600000001' } }))).ticket.id;
    const dup = (await w.intake(w.agent, phoneTicket({ caller: { phone: '13600000002' } }))).ticket.id;
    const third = (await w.intake(w.agent, phoneTicket({ caller: { phone: '13600000003' } }))).ticket.id;
    const merged = await ok(w.agent, dup, 'merge', { masterTicketId: master, reason: '同一路灯' });
    expect(merged).toMatchObject({ status: 'merged', mergedInto: master });
    const absorbed = await ok(w.agent, master, 'absorb_duplicate', { duplicateTicketId: third });
    expect(absorbed.mergedTicketIds).toEqual([dup, third]);
    const { rows } = await w.sql.query('SELECT c.phone, tc.role FROM ticket_callers tc JOIN citizens c ON c.id = tc.citizen_id WHERE tc.ticket_id = $1 ORDER BY c.phone', [master]);
    expect(rows).toEqual([{ phone: '13600000001', role: 'primary' }, { phone: '13600000002', role: 'merged' }, { phone: '13600000003', role: 'merged' }]);
    const byDupCaller = await w.call(null, 'POST', '/tickets/progress-query', { number: merged.number, phone: '13600000002' });
    expect(byDupCaller.json()).toMatchObject({ status: 'merged', mergedIntoNumber: absorbed.number });
    expect((await w.act(w.agent, master, 'merge', { masterTicketId: master })).json().code).toBe('merge_into_self');
  });

  it('lets timers act as the system, with hooks inside the transaction', async () => {
    const id = await dispatched();
    const tickets = w.t.hotline.modules.get('tickets')!.exports!['tickets'] as TicketsService;
    const seen: string[] = [];
    const off = tickets.onTransition(async (tx, before, after, record) => {
      const { rows } = await tx.selectFrom('tickets').select('version').where('id', '=', after.id).execute().then((r) => ({ rows: r }));
      seen.push(`${record.action}:${before.warned}->${after.warned}:v${rows[0]!.version}`);
    });
    await tickets.applyAction(id, { type: 'sla_warning', stage: 'completion' }, SYSTEM_PRINCIPAL);
    const after = await tickets.applyAction(id, { type: 'mark_overdue', stage: 'completion' }, SYSTEM_PRINCIPAL);
    off();
    expect(after).toMatchObject({ warned: true, overdue: true });
    expect(seen).toEqual(['sla_warning:false->true:v3', 'mark_overdue:true->true:v4']);
    expect((await tickets.findForSystem(id))?.state).toMatchObject({ status: 'dispatched', overdue: true, version: 4 });
    const failing = tickets.onTransition(async () => { throw new Error('hook failed'); });
    await expect(tickets.applyAction(id, { type: 'remind' }, SYSTEM_PRINCIPAL)).rejects.toThrow('hook failed');
    failing();
    // The failed hook rolled the whole transition back.
    expect((await tickets.findForSystem(id))?.state.reminderCount).toBe(0);
    const history = (await w.call(w.agent, 'GET', `/tickets/${id}/history`)).json<{ items: HistoryEntry[] }>().items;
    expect(history.at(-1)).toMatchObject({ action: 'mark_overdue', actor: { type: 'system', role: 'system' } });
  });
});

describe('department scoping and confidentiality', () => {
  it('shows a handler only its department’s tickets, as main or co-handler', async () => {
    const mineMain = await dispatched(deptA);
    const mineCo = await dispatched(deptB, [deptA]);
    const notMine = await dispatched(deptB);
    expect((await w.call(handlerA, 'GET', `/tickets/${mineMain}`)).statusCode).toBe(200);
    expect((await w.call(handlerA, 'GET', `/tickets/${mineCo}`)).statusCode).toBe(200);
    const hidden = await w.call(handlerA, 'GET', `/tickets/${notMine}`);
    expect(hidden.statusCode).toBe(404);
    expect(hidden.json().code).toBe('ticket_not_found');
    expect((await w.act(handlerA, notMine, 'sign')).statusCode).toBe(404);
    expect((await w.call(handlerA, 'GET', `/tickets/${notMine}/history`)).statusCode).toBe(404);
    const co = await w.act(handlerA, mineCo, 'sign');
    expect(co.statusCode).toBe(409);
    expect(co.json().allowed).toEqual(['co_opinion']);

    const listed = new Set<string>();
    let cursor: string | null = null;
    do {
      const res = await w.call(handlerA, 'GET', `/tickets?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      const page = res.json<{ items: TicketView[]; next: string | null }>();
      for (const t of page.items) listed.add(t.id);
      cursor = page.next;
    } while (cursor);
    expect(listed.has(mineMain) && listed.has(mineCo)).toBe(true);
    expect(listed.has(notMine)).toBe(false);
    const { rows } = await w.sql.query('SELECT ticket_id FROM ticket_departments WHERE department_id = $1 AND released_at IS NULL', [deptA]);
    expect([...listed].sort()).toEqual(rows.map((r) => r.ticket_id).sort());
    const filtered = itemIds(await w.call(handlerA, 'GET', `/tickets?departmentId=${deptB}`));
    expect(filtered).toContain(mineCo);
    expect(filtered).not.toContain(notMine);
  });

  it('hides a confidential caller from departments, masks numbers in lists, and audits the full read', async () => {
    const { ticket } = await w.intake(w.agent, phoneTicket({ content: '反映人说可打13511112222联系，要求保密', caller: { phone: '13511112222', name: '王五', address: '某小区', confidential: true } }));
    await ok(w.agent, ticket.id, 'dispatch', { mainDepartmentId: deptA });
    const asDept = (await w.call(handlerA, 'GET', `/tickets/${ticket.id}`)).json();
    expect(asDept.caller).toEqual({ hidden: true, phone: null, name: null, address: null });
    expect(JSON.stringify(asDept)).not.toContain('13511112222');
    expect(JSON.stringify(asDept)).not.toContain('王五');
    const asAgent = (await w.call(w.agent, 'GET', `/tickets/${ticket.id}`)).json();
    expect(asAgent.caller).toMatchObject({ hidden: false, phone: '13511112222', name: '王五' });
    expect(asAgent.content).toContain('13511112222');
    expect(asDept.content).toContain('*******2222');
    const listAgent = (await w.call(w.agent, 'GET', '/tickets?phone=13511112222')).json<{ items: TicketView[] }>();
    expect(listAgent.items.map((t) => t.id)).toEqual([ticket.id]);
    expect(listAgent.items[0]?.caller.phone).toBe('*******2222');
    const listDept = (await w.call(handlerA, 'GET', '/tickets?phone=13511112222')).json();
    expect(listDept.items).toEqual([]);
    const { rows } = await w.sql.query("SELECT actor_role FROM audit_log WHERE action = 'ticket.read' AND resource_id = $1", [ticket.id]);
    expect(rows.map((r) => r.actor_role).sort()).toEqual(['agent', 'dept_handler']);
  });

  it('refuses dispatch to unknown or inactive departments', async () => {
    const { ticket } = await w.intake(w.agent);
    const unknown = await w.act(w.agent, ticket.id, 'dispatch', { mainDepartmentId: '00000000-0000-4000-8000-000000000000' });
    expect(unknown.json().code).toBe('department_not_found');
    const gone = await w.dept('gone');
    expect((await w.call(w.t.adminToken, 'DELETE', `/departments/${gone}`)).statusCode).toBe(200);
    expect((await w.act(w.agent, ticket.id, 'dispatch', { mainDepartmentId: gone })).json().code).toBe('department_not_found');
    const operator = (await w.t.createUser('op1', 'operator')).token;
    expect((await w.call(operator, 'GET', `/tickets/${ticket.id}`)).statusCode).toBe(403);
  });
});
