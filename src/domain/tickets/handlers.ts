/**
 * What each action does to a ticket, once `permissions.ts` has allowed it: target status, changed
 * fields, audit reason and data, events and the departments to notify. Pure; payloads validated.
 */
import { ConflictError, ValidationError } from '../errors.js';
import type { ActionOf, LifecyclePolicy, SlaStage } from './actions.js';
import { REVISIT_CHANNELS, SLA_STAGES } from './actions.js';
import type { TicketEventName } from './events.js';
import type { Actor, TicketActionType, TicketState, TicketStatus } from './model.js';
import { NOT_ACCEPTED_REASON_INFO, isEvaluation, isNotAcceptedReason, isRequestType, isUrgency } from './vocabulary.js';
import {
  idList,
  optionalDate,
  optionalText,
  requireAssignment,
  requireDate,
  requireId,
  requireLater,
  requireText,
} from './validate.js';

export interface HandlerContext {
  readonly actor: Actor;
  readonly now: Date;
  readonly policy: LifecyclePolicy;
}

export interface PlannedEvent {
  readonly name: TicketEventName;
  readonly departmentIds: readonly string[];
  readonly data?: Readonly<Record<string, unknown>>;
}

export interface Outcome {
  readonly to: TicketStatus;
  readonly patch?: Partial<TicketState>;
  readonly reason?: string | null;
  readonly data?: Readonly<Record<string, unknown>>;
  readonly events: readonly PlannedEvent[];
}

type Handler<K extends TicketActionType> = (s: TicketState, a: ActionOf<K>, ctx: HandlerContext) => Outcome;
type Handlers = { readonly [K in TicketActionType]: Handler<K> };

/** Main department first, then co-handlers. */
function involved(s: TicketState): string[] {
  return s.mainDepartmentId === null ? [...s.coDepartmentIds] : [s.mainDepartmentId, ...s.coDepartmentIds];
}

function main(s: TicketState): string[] {
  return s.mainDepartmentId === null ? [] : [s.mainDepartmentId];
}

/** Where a reopened ticket goes: back to its department, or to dispatch if it never had one. */
function reopenTarget(s: TicketState): TicketStatus {
  return s.mainDepartmentId === null ? 'accepted' : 'in_progress';
}

function iso(d: Date | null): string | null {
  return d === null ? null : d.toISOString();
}

function requireStage(value: unknown): SlaStage {
  if (!SLA_STAGES.includes(value as SlaStage)) {
    throw new ValidationError('stage must be one of ' + SLA_STAGES.join(', '), { field: 'stage' }, 'invalid_sla_stage');
  }
  return value as SlaStage;
}

/**
 * Whether the ticket waits for its main department to sign (签收) against a response deadline.
 * Warning and overdue belong to the running stage, so leaving this one starts the completion
 * stage afresh (the audit keeps the late response).
 */
function responseRunning(s: TicketState): boolean {
  return s.status === 'dispatched' && s.responseDueAt !== null;
}

function responseEnded(s: TicketState): Partial<TicketState> {
  return responseRunning(s) ? { warned: false, overdue: false } : {};
}

function deadlineReset(dueAt: Date | null): Partial<TicketState> {
  return dueAt === null ? {} : { dueAt, warned: false, overdue: false };
}

