import { describe, expect, it } from 'vitest';
import { ConflictError, IllegalTransitionError, ValidationError } from '../errors.js';
import { DEFAULT_LIFECYCLE_POLICY, parseLifecyclePolicy, type LifecyclePolicy, type TicketAction } from './actions.js';
import { eventSubjects } from './events.js';
import { mergeTickets, runningDeadline, transition, type TransitionResult } from './lifecycle.js';
import { newTicketState, type Actor, type TicketState } from './model.js';

const T0 = Date.parse('2025-03-03T01:00:00Z');
const HOUR = 3_600_000;
const at = (hours: number): Date => new Date(T0 + hours * HOUR);

const agent: Actor = { role: 'agent', id: 'agent-7' };
const supervisor: Actor = { role: 'supervisor', id: 'sup-1' };
const system: Actor = { role: 'system', id: 'sla-timer' };
const roads: Actor = { role: 'dept_handler', id: 'h-roads', departmentId: 'city_roads' };
const power: Actor = { role: 'dept_handler', id: 'h-power', departmentId: 'grid_power' };
const district: Actor = { role: 'dept_handler', id: 'h-dist', departmentId: 'district_a' };

/** Applies steps in order, each an hour apart, keeping every result. */
function run(start: TicketState, steps: readonly [Actor, TicketAction][], policy?: LifecyclePolicy): TransitionResult[] {
  const results: TransitionResult[] = [];
  let state = start;
  steps.forEach(([actor, action], i) => {
    const r = transition(state, action, { actor, now: at(i + 1), ...(policy ? { policy } : {}) });
    results.push(r);
    state = r.state;
  });
  return results;
}

const last = (rs: TransitionResult[]): TicketState => rs[rs.length - 1]!.state;
const draft = (): TicketState => newTicketState({ id: 'GD202503030001', type: 'complaint' });
const dueAt = at(24 * 10);

const toDepartment: readonly [Actor, TicketAction][] = [
  [agent, { type: 'accept', urgency: 'normal', dueAt }],
  [agent, { type: 'dispatch', mainDepartmentId: 'city_roads', coDepartmentIds: ['grid_power'] }],
];

