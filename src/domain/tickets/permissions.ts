/**
 * Who may do what, in which status: the table behind `allowedActions`. Hotline staff act on the
 * hotline's side of the loop; a department handler acts only on tickets of its own department
 * (as 主办 `main`, or 协办 `co`); `system` runs timers, automated revisits and surveys. The
 * telephony operator configures queues and trunks and takes no part in tickets.
 */
import { OPEN_STATUSES, TICKET_ACTIONS, type Actor, type ActorRole, type TicketActionType, type TicketState, type TicketStatus } from './model.js';

/** A role, or a department handler in relation to the ticket. */
export type Party = Exclude<ActorRole, 'dept_handler'> | 'main_dept' | 'co_dept';

const STAFF: readonly Party[] = ['agent', 'supervisor', 'admin'];
const SENIOR: readonly Party[] = ['supervisor', 'admin'];
const STAFF_AND_SYSTEM: readonly Party[] = [...STAFF, 'system'];

type Table = Readonly<Record<TicketActionType, Partial<Record<TicketStatus, readonly Party[]>>>>;

function on(statuses: readonly TicketStatus[], parties: readonly Party[]): Partial<Record<TicketStatus, readonly Party[]>> {
  return Object.fromEntries(statuses.map((s) => [s, parties]));
}

export const PERMISSIONS: Table = {
  accept: on(['draft'], STAFF),
  not_accept: on(['draft'], STAFF),
  direct_answer: on(['draft', 'accepted'], STAFF),
  dispatch: on(['accepted'], STAFF),
  sign: on(['dispatched'], ['main_dept']),
  return: on(['dispatched'], ['main_dept']),
  redispatch: on(['returned'], SENIOR),
  uphold_dispatch: on(['returned'], SENIOR),
  co_opinion: on(['dispatched', 'in_progress'], ['co_dept']),
  reply: on(['in_progress'], ['main_dept']),
  approve_reply: on(['replied'], STAFF),
  reject_reply: on(['replied'], STAFF),
  revisit: on(['closed'], STAFF_AND_SYSTEM),
  evaluate: on(['closed', 'revisited'], STAFF_AND_SYSTEM),
  reopen: on(['closed', 'revisited', 'evaluated'], SENIOR),
  // The SLA timers escalate overdue tickets (超期自动督办) as the system.
  supervise: on(OPEN_STATUSES, [...SENIOR, 'system']),
  // Any status that is not final: supervision also follows an escalated dissatisfied evaluation.
  lift_supervision: on([...OPEN_STATUSES, 'closed', 'revisited', 'evaluated'], SENIOR),
  remind: on(['dispatched', 'in_progress'], STAFF_AND_SYSTEM),
  request_extension: on(['in_progress'], ['main_dept']),
  approve_extension: on(['in_progress'], SENIOR),
  reject_extension: on(['in_progress'], SENIOR),
  merge: { ...on(['draft', 'accepted'], STAFF), ...on(['dispatched', 'returned', 'in_progress'], SENIOR) },
  absorb_duplicate: on(OPEN_STATUSES, STAFF),
  // The system cancels the draft of a call that ended without anyone writing in it.
  cancel: { ...on(['draft'], STAFF_AND_SYSTEM), ...on(['accepted'], STAFF), ...on(['dispatched', 'returned', 'in_progress', 'replied'], SENIOR) },
  sla_warning: on(OPEN_STATUSES, ['system']),
  mark_overdue: on(OPEN_STATUSES, ['system']),
};

/** The parties an actor counts as for this ticket. */
export function partiesOf(state: TicketState, actor: Actor): Party[] {
  if (actor.role !== 'dept_handler') return [actor.role];
  const dept = actor.departmentId;
  if (dept === undefined || dept === '') return [];
  const parties: Party[] = [];
  if (dept === state.mainDepartmentId) parties.push('main_dept');
  if (state.coDepartmentIds.includes(dept)) parties.push('co_dept');
  return parties;
}

// Conditions on the flags, beyond status and party.
const FLAG_GUARDS: Partial<Record<TicketActionType, (state: TicketState) => boolean>> = {
  supervise: (s) => !s.supervised,
  lift_supervision: (s) => s.supervised,
  request_extension: (s) => s.extension === null,
  approve_extension: (s) => s.extension !== null,
  reject_extension: (s) => s.extension !== null,
  sla_warning: (s) => !s.warned && !s.overdue,
  mark_overdue: (s) => !s.overdue,
};

export function isAllowed(state: TicketState, actor: Actor, action: TicketActionType): boolean {
  const parties = PERMISSIONS[action][state.status];
  if (parties === undefined) return false;
  if (!partiesOf(state, actor).some((p) => parties.includes(p))) return false;
  return FLAG_GUARDS[action]?.(state) ?? true;
}

/** The actions this actor may take on this ticket now, in canonical order. */
export function allowedActions(state: TicketState, actor: Actor): TicketActionType[] {
  return TICKET_ACTIONS.filter((action) => isAllowed(state, actor, action));
}
