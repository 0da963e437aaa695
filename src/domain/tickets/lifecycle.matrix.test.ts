/**
 * Every (status × action × role) combination against a hand-written table of what GB/T 44189's
 * closed loop permits. The table below is the specification; it is not derived from the code.
 */
import { describe, expect, it } from 'vitest';
import { IllegalTransitionError } from '../errors.js';
import type { TicketAction } from './actions.js';
import { transition } from './lifecycle.js';
import { TICKET_ACTIONS, TICKET_STATUSES, newTicketState, type Actor, type TicketActionType, type TicketState, type TicketStatus } from './model.js';
import { allowedActions } from './permissions.js';

const NOW = new Date('2025-03-03T02:00:00Z');
const DAY = 86_400_000;
const DUE = new Date(NOW.getTime() + 5 * DAY);

const ACTORS = {
  agent: { role: 'agent', id: 'a1' },
  supervisor: { role: 'supervisor', id: 's1' },
  operator: { role: 'operator', id: 'o1' },
  admin: { role: 'admin', id: 'ad1' },
  system: { role: 'system', id: 'timer' },
  dept_main: { role: 'dept_handler', id: 'h1', departmentId: 'D1' },
  dept_co: { role: 'dept_handler', id: 'h2', departmentId: 'D2' },
  dept_other: { role: 'dept_handler', id: 'h3', departmentId: 'D9' },
  dept_none: { role: 'dept_handler', id: 'h4' },
} as const satisfies Record<string, Actor>;
type Who = keyof typeof ACTORS;
const WHO = Object.keys(ACTORS) as Who[];

type Spec = Partial<Record<Who, readonly TicketActionType[]>>;

const STAFF_DRAFT = ['accept', 'not_accept', 'direct_answer', 'merge', 'cancel'] as const;
const SENIOR_OPEN_DEPT = ['supervise', 'remind', 'merge', 'absorb_duplicate', 'cancel'] as const;

/** Base states: no flags set, no extension pending. */
const EXPECTED: Record<TicketStatus, Spec> = {
  draft: { agent: STAFF_DRAFT, supervisor: STAFF_DRAFT, admin: STAFF_DRAFT, system: ['cancel'] },
  accepted: {
    agent: ['direct_answer', 'dispatch', 'merge', 'absorb_duplicate', 'cancel'],
    supervisor: ['direct_answer', 'dispatch', 'supervise', 'merge', 'absorb_duplicate', 'cancel'],
    admin: ['direct_answer', 'dispatch', 'supervise', 'merge', 'absorb_duplicate', 'cancel'],
    system: ['supervise', 'sla_warning', 'mark_overdue'],
  },
  dispatched: {
    agent: ['remind', 'absorb_duplicate'],
    supervisor: SENIOR_OPEN_DEPT,
    admin: SENIOR_OPEN_DEPT,
    system: ['supervise', 'remind', 'sla_warning', 'mark_overdue'],
    dept_main: ['sign', 'return'],
    dept_co: ['co_opinion'],
  },
  returned: {
    agent: ['absorb_duplicate'],
    supervisor: ['redispatch', 'uphold_dispatch', 'supervise', 'merge', 'absorb_duplicate', 'cancel'],
    admin: ['redispatch', 'uphold_dispatch', 'supervise', 'merge', 'absorb_duplicate', 'cancel'],
    system: ['supervise', 'sla_warning', 'mark_overdue'],
  },
  in_progress: {
    agent: ['remind', 'absorb_duplicate'],
    supervisor: SENIOR_OPEN_DEPT,
    admin: SENIOR_OPEN_DEPT,
    system: ['supervise', 'remind', 'sla_warning', 'mark_overdue'],
    dept_main: ['reply', 'request_extension'],
    dept_co: ['co_opinion'],
  },
  replied: {
    agent: ['approve_reply', 'reject_reply', 'absorb_duplicate'],
    supervisor: ['approve_reply', 'reject_reply', 'supervise', 'absorb_duplicate', 'cancel'],
    admin: ['approve_reply', 'reject_reply', 'supervise', 'absorb_duplicate', 'cancel'],
    system: ['supervise', 'sla_warning', 'mark_overdue'],
  },
  closed: {
    agent: ['revisit', 'evaluate'],
    supervisor: ['revisit', 'evaluate', 'reopen'],
    admin: ['revisit', 'evaluate', 'reopen'],
    system: ['revisit', 'evaluate'],
  },
  revisited: {
    agent: ['evaluate'],
    supervisor: ['evaluate', 'reopen'],
    admin: ['evaluate', 'reopen'],
    system: ['evaluate'],
  },
  evaluated: { supervisor: ['reopen'], admin: ['reopen'] },
  not_accepted: {},
  merged: {},
  cancelled: {},
};