describe('closed loop 受理 → 派单 → 签收 → 办理 → 答复 → 审核 → 办结 → 回访 → 评价', () => {
  it('walks the whole loop with audit records, events and department notifications', () => {
    const rs = run(draft(), [
      ...toDepartment,
      [roads, { type: 'sign' }],
      [power, { type: 'co_opinion', content: '线路正常，灯具损坏由路灯所更换。' }],
      [roads, { type: 'reply', content: '已更换灯具，路灯恢复照明。', attachmentIds: ['photo-1'], resolved: true }],
      [agent, { type: 'approve_reply' }],
      [agent, { type: 'revisit', reached: true, channel: 'phone' }],
      [agent, { type: 'evaluate', evaluation: 'satisfied', comment: '修得很快' }],
    ]);
    expect(rs.map((r) => `${r.record.from}>${r.record.to}`)).toEqual([
      'draft>accepted',
      'accepted>dispatched',
      'dispatched>in_progress',
      'in_progress>in_progress',
      'in_progress>replied',
      'replied>closed',
      'closed>revisited',
      'revisited>evaluated',
    ]);
    const end = last(rs);
    expect(end).toMatchObject({ status: 'evaluated', evaluation: 'satisfied', version: 8, coOpinionDepartmentIds: ['grid_power'], dueAt });
    expect(rs.map((r) => r.events.map((e) => e.name))).toEqual([
      ['ticket.accepted'],
      ['ticket.dispatched'],
      ['ticket.signed'],
      ['ticket.co_opinion_submitted'],
      ['ticket.replied'],
      ['ticket.closed'],
      ['ticket.revisited'],
      ['ticket.evaluated'],
    ]);
    const dispatched = rs[1]!.events[0]!;
    expect(dispatched.departmentIds).toEqual(['city_roads', 'grid_power']);
    expect(eventSubjects(dispatched)).toEqual([
      'hotline.ticket.dispatched',
      'hotline.dept.city_roads.ticket.dispatched',
      'hotline.dept.grid_power.ticket.dispatched',
    ]);
    // The co-handler's opinion goes to the main department only.
    expect(rs[3]!.events[0]!.departmentIds).toEqual(['city_roads']);
    expect(rs[3]!.record.data).toMatchObject({ departmentId: 'grid_power' });
    expect(rs[4]!.record).toMatchObject({
      actor: { role: 'dept_handler', id: 'h-roads', departmentId: 'city_roads' },
      at: at(5),
      data: { content: '已更换灯具，路灯恢复照明。', attachmentIds: ['photo-1'], resolved: true },
    });
    expect(rs[7]!.record.data).toEqual({ evaluation: 'satisfied', comment: '修得很快' });
    // Free text stays in the audit record; events carry ids and codes only.
    expect(rs[4]!.events[0]!.data).toEqual({
      departmentId: 'city_roads',
      attachmentIds: ['photo-1'],
      resolved: true,
      action: 'reply',
      status: 'replied',
      version: 5,
      at: at(5).toISOString(),
    });
    expect(rs[7]!.events[0]!.data).not.toHaveProperty('comment');
  });

  it('closes at once on a direct answer (直办) and can still be evaluated by the post-call survey', () => {
    const rs = run(newTicketState({ id: 'T', type: 'consultation' }), [
      [agent, { type: 'direct_answer', content: '居住证办理需携带身份证和租房合同到派出所。' }],
      [system, { type: 'evaluate', evaluation: 'basically_satisfied' }],
    ]);
    expect(rs[0]!.record).toMatchObject({ from: 'draft', to: 'closed', data: { directAnswer: true } });
    expect(rs[0]!.events[0]!).toMatchObject({ name: 'ticket.closed', departmentIds: [] });
    expect(last(rs)).toMatchObject({ status: 'evaluated', evaluation: 'basically_satisfied', mainDepartmentId: null });
  });

  it('records a not-accepted ticket with the reason code, label and caller reply', () => {
    const [r] = run(draft(), [[agent, { type: 'not_accept', reason: 'litigation', note: '已在区法院立案' }]]);
    expect(r!.state).toMatchObject({ status: 'not_accepted', notAcceptedReason: 'litigation' });
    expect(r!.record.reason).toBe('已进入诉讼程序：已在区法院立案');
    expect(r!.record.data['reply']).toContain('诉讼');
  });
});

describe('return → dispute review (退单 → 争议审核)', () => {
  it('re-dispatches to another department and withdraws it from the old ones', () => {
    const rs = run(draft(), [
      ...toDepartment,
      [roads, { type: 'return', reason: '该路段由区里管护，不属于市路灯所' }],
      [supervisor, { type: 'redispatch', mainDepartmentId: 'district_a', reason: '属地管理', coDepartmentIds: ['grid_power'] }],
      [district, { type: 'sign' }],
    ]);
    expect(rs[2]!.state).toMatchObject({ status: 'returned', returnCount: 1 });
    expect(rs[2]!.record.reason).toBe('该路段由区里管护，不属于市路灯所');
    const redispatch = rs[3]!;
    expect(redispatch.state).toMatchObject({ status: 'dispatched', mainDepartmentId: 'district_a', coDepartmentIds: ['grid_power'] });
    expect(redispatch.events.map((e) => [e.name, e.departmentIds])).toEqual([
      ['ticket.dispatched', ['district_a', 'grid_power']],
      ['ticket.withdrawn', ['city_roads']],
    ]);
    expect(redispatch.record.data).toMatchObject({ previousMainDepartmentId: 'city_roads' });
    expect(last(rs).status).toBe('in_progress');
    // The former main department has lost the ticket.
    expect(() => transition(last(rs), { type: 'reply', content: 'x' }, { actor: roads, now: at(9) })).toThrow(IllegalTransitionError);
  });

  it('upholds the dispatch: the department must handle it and cannot return it again', () => {
    const rs = run(draft(), [
      ...toDepartment,
      [roads, { type: 'return', reason: '非本单位职责' }],
      [supervisor, { type: 'uphold_dispatch', reason: '市政道路照明属于路灯所职责' }],
    ]);
    const upheld = last(rs);
    expect(upheld).toMatchObject({ status: 'in_progress', mainDepartmentId: 'city_roads' });
    expect(rs[3]!.events[0]).toMatchObject({ name: 'ticket.dispatch_upheld', departmentIds: ['city_roads'] });
    try {
      transition(upheld, { type: 'return', reason: '还是不归我们' }, { actor: roads, now: at(9) });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(IllegalTransitionError);
      expect((e as IllegalTransitionError).details).toMatchObject({ allowed: ['reply', 'request_extension'] });
    }
  });
});

