/** The HTTP action body → the state machine's TicketAction; payload checks stay in src/domain/tickets. */
import type { Static } from 'typebox';
import { ValidationError } from '../../domain/errors.js';
import type { TicketAction } from '../../domain/tickets/index.js';
import type { ActionBody } from './tickets.schemas.js';

type Body = Static<typeof ActionBody>;

function required<T>(value: T | undefined, field: string): T {
  if (value === undefined) throw new ValidationError(`${field} is required for this action`, { field }, `${field}_required`);
  return value;
}

const opt = <K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> =>
  (value === undefined ? {} : { [key]: value }) as Partial<Record<K, V>>;

export function toTicketAction(b: Body): TicketAction {
  switch (b.action) {
    case 'accept': return { type: 'accept', ...opt('requestType', b.requestType), ...opt('urgency', b.urgency) };
    case 'not_accept': return { type: 'not_accept', reason: required(b.notAcceptedReason, 'notAcceptedReason'), ...opt('note', b.note) };
    case 'direct_answer': return { type: 'direct_answer', content: required(b.content, 'content') };
    case 'dispatch': return { type: 'dispatch', mainDepartmentId: required(b.mainDepartmentId, 'mainDepartmentId'), ...opt('coDepartmentIds', b.coDepartmentIds), ...opt('note', b.note) };
    case 'sign': return { type: 'sign', ...opt('note', b.note) };
    case 'return': return { type: 'return', reason: required(b.reason, 'reason') };
    case 'redispatch': return { type: 'redispatch', mainDepartmentId: required(b.mainDepartmentId, 'mainDepartmentId'), ...opt('coDepartmentIds', b.coDepartmentIds), reason: required(b.reason, 'reason') };
    case 'uphold_dispatch': return { type: 'uphold_dispatch', reason: required(b.reason, 'reason') };
    case 'co_opinion': return { type: 'co_opinion', content: required(b.content, 'content'), ...opt('attachmentIds', b.attachmentIds) };
    case 'reply': return { type: 'reply', content: required(b.content, 'content'), ...opt('attachmentIds', b.attachmentIds), ...opt('resolved', b.resolved) };
    case 'approve_reply': return { type: 'approve_reply', ...opt('note', b.note) };
    case 'reject_reply': return { type: 'reject_reply', reason: required(b.reason, 'reason') };
    case 'revisit': return { type: 'revisit', reached: required(b.reached, 'reached'), ...opt('channel', b.revisitChannel), ...opt('note', b.note) };
    case 'evaluate': return { type: 'evaluate', evaluation: required(b.evaluation, 'evaluation'), ...opt('comment', b.comment) };
    case 'reopen': return { type: 'reopen', reason: required(b.reason, 'reason') };
    case 'supervise': return { type: 'supervise', reason: required(b.reason, 'reason') };
    case 'lift_supervision': return { type: 'lift_supervision', reason: required(b.reason, 'reason') };
    case 'remind': return { type: 'remind', ...opt('note', b.note) };
    case 'request_extension': return { type: 'request_extension', requestedDueAt: new Date(required(b.requestedDueAt, 'requestedDueAt')), reason: required(b.reason, 'reason') };
    case 'approve_extension': return { type: 'approve_extension', ...opt('dueAt', b.dueAt === undefined ? undefined : new Date(b.dueAt)), ...opt('note', b.note) };
    case 'reject_extension': return { type: 'reject_extension', reason: required(b.reason, 'reason') };
    case 'merge': return { type: 'merge', masterTicketId: required(b.masterTicketId, 'masterTicketId'), ...opt('reason', b.reason) };
    case 'absorb_duplicate': return { type: 'absorb_duplicate', duplicateTicketId: required(b.duplicateTicketId, 'duplicateTicketId') };
    case 'cancel': return { type: 'cancel', reason: required(b.reason, 'reason') };
    // Timers' actions: the state machine answers 409 with what this actor may do instead.
    case 'sla_warning': return { type: 'sla_warning', stage: 'completion' };
    case 'mark_overdue': return { type: 'mark_overdue', stage: 'completion' };
  }
}