/** Target status of each action from the base states (same = status unchanged). */
const TARGET: Record<TicketActionType, TicketStatus | 'same'> = {
  accept: 'accepted',
  not_accept: 'not_accepted',
  direct_answer: 'closed',
  dispatch: 'dispatched',
  sign: 'in_progress',
  return: 'returned',
  redispatch: 'dispatched',
  uphold_dispatch: 'in_progress',
  co_opinion: 'same',
  reply: 'replied',
  approve_reply: 'closed',
  reject_reply: 'in_progress',
  revisit: 'revisited',
  evaluate: 'evaluated',
  reopen: 'in_progress',
  supervise: 'same',
  lift_supervision: 'same',
  remind: 'same',
  request_extension: 'same',
  approve_extension: 'same',
  reject_extension: 'same',
  merge: 'merged',
  absorb_duplicate: 'same',
  cancel: 'cancelled',
  sla_warning: 'same',
  mark_overdue: 'same',
};

function stateIn(status: TicketStatus, flags: Partial<TicketState> = {}): TicketState {
  const assigned = !['draft', 'accepted', 'not_accepted'].includes(status);
  return {
    ...newTicketState({ id: 'T1', type: 'complaint' }),
    status,
    mainDepartmentId: assigned ? 'D1' : null,
    coDepartmentIds: assigned ? ['D2'] : [],
    dueAt: DUE,
    version: 3,
    ...flags,
  };
}

function sample(type: TicketActionType): TicketAction {
  const later = new Date(DUE.getTime() + 5 * DAY);
  const samples: { [K in TicketActionType]: Extract<TicketAction, { type: K }> } = {
    accept: { type: 'accept' },
    not_accept: { type: 'not_accept', reason: 'litigation' },
    direct_answer: { type: 'direct_answer', content: '已告知办理社保卡所需材料。' },
    dispatch: { type: 'dispatch', mainDepartmentId: 'D1', coDepartmentIds: ['D2'] },
    sign: { type: 'sign' },
    return: { type: 'return', reason: '不属于本单位职责' },
    redispatch: { type: 'redispatch', mainDepartmentId: 'D3', reason: '职责属于城管局' },
    uphold_dispatch: { type: 'uphold_dispatch', reason: '属于该单位职责' },
    co_opinion: { type: 'co_opinion', content: '已配合现场核查。' },
    reply: { type: 'reply', content: '已修复路灯。', attachmentIds: ['f1'] },
    approve_reply: { type: 'approve_reply' },
    reject_reply: { type: 'reject_reply', reason: '答复未回应诉求' },
    revisit: { type: 'revisit', reached: true, channel: 'phone' },
    evaluate: { type: 'evaluate', evaluation: 'satisfied' },
    reopen: { type: 'reopen', reason: '问题仍未解决' },
    supervise: { type: 'supervise', reason: '群众多次来电' },
    lift_supervision: { type: 'lift_supervision', reason: '已落实' },
    remind: { type: 'remind' },
    request_extension: { type: 'request_extension', requestedDueAt: later, reason: '需协调施工单位' },
    approve_extension: { type: 'approve_extension' },
    reject_extension: { type: 'reject_extension', reason: '理由不充分' },
    merge: { type: 'merge', masterTicketId: 'T0' },
    absorb_duplicate: { type: 'absorb_duplicate', duplicateTicketId: 'T2' },
    cancel: { type: 'cancel', reason: '来电人撤回诉求' },
    sla_warning: { type: 'sla_warning', stage: 'completion' },
    mark_overdue: { type: 'mark_overdue', stage: 'completion' },
  };
  return samples[type];
}