describe('reply review (审核)', () => {
  it('rejects a reply back to the department, which replies again', () => {
    const rs = run(draft(), [
      ...toDepartment,
      [roads, { type: 'sign' }],
      [roads, { type: 'reply', content: '已转交相关单位。' }],
      [agent, { type: 'reject_reply', reason: '答复未说明处理结果' }],
      [roads, { type: 'reply', content: '已于3月5日更换灯具。' }],
      [supervisor, { type: 'approve_reply', note: '答复完整' }],
    ]);
    expect(rs[4]!.state.status).toBe('in_progress');
    expect(rs[4]!.events[0]).toMatchObject({ name: 'ticket.reply_rejected', departmentIds: ['city_roads'] });
    expect(last(rs).status).toBe('closed');
    expect(rs[6]!.events[0]).toMatchObject({ name: 'ticket.closed', departmentIds: ['city_roads', 'grid_power'] });
  });
});

describe('dissatisfied evaluation (不满意) and reopen policy', () => {
  const closedTicket = (): TicketState =>
    last(run(draft(), [...toDepartment, [roads, { type: 'sign' }], [roads, { type: 'reply', content: '已处理' }], [agent, { type: 'approve_reply' }]]));

  it('reopens back to the department up to the limit, then goes to supervision', () => {
    const policy: LifecyclePolicy = { dissatisfied: { reopen: true, maxReopens: 2, superviseWhenExhausted: true } };
    const newDue = at(24 * 20);
    const rs = run(
      closedTicket(),
      [
        [agent, { type: 'evaluate', evaluation: 'dissatisfied', comment: '灯还是不亮', reopenDueAt: newDue }],
        [roads, { type: 'reply', content: '已再次维修' }],
        [agent, { type: 'approve_reply' }],
        [agent, { type: 'evaluate', evaluation: 'dissatisfied' }],
        [roads, { type: 'reply', content: '更换线路' }],
        [agent, { type: 'approve_reply' }],
        [system, { type: 'evaluate', evaluation: 'dissatisfied' }],
      ],
      policy,
    );
    expect(rs[0]!.state).toMatchObject({ status: 'in_progress', reopenCount: 1, evaluation: 'dissatisfied', dueAt: newDue });
    expect(rs[0]!.events.map((e) => e.name)).toEqual(['ticket.evaluated', 'ticket.reopened']);
    expect(rs[3]!.state).toMatchObject({ status: 'in_progress', reopenCount: 2 });
    const final = rs[6]!;
    expect(final.state).toMatchObject({ status: 'evaluated', reopenCount: 2, supervised: true });
    expect(final.events.map((e) => e.name)).toEqual(['ticket.evaluated', 'ticket.supervised']);
    expect(final.record.data).toMatchObject({ escalated: true });
    // A supervisor takes it from here: reopen under supervision, or lift the supervision.
    const reopened = transition(final.state, { type: 'reopen', reason: '督办重办' }, { actor: supervisor, now: at(20) });
    expect(reopened.state).toMatchObject({ status: 'in_progress', reopenCount: 3, supervised: true });
  });

  it('only records the evaluation when automatic reopen and escalation are off', () => {
    const policy: LifecyclePolicy = { dissatisfied: { reopen: false, maxReopens: 0, superviseWhenExhausted: false } };
    const [r] = run(closedTicket(), [[agent, { type: 'evaluate', evaluation: 'dissatisfied' }]], policy);
    expect(r!.state).toMatchObject({ status: 'evaluated', supervised: false, reopenCount: 0 });
  });

  it('uses the default policy: one automatic reopen', () => {
    const rs = run(closedTicket(), [
      [agent, { type: 'evaluate', evaluation: 'dissatisfied' }],
      [roads, { type: 'reply', content: '再次处理' }],
      [agent, { type: 'approve_reply' }],
      [agent, { type: 'evaluate', evaluation: 'dissatisfied' }],
    ]);
    expect(rs[0]!.state.status).toBe('in_progress');
    expect(last(rs)).toMatchObject({ status: 'evaluated', supervised: true, reopenCount: 1 });
  });

  it('reopens a directly answered ticket to dispatch, since it has no department', () => {
    const [closed] = run(newTicketState({ id: 'T', type: 'help' }), [[agent, { type: 'direct_answer', content: '已解答' }]]);
    const r = transition(closed!.state, { type: 'evaluate', evaluation: 'dissatisfied' }, { actor: system, now: at(3) });
    expect(r.state.status).toBe('accepted');
  });
});