export const HANDLERS: Handlers = {
  accept(s, a) {
    if (a.requestType !== undefined && !isRequestType(a.requestType)) {
      throw new ValidationError('unknown request type', { field: 'requestType' }, 'invalid_request_type');
    }
    if (a.urgency !== undefined && !isUrgency(a.urgency)) {
      throw new ValidationError('unknown urgency', { field: 'urgency' }, 'invalid_urgency');
    }
    const dispatchDueAt = optionalDate(a.dispatchDueAt, 'dispatchDueAt') ?? s.dispatchDueAt;
    const dueAt = optionalDate(a.dueAt, 'dueAt') ?? s.dueAt;
    const type = a.requestType ?? s.type;
    const urgency = a.urgency ?? s.urgency;
    return {
      to: 'accepted',
      patch: { type, urgency, dispatchDueAt, dueAt },
      data: { type, urgency, dispatchDueAt: iso(dispatchDueAt), dueAt: iso(dueAt) },
      events: [{ name: 'ticket.accepted', departmentIds: [] }],
    };
  },

  not_accept(_s, a) {
    if (!isNotAcceptedReason(a.reason)) {
      throw new ValidationError('unknown not-accepted reason', { field: 'reason' }, 'invalid_not_accepted_reason');
    }
    const note = optionalText(a.note, 'note');
    const info = NOT_ACCEPTED_REASON_INFO[a.reason];
    return {
      to: 'not_accepted',
      patch: { notAcceptedReason: a.reason },
      reason: note === null ? info.label : `${info.label}：${note}`,
      data: { reasonCode: a.reason, reply: info.reply },
      events: [{ name: 'ticket.not_accepted', departmentIds: [] }],
    };
  },

  direct_answer(_s, a) {
    const content = requireText(a.content, 'content');
    return {
      to: 'closed',
      patch: { supervised: false },
      data: { directAnswer: true, content },
      events: [{ name: 'ticket.closed', departmentIds: [] }],
    };
  },

  dispatch(s, a) {
    const { main: mainId, co } = requireAssignment(a.mainDepartmentId, a.coDepartmentIds);
    const dueAt = optionalDate(a.dueAt, 'dueAt') ?? s.dueAt;
    const responseDueAt = optionalDate(a.responseDueAt, 'responseDueAt');
    return {
      to: 'dispatched',
      // The running deadline is now the department's: warning and overdue start afresh.
      patch: { mainDepartmentId: mainId, coDepartmentIds: co, coOpinionDepartmentIds: [], dueAt, responseDueAt, warned: false, overdue: false },
      reason: optionalText(a.note, 'note'),
      data: { mainDepartmentId: mainId, coDepartmentIds: co, dueAt: iso(dueAt), responseDueAt: iso(responseDueAt) },
      events: [{ name: 'ticket.dispatched', departmentIds: [mainId, ...co] }],
    };
  },

  sign(s, a) {
    return {
      to: 'in_progress',
      patch: responseEnded(s),
      reason: optionalText(a.note, 'note'),
      data: { departmentId: s.mainDepartmentId },
      events: [{ name: 'ticket.signed', departmentIds: s.coDepartmentIds }],
    };
  },

  return(s, a) {
    const reason = requireText(a.reason, 'reason');
    return {
      to: 'returned',
      // Returning is the department's response too: the dispute review runs on the completion deadline.
      patch: { returnCount: s.returnCount + 1, ...responseEnded(s) },
      reason,
      data: { departmentId: s.mainDepartmentId },
      events: [{ name: 'ticket.returned', departmentIds: [] }],
    };
  },

  redispatch(s, a) {
    const reason = requireText(a.reason, 'reason');
    const { main: mainId, co } = requireAssignment(a.mainDepartmentId, a.coDepartmentIds);
    const dueAt = optionalDate(a.dueAt, 'dueAt') ?? s.dueAt;
    const responseDueAt = optionalDate(a.responseDueAt, 'responseDueAt');
    const now = [mainId, ...co];
    const withdrawn = involved(s).filter((id) => !now.includes(id));
    const events: PlannedEvent[] = [{ name: 'ticket.dispatched', departmentIds: now, data: { redispatch: true } }];
    if (withdrawn.length > 0) events.push({ name: 'ticket.withdrawn', departmentIds: withdrawn });
    return {
      to: 'dispatched',
      patch: { mainDepartmentId: mainId, coDepartmentIds: co, coOpinionDepartmentIds: [], dueAt, responseDueAt, warned: false, overdue: false },
      reason,
      data: { previousMainDepartmentId: s.mainDepartmentId, mainDepartmentId: mainId, coDepartmentIds: co, dueAt: iso(dueAt), responseDueAt: iso(responseDueAt) },
      events,
    };
  },

  uphold_dispatch(s, a) {
    const reason = requireText(a.reason, 'reason');
    // The return was found unjustified: the department must handle the ticket, no second sign-off.
    return {
      to: 'in_progress',
      reason,
      data: { mainDepartmentId: s.mainDepartmentId },
      events: [{ name: 'ticket.dispatch_upheld', departmentIds: main(s) }],
    };
  },

  co_opinion(s, a, ctx) {
    const content = requireText(a.content, 'content');
    const attachmentIds = idList(a.attachmentIds, 'attachmentIds');
    const dept = ctx.actor.departmentId ?? '';
    const opinions = s.coOpinionDepartmentIds.includes(dept) ? s.coOpinionDepartmentIds : [...s.coOpinionDepartmentIds, dept];
    return {
      to: s.status,
      patch: { coOpinionDepartmentIds: opinions },
      data: { departmentId: dept, content, attachmentIds },
      events: [{ name: 'ticket.co_opinion_submitted', departmentIds: main(s) }],
    };
  },

  reply(s, a) {
    const content = requireText(a.content, 'content');
    const attachmentIds = idList(a.attachmentIds, 'attachmentIds');
    if (a.resolved !== undefined && typeof a.resolved !== 'boolean') {
      throw new ValidationError('resolved must be a boolean', { field: 'resolved' }, 'invalid_resolved');
    }
    return {
      to: 'replied',
      // A reply supersedes a pending extension request.
      patch: { extension: null },
      data: { departmentId: s.mainDepartmentId, content, attachmentIds, resolved: a.resolved ?? null },
      events: [{ name: 'ticket.replied', departmentIds: [] }],
    };
  },

  approve_reply(s, a) {
    return {
      to: 'closed',
      patch: { supervised: false },
      reason: optionalText(a.note, 'note'),
      events: [{ name: 'ticket.closed', departmentIds: involved(s) }],
    };
  },

  reject_reply(s, a) {
    const reason = requireText(a.reason, 'reason');
    return { to: 'in_progress', reason, events: [{ name: 'ticket.reply_rejected', departmentIds: main(s) }] };
  },

  revisit(s, a) {
    if (typeof a.reached !== 'boolean') throw new ValidationError('reached must be a boolean', { field: 'reached' }, 'invalid_reached');
    if (a.channel !== undefined && !REVISIT_CHANNELS.includes(a.channel)) {
      throw new ValidationError('unknown revisit channel', { field: 'channel' }, 'invalid_revisit_channel');
    }
    const note = optionalText(a.note, 'note');
    // An unanswered revisit is recorded but leaves the ticket waiting for another attempt.
    return {
      to: a.reached ? 'revisited' : s.status,
      patch: { revisitAttempts: s.revisitAttempts + 1 },
      reason: note,
      data: { reached: a.reached, channel: a.channel ?? null, attempt: s.revisitAttempts + 1 },
      events: [{ name: 'ticket.revisited', departmentIds: [] }],
    };
  },

  evaluate(s, a, ctx) {
    if (!isEvaluation(a.evaluation)) throw new ValidationError('unknown evaluation', { field: 'evaluation' }, 'invalid_evaluation');
    const comment = optionalText(a.comment, 'comment');
    const reopenDueAt = optionalDate(a.reopenDueAt, 'reopenDueAt');
    const evaluated: PlannedEvent = { name: 'ticket.evaluated', departmentIds: involved(s), data: { evaluation: a.evaluation } };
    const data = { evaluation: a.evaluation, comment };
    if (a.evaluation !== 'dissatisfied') return { to: 'evaluated', patch: { evaluation: a.evaluation }, data, events: [evaluated] };

    const rule = ctx.policy.dissatisfied;
    if (rule.reopen && s.reopenCount < rule.maxReopens) {
      return {
        to: reopenTarget(s),
        patch: { evaluation: a.evaluation, reopenCount: s.reopenCount + 1, ...deadlineReset(reopenDueAt) },
        reason: '不满意，重新办理',
        data: { ...data, reopened: true, reopenCount: s.reopenCount + 1 },
        events: [evaluated, { name: 'ticket.reopened', departmentIds: involved(s), data: { cause: 'dissatisfied' } }],
      };
    }
    if (rule.superviseWhenExhausted) {
      return {
        to: 'evaluated',
        patch: { evaluation: a.evaluation, supervised: true },
        reason: '不满意，转督办',
        data: { ...data, escalated: true },
        events: [evaluated, { name: 'ticket.supervised', departmentIds: involved(s), data: { cause: 'dissatisfied' } }],
      };
    }
    return { to: 'evaluated', patch: { evaluation: a.evaluation }, data, events: [evaluated] };
  },

  reopen(s, a) {
    const reason = requireText(a.reason, 'reason');
    const dueAt = optionalDate(a.dueAt, 'dueAt');
    return {
      to: reopenTarget(s),
      patch: { reopenCount: s.reopenCount + 1, ...deadlineReset(dueAt) },
      reason,
      data: { reopenCount: s.reopenCount + 1, dueAt: iso(dueAt) },
      events: [{ name: 'ticket.reopened', departmentIds: involved(s) }],
    };
  },

  supervise(s, a) {
    const reason = requireText(a.reason, 'reason');
    return { to: s.status, patch: { supervised: true }, reason, events: [{ name: 'ticket.supervised', departmentIds: involved(s) }] };
  },

  lift_supervision(s, a) {
    const reason = requireText(a.reason, 'reason');
    return {
      to: s.status,
      patch: { supervised: false },
      reason,
      events: [{ name: 'ticket.supervision_lifted', departmentIds: involved(s) }],
    };
  },

  remind(s, a) {
    const count = s.reminderCount + 1;
    return {
      to: s.status,
      patch: { reminderCount: count },
      reason: optionalText(a.note, 'note'),
      data: { reminderCount: count },
      events: [{ name: 'ticket.reminded', departmentIds: main(s), data: { reminderCount: count } }],
    };
  },

  request_extension(s, a, ctx) {
    const reason = requireText(a.reason, 'reason');
    const requestedDueAt = requireDate(a.requestedDueAt, 'requestedDueAt');
    requireLater(requestedDueAt, ctx.now, 'requestedDueAt', 'extension_not_in_future');
    requireLater(requestedDueAt, s.dueAt, 'requestedDueAt', 'extension_not_later_than_deadline');
    const extension = { requestedDueAt, reason, departmentId: s.mainDepartmentId ?? '', requestedAt: ctx.now };
    return {
      to: s.status,
      patch: { extension },
      reason,
      data: { requestedDueAt: iso(requestedDueAt), currentDueAt: iso(s.dueAt) },
      events: [{ name: 'ticket.extension_requested', departmentIds: [] }],
    };
  },

  approve_extension(s, a, ctx) {
    const requested = s.extension;
    if (requested === null) throw new ConflictError('no extension request is pending', 'no_pending_extension');
    const dueAt = optionalDate(a.dueAt, 'dueAt') ?? requested.requestedDueAt;
    requireLater(dueAt, ctx.now, 'dueAt', 'extension_not_in_future');
    requireLater(dueAt, s.dueAt, 'dueAt', 'extension_not_later_than_deadline');
    return {
      to: s.status,
      patch: { extension: null, extensionCount: s.extensionCount + 1, dueAt, warned: false, overdue: false },
      reason: optionalText(a.note, 'note'),
      data: { previousDueAt: iso(s.dueAt), dueAt: iso(dueAt), requestedDueAt: iso(requested.requestedDueAt) },
      events: [{ name: 'ticket.extension_approved', departmentIds: main(s), data: { dueAt: iso(dueAt) } }],
    };
  },

  reject_extension(s, a) {
    const reason = requireText(a.reason, 'reason');
    return {
      to: s.status,
      patch: { extension: null },
      reason,
      data: { requestedDueAt: iso(s.extension?.requestedDueAt ?? null) },
      events: [{ name: 'ticket.extension_rejected', departmentIds: main(s) }],
    };
  },

  merge(s, a) {
    const masterTicketId = requireId(a.masterTicketId, 'masterTicketId');
    if (masterTicketId === s.id) throw new ValidationError('a ticket cannot be merged into itself', { masterTicketId }, 'merge_into_self');
    return {
      to: 'merged',
      patch: { mergedInto: masterTicketId, supervised: false, extension: null },
      reason: optionalText(a.reason, 'reason'),
      data: { masterTicketId },
      events: [{ name: 'ticket.merged', departmentIds: involved(s), data: { masterTicketId } }],
    };
  },

  absorb_duplicate(s, a) {
    const duplicateTicketId = requireId(a.duplicateTicketId, 'duplicateTicketId');
    const inherited = idList(a.inheritedTicketIds, 'inheritedTicketIds');
    const incoming = [duplicateTicketId, ...inherited];
    if (incoming.includes(s.id)) throw new ValidationError('a ticket cannot be merged into itself', { duplicateTicketId }, 'merge_into_self');
    const already = incoming.filter((id) => s.mergedTicketIds.includes(id));
    if (already.length > 0) throw new ConflictError('ticket already merged here', 'already_merged', { ticketIds: already });
    return {
      to: s.status,
      patch: { mergedTicketIds: [...s.mergedTicketIds, ...incoming] },
      data: { duplicateTicketId, inheritedTicketIds: inherited },
      events: [{ name: 'ticket.duplicate_linked', departmentIds: main(s), data: { duplicateTicketId } }],
    };
  },

  cancel(s, a) {
    const reason = requireText(a.reason, 'reason');
    return {
      to: 'cancelled',
      patch: { supervised: false, extension: null },
      reason,
      events: [{ name: 'ticket.cancelled', departmentIds: involved(s) }],
    };
  },

  sla_warning(s, a) {
    const stage = requireStage(a.stage);
    return {
      to: s.status,
      patch: { warned: true },
      data: { stage },
      events: [{ name: 'ticket.sla_warning', departmentIds: stage === 'dispatch' ? [] : main(s), data: { stage } }],
    };
  },

  mark_overdue(s, a) {
    const stage = requireStage(a.stage);
    return {
      to: s.status,
      patch: { overdue: true },
      data: { stage },
      events: [{ name: 'ticket.overdue', departmentIds: stage === 'dispatch' ? [] : main(s), data: { stage } }],
    };
  },
};