function check(state: TicketState, expected: Spec, label: string): void {
  for (const who of WHO) {
    const actor = ACTORS[who];
    const legal = expected[who] ?? [];
    const canonical = TICKET_ACTIONS.filter((a) => legal.includes(a));
    expect(allowedActions(state, actor), `${label} ${who}`).toEqual(canonical);
    for (const action of TICKET_ACTIONS) {
      const run = (): ReturnType<typeof transition> => transition(state, sample(action), { actor, now: NOW });
      if (legal.includes(action)) {
        const result = run();
        expect(result.record.from).toBe(state.status);
        expect(result.record.action).toBe(action);
        expect(result.record.actor.id).toBe(actor.id);
        expect(result.state.version).toBe(state.version + 1);
        expect(result.events.length, `${label} ${who} ${action} events`).toBeGreaterThan(0);
        const target = TARGET[action];
        expect(result.state.status, `${label} ${who} ${action}`).toBe(target === 'same' ? state.status : target);
      } else {
        let error: unknown;
        try {
          run();
        } catch (e) {
          error = e;
        }
        expect(error, `${label} ${who} ${action} should be illegal`).toBeInstanceOf(IllegalTransitionError);
        const details = (error as IllegalTransitionError).details;
        expect(details).toEqual({ from: state.status, action, allowed: canonical });
        expect((error as IllegalTransitionError).status).toBe(409);
      }
    }
  }
}

describe('ticket lifecycle: every status × action × role', () => {
  for (const status of TICKET_STATUSES) {
    it(`${status} (no flags)`, () => {
      check(stateIn(status), EXPECTED[status], status);
    });
  }

  const SENIOR = ['supervisor', 'admin'] as const;
  function withFlag(status: TicketStatus, change: (spec: Spec) => Spec): Spec {
    return change({ ...EXPECTED[status] });
  }
  const drop = (list: readonly TicketActionType[] | undefined, ...gone: TicketActionType[]): TicketActionType[] =>
    (list ?? []).filter((a) => !gone.includes(a));

  for (const status of ['accepted', 'dispatched', 'returned', 'in_progress', 'replied', 'closed', 'revisited', 'evaluated'] as const) {
    it(`${status} while supervised (督办中): no second supervise, lift_supervision for seniors`, () => {
      const spec = withFlag(status, (s) => {
        for (const who of SENIOR) s[who] = [...drop(s[who], 'supervise'), 'lift_supervision'];
        s.system = drop(s.system, 'supervise');
        return s;
      });
      check(stateIn(status, { supervised: true }), spec, `${status}+supervised`);
    });
  }

  it('in_progress with an extension pending: decisions for seniors, no second request', () => {
    const extension = { requestedDueAt: new Date(DUE.getTime() + 3 * DAY), reason: '需协调', departmentId: 'D1', requestedAt: NOW };
    const spec = withFlag('in_progress', (s) => {
      s.dept_main = drop(s.dept_main, 'request_extension');
      for (const who of SENIOR) s[who] = [...(s[who] ?? []), 'approve_extension', 'reject_extension'];
      return s;
    });
    check(stateIn('in_progress', { extension }), spec, 'in_progress+extension');
  });

  for (const status of ['accepted', 'dispatched', 'returned', 'in_progress', 'replied'] as const) {
    it(`${status} after a warning, then overdue: each timer fires once`, () => {
      check(stateIn(status, { warned: true }), withFlag(status, (s) => ({ ...s, system: drop(s.system, 'sla_warning') })), `${status}+warned`);
      check(
        stateIn(status, { overdue: true }),
        withFlag(status, (s) => ({ ...s, system: drop(s.system, 'sla_warning', 'mark_overdue') })),
        `${status}+overdue`,
      );
    });
  }
});