describe('supervision (督办), reminders (催办) and SLA timers', () => {
  it('flags supervision and counts reminders without changing the status', () => {
    const rs = run(draft(), [
      ...toDepartment,
      [agent, { type: 'remind', note: '来电人再次催问' }],
      [system, { type: 'remind' }],
      [supervisor, { type: 'supervise', reason: '超期未签收' }],
      [system, { type: 'sla_warning', stage: 'response' }],
      [system, { type: 'mark_overdue', stage: 'response' }],
    ]);
    expect(last(rs)).toMatchObject({ status: 'dispatched', reminderCount: 2, supervised: true, warned: true, overdue: true });
    expect(rs[3]!.events[0]).toMatchObject({ name: 'ticket.reminded', departmentIds: ['city_roads'], data: { reminderCount: 2 } });
    expect(rs[4]!.events[0]).toMatchObject({ name: 'ticket.supervised', departmentIds: ['city_roads', 'grid_power'] });
    expect(rs[6]!.events[0]).toMatchObject({ name: 'ticket.overdue', data: { stage: 'response' } });
    // Closing ends the supervision.
    const closed = run(last(rs), [[roads, { type: 'sign' }], [roads, { type: 'reply', content: '已处理' }], [agent, { type: 'approve_reply' }]]);
    expect(last(closed)).toMatchObject({ status: 'closed', supervised: false });
  });

  it('does not notify departments of a dispatch-stage warning', () => {
    const [, r] = run(draft(), [[agent, { type: 'accept' }], [system, { type: 'sla_warning', stage: 'dispatch' }]]);
    expect(r!.events[0]).toMatchObject({ name: 'ticket.sla_warning', departmentIds: [] });
  });

  it('starts the warning and overdue flags afresh on dispatch', () => {
    const rs = run(draft(), [
      [agent, { type: 'accept' }],
      [system, { type: 'mark_overdue', stage: 'dispatch' }],
      [agent, { type: 'dispatch', mainDepartmentId: 'city_roads', dueAt }],
    ]);
    expect(last(rs)).toMatchObject({ overdue: false, warned: false, dueAt });
  });
});

