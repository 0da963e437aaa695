/**
 * The ticket lifecycle of GB/T 44189 7.1.1 as one pure function: 受理 → 派单 → 签收/退单 → 办理 →
 * 答复 → 审核 → 办结 → 回访 → 评价, with 直办, 争议审核, 督办, 催办, 延期, 合并, 撤单 and 重办.
 * The service loads the state, calls `transition`, then stores the new state, the audit record
 * and the events in one transaction (outbox).
 */
import { IllegalTransitionError, ValidationError } from '../errors.js';
import { DEFAULT_LIFECYCLE_POLICY, type LifecyclePolicy, type SlaStage, type TicketAction, type TransitionRecord } from './actions.js';
import type { TicketEvent } from './events.js';
import { HANDLERS, type Outcome } from './handlers.js';
import { TICKET_ACTIONS, type Actor, type TicketActionType, type TicketState } from './model.js';
import { allowedActions, isAllowed } from './permissions.js';

export interface TransitionContext {
  readonly actor: Actor;
  readonly now: Date;
  readonly policy?: LifecyclePolicy;
}

export interface TransitionResult {
  readonly state: TicketState;
  readonly record: TransitionRecord;
  readonly events: readonly TicketEvent[];
}

function assertKnownAction(action: TicketAction): void {
  if (!TICKET_ACTIONS.includes(action.type)) {
    throw new ValidationError(`unknown ticket action '${String(action.type)}'`, { action: action.type }, 'unknown_ticket_action');
  }
}

// Free text (replies, opinions, comments) is personal information: it stays in the audit record;
// events carry ids and codes, and consumers fetch the text through the authorised API.
const FREE_TEXT_KEYS = new Set(['content', 'comment']);

function withoutFreeText(data: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(data).filter(([key]) => !FREE_TEXT_KEYS.has(key)));
}

export function transition(ticket: TicketState, action: TicketAction, ctx: TransitionContext): TransitionResult {
  assertKnownAction(action);
  if (Number.isNaN(ctx.now.getTime())) throw new ValidationError('now must be a valid date', { field: 'now' }, 'invalid_date');
  if (!isAllowed(ticket, ctx.actor, action.type)) {
    throw new IllegalTransitionError('ticket', ticket.status, action.type, allowedActions(ticket, ctx.actor));
  }
  // One cast: TypeScript cannot correlate the handler with the action's own variant.
  const handler = HANDLERS[action.type] as (s: TicketState, a: TicketAction, c: Required<TransitionContext>) => Outcome;
  const outcome = handler(ticket, action, { ...ctx, policy: ctx.policy ?? DEFAULT_LIFECYCLE_POLICY });

  const version = ticket.version + 1;
  const state: TicketState = { ...ticket, ...outcome.patch, status: outcome.to, version };
  const data = outcome.data ?? {};
  const record: TransitionRecord = {
    ticketId: ticket.id,
    action: action.type,
    from: ticket.status,
    to: outcome.to,
    actor: { role: ctx.actor.role, id: ctx.actor.id, departmentId: ctx.actor.departmentId ?? null },
    reason: outcome.reason ?? null,
    at: ctx.now,
    data,
    version,
  };
  const shared = withoutFreeText(data);
  const events: TicketEvent[] = outcome.events.map((e) => ({
    name: e.name,
    ticketId: ticket.id,
    departmentIds: [...new Set(e.departmentIds)],
    data: { ...shared, ...e.data, action: action.type, status: outcome.to, version, at: ctx.now.toISOString() },
  }));
  return { state, record, events };
}

/** Whether `transition` would accept this action type from this actor now (payload aside). */
export function canPerform(ticket: TicketState, actor: Actor, action: TicketActionType): boolean {
  return isAllowed(ticket, actor, action);
}

export interface MergeResult {
  readonly duplicate: TransitionResult;
  readonly master: TransitionResult;
}

/**
 * 合并: the duplicate becomes `merged`, the master records it (and whatever had been merged into
 * the duplicate before) so the service can link every caller to the master. Both checks run
 * before either state changes.
 */
export function mergeTickets(duplicate: TicketState, master: TicketState, ctx: TransitionContext, reason?: string): MergeResult {
  if (duplicate.id === master.id) {
    throw new ValidationError('a ticket cannot be merged into itself', { masterTicketId: master.id }, 'merge_into_self');
  }
  const merged = transition(duplicate, { type: 'merge', masterTicketId: master.id, ...(reason === undefined ? {} : { reason }) }, ctx);
  const absorbed = transition(
    master,
    { type: 'absorb_duplicate', duplicateTicketId: duplicate.id, inheritedTicketIds: duplicate.mergedTicketIds },
    ctx,
  );
  return { duplicate: merged, master: absorbed };
}

/**
 * The deadline the ticket is running against now, for the SLA timer: the dispatch deadline until
 * dispatched, the response deadline until the main department signs (签收) or returns it, then
 * the completion deadline until closed; null when nothing runs. A response deadline later than
 * the completion deadline (a policy oddity) gives way to the completion one.
 */
export function runningDeadline(ticket: TicketState): { readonly stage: SlaStage; readonly dueAt: Date } | null {
  if (ticket.status === 'accepted') return ticket.dispatchDueAt === null ? null : { stage: 'dispatch', dueAt: ticket.dispatchDueAt };
  const response = ticket.responseDueAt;
  if (ticket.status === 'dispatched' && response !== null && (ticket.dueAt === null || response.getTime() <= ticket.dueAt.getTime())) {
    return { stage: 'response', dueAt: response };
  }
  if (['dispatched', 'returned', 'in_progress', 'replied'].includes(ticket.status)) {
    return ticket.dueAt === null ? null : { stage: 'completion', dueAt: ticket.dueAt };
  }
  return null;
}