describe('extension (延期申请)', () => {
  const inProgress = (): TicketState => last(run(draft(), [...toDepartment, [roads, { type: 'sign' }]]));
  const requested = at(24 * 15);

  it('moves the deadline on approval and clears the overdue flag', () => {
    const rs = run(inProgress(), [
      [system, { type: 'mark_overdue', stage: 'completion' }],
      [roads, { type: 'request_extension', requestedDueAt: requested, reason: '需等待配件到货' }],
      [supervisor, { type: 'approve_extension' }],
    ]);
    expect(rs[1]!.state.extension).toMatchObject({ requestedDueAt: requested, departmentId: 'city_roads', reason: '需等待配件到货' });
    expect(last(rs)).toMatchObject({ dueAt: requested, extension: null, extensionCount: 1, overdue: false });
    expect(rs[2]!.record.data).toMatchObject({ previousDueAt: dueAt.toISOString(), dueAt: requested.toISOString() });
    expect(rs[2]!.events[0]).toMatchObject({ name: 'ticket.extension_approved', departmentIds: ['city_roads'] });
  });

  it('lets the hotline grant a shorter extension, and keeps the deadline on rejection', () => {
    const shorter = at(24 * 12);
    const granted = run(inProgress(), [
      [roads, { type: 'request_extension', requestedDueAt: requested, reason: '需协调' }],
      [supervisor, { type: 'approve_extension', dueAt: shorter }],
    ]);
    expect(last(granted).dueAt).toEqual(shorter);
    const refused = run(inProgress(), [
      [roads, { type: 'request_extension', requestedDueAt: requested, reason: '需协调' }],
      [supervisor, { type: 'reject_extension', reason: '可在时限内办结' }],
    ]);
    expect(last(refused)).toMatchObject({ dueAt, extension: null, extensionCount: 0 });
  });

  it('refuses extensions that do not extend', () => {
    const state = inProgress();
    const ctx = { actor: roads, now: at(5) };
    expect(() => transition(state, { type: 'request_extension', requestedDueAt: at(24), reason: 'x' }, ctx)).toThrow(
      expect.objectContaining({ code: 'extension_not_later_than_deadline' }),
    );
    expect(() => transition(state, { type: 'request_extension', requestedDueAt: at(1), reason: 'x' }, ctx)).toThrow(
      expect.objectContaining({ code: 'extension_not_in_future' }),
    );
    expect(() => transition(state, { type: 'request_extension', requestedDueAt: requested, reason: '  ' }, ctx)).toThrow(ValidationError);
  });

  it('drops a pending request once the department replies', () => {
    const rs = run(inProgress(), [
      [roads, { type: 'request_extension', requestedDueAt: requested, reason: '需协调' }],
      [roads, { type: 'reply', content: '已办结' }],
    ]);
    expect(last(rs)).toMatchObject({ status: 'replied', extension: null });
  });
});

describe('merge (合并)', () => {
  it('merges a duplicate into an open master, carrying earlier duplicates along', () => {
    const master = last(run(newTicketState({ id: 'M', type: 'complaint' }), toDepartment));
    const earlier = { ...newTicketState({ id: 'D', type: 'complaint' }), status: 'accepted' as const, mergedTicketIds: ['E'] };
    const { duplicate, master: absorbed } = mergeTickets(earlier, master, { actor: agent, now: at(4) }, '同一路灯，多人反映');
    expect(duplicate.state).toMatchObject({ status: 'merged', mergedInto: 'M' });
    expect(duplicate.record.reason).toBe('同一路灯，多人反映');
    expect(absorbed.state).toMatchObject({ status: 'dispatched', mergedTicketIds: ['D', 'E'] });
    expect(absorbed.events[0]).toMatchObject({ name: 'ticket.duplicate_linked', departmentIds: ['city_roads'] });
    const second = mergeTickets({ ...earlier, id: 'D2', mergedTicketIds: [] }, absorbed.state, { actor: agent, now: at(5) });
    expect(second.master.state.mergedTicketIds).toEqual(['D', 'E', 'D2']);
    // E was merged into D before, so it is already linked to M.
    expect(() => mergeTickets({ ...earlier, id: 'D3' }, second.master.state, { actor: agent, now: at(5) })).toThrow(ConflictError);
    expect(() =>
      transition(absorbed.state, { type: 'absorb_duplicate', duplicateTicketId: 'D' }, { actor: agent, now: at(5) }),
    ).toThrow(ConflictError);
  });

  it('refuses to merge into itself, into a closed ticket, or a dispatched duplicate by an agent', () => {
    const a = { ...newTicketState({ id: 'A', type: 'help' }), status: 'accepted' as const };
    expect(() => mergeTickets(a, a, { actor: agent, now: at(1) })).toThrow(expect.objectContaining({ code: 'merge_into_self' }));
    const closed = { ...newTicketState({ id: 'C', type: 'help' }), status: 'closed' as const };
    expect(() => mergeTickets(a, closed, { actor: agent, now: at(1) })).toThrow(IllegalTransitionError);
    const dispatched = { ...a, id: 'B', status: 'dispatched' as const, mainDepartmentId: 'city_roads' };
    const master = { ...a, id: 'M' };
    expect(() => mergeTickets(dispatched, master, { actor: agent, now: at(1) })).toThrow(IllegalTransitionError);
    expect(mergeTickets(dispatched, master, { actor: supervisor, now: at(1) }).duplicate.events[0]!.departmentIds).toEqual(['city_roads']);
  });
});

describe('cancel (撤单)', () => {
  it('lets an agent cancel before dispatch, only seniors afterwards, and notifies departments', () => {
    const [accepted] = run(draft(), [[agent, { type: 'accept' }]]);
    expect(transition(accepted!.state, { type: 'cancel', reason: '来电人撤回' }, { actor: agent, now: at(2) }).state.status).toBe('cancelled');
    const dispatched = last(run(draft(), toDepartment));
    expect(() => transition(dispatched, { type: 'cancel', reason: '撤回' }, { actor: agent, now: at(3) })).toThrow(IllegalTransitionError);
    const r = transition(dispatched, { type: 'cancel', reason: '来电人撤回诉求' }, { actor: supervisor, now: at(3) });
    expect(r.events[0]).toMatchObject({ name: 'ticket.cancelled', departmentIds: ['city_roads', 'grid_power'] });
    expect(() => transition(r.state, { type: 'reopen', reason: 'x' }, { actor: supervisor, now: at(4) })).toThrow(IllegalTransitionError);
  });
});

describe('department scoping and payload checks', () => {
  const dispatched = (): TicketState => last(run(draft(), toDepartment));

  it('lets only the main department sign, return and reply; co-handlers only give opinions', () => {
    const state = dispatched();
    const ctx = (actor: Actor): { actor: Actor; now: Date } => ({ actor, now: at(5) });
    expect(() => transition(state, { type: 'sign' }, ctx(power))).toThrow(IllegalTransitionError);
    expect(() => transition(state, { type: 'sign' }, ctx(district))).toThrow(IllegalTransitionError);
    expect(() => transition(state, { type: 'sign' }, ctx({ role: 'dept_handler', id: 'x' }))).toThrow(IllegalTransitionError);
    expect(() => transition(state, { type: 'co_opinion', content: '意见' }, ctx(roads))).toThrow(IllegalTransitionError);
    expect(transition(state, { type: 'sign' }, ctx(roads)).state.status).toBe('in_progress');
  });

  it('validates departments as subject tokens and keeps main out of co-handlers', () => {
    const [accepted] = run(draft(), [[agent, { type: 'accept' }]]);
    const ctx = { actor: agent, now: at(2) };
    expect(() => transition(accepted!.state, { type: 'dispatch', mainDepartmentId: 'roads.*' }, ctx)).toThrow(
      expect.objectContaining({ code: 'invalid_department_id' }),
    );
    expect(() => transition(accepted!.state, { type: 'dispatch', mainDepartmentId: 'a', coDepartmentIds: ['b', 'a'] }, ctx)).toThrow(
      expect.objectContaining({ code: 'main_department_in_co_handlers' }),
    );
    const ok = transition(accepted!.state, { type: 'dispatch', mainDepartmentId: 'a', coDepartmentIds: ['b', 'b'] }, ctx);
    expect(ok.state.coDepartmentIds).toEqual(['b']);
  });

  it('requires reasons and content, and rejects unknown codes', () => {
    const state = dispatched();
    const ctx = { actor: roads, now: at(5) };
    expect(() => transition(state, { type: 'return', reason: '' }, ctx)).toThrow(expect.objectContaining({ code: 'reason_required' }));
    const d = draft();
    expect(() => transition(d, { type: 'not_accept', reason: 'bored' as never }, { actor: agent, now: at(1) })).toThrow(
      expect.objectContaining({ code: 'invalid_not_accepted_reason' }),
    );
    expect(() => transition(d, { type: 'fly' } as never, { actor: agent, now: at(1) })).toThrow(
      expect.objectContaining({ code: 'unknown_ticket_action' }),
    );
  });

  it('never mutates the state it is given', () => {
    const state = Object.freeze(dispatched());
    const before = JSON.stringify(state);
    transition(state, { type: 'sign' }, { actor: roads, now: at(5) });
    expect(JSON.stringify(state)).toBe(before);
  });
});

describe('policy and SLA helpers', () => {
  it('validates a lifecycle policy, filling defaults', () => {
    expect(parseLifecyclePolicy({})).toEqual(DEFAULT_LIFECYCLE_POLICY);
    expect(parseLifecyclePolicy({ dissatisfied: { maxReopens: 3 } }).dissatisfied).toEqual({
      reopen: true,
      maxReopens: 3,
      superviseWhenExhausted: true,
    });
    for (const bad of [null, [], { dissatisfied: 1 }, { dissatisfied: { maxReopens: -1 } }, { dissatisfied: { reopen: 'yes' } }]) {
      expect(() => parseLifecyclePolicy(bad)).toThrow(expect.objectContaining({ code: 'invalid_lifecycle_policy' }));
    }
  });

  it('tells which deadline is running', () => {
    const dispatchDueAt = at(24);
    const [accepted] = run(draft(), [[agent, { type: 'accept', dispatchDueAt, dueAt }]]);
    expect(runningDeadline(accepted!.state)).toEqual({ stage: 'dispatch', dueAt: dispatchDueAt });
    const dispatched = last(run(draft(), toDepartment));
    expect(runningDeadline(dispatched)).toEqual({ stage: 'completion', dueAt });
    expect(runningDeadline(draft())).toBeNull();
    expect(runningDeadline({ ...dispatched, status: 'closed' })).toBeNull();
  });

  it('runs the response deadline (签收) from dispatch until the main department signs or returns the ticket', () => {
    const responseDueAt = at(8);
    const steps: [Actor, TicketAction][] = [toDepartment[0]!, [agent, { type: 'dispatch', mainDepartmentId: 'city_roads', responseDueAt }]];
    const dispatched = last(run(draft(), steps));
    expect(dispatched.responseDueAt).toEqual(responseDueAt);
    expect(runningDeadline(dispatched)).toEqual({ stage: 'response', dueAt: responseDueAt });
    // A response deadline past the completion one gives way to it.
    expect(runningDeadline({ ...dispatched, dueAt: at(4) })).toEqual({ stage: 'completion', dueAt: at(4) });

    // Warned and overdue on the response stage; the department signs late and the completion stage starts afresh.
    const late = run(dispatched, [[system, { type: 'sla_warning', stage: 'response' }], [system, { type: 'mark_overdue', stage: 'response' }]]);
    expect(late.map((r) => r.events[0]!.departmentIds)).toEqual([['city_roads'], ['city_roads']]);
    const overdue = last(late);
    expect(overdue).toMatchObject({ warned: true, overdue: true });
    const signed = transition(overdue, { type: 'sign' }, { actor: roads, now: at(12) }).state;
    expect(signed).toMatchObject({ status: 'in_progress', warned: false, overdue: false });
    expect(runningDeadline(signed)).toEqual({ stage: 'completion', dueAt });
    const returned = transition(overdue, { type: 'return', reason: '不属于本单位职责' }, { actor: roads, now: at(12) }).state;
    expect(returned).toMatchObject({ status: 'returned', warned: false, overdue: false });
    expect(runningDeadline(returned)).toEqual({ stage: 'completion', dueAt });

    // Without a response deadline, signing keeps the completion stage's flags: it was running all along.
    const plain = { ...last(run(draft(), toDepartment)), warned: true };
    expect(transition(plain, { type: 'sign' }, { actor: roads, now: at(3) }).state.warned).toBe(true);

    // A redispatch sets the new department's response deadline (none given: none watched).
    const redispatched = transition(returned, { type: 'redispatch', mainDepartmentId: 'district_a', reason: '改派属地', responseDueAt: at(20) }, { actor: supervisor, now: at(13) });
    expect(runningDeadline(redispatched.state)).toEqual({ stage: 'response', dueAt: at(20) });
    expect(redispatched.record.data['responseDueAt']).toBe(at(20).toISOString());
    const again = transition({ ...returned }, { type: 'redispatch', mainDepartmentId: 'district_a', reason: '改派属地' }, { actor: supervisor, now: at(13) }).state;
    expect(again.responseDueAt).toBeNull();
    expect(runningDeadline(again)).toEqual({ stage: 'completion', dueAt });
  });
});
