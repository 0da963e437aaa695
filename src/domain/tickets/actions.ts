/** What callers of the state machine ask for: one variant per action, with its payload. */
import { ValidationError } from '../errors.js';
import type { TicketActionType, TicketStatus, ActorRole } from './model.js';
import type { Evaluation, NotAcceptedReason, RequestType, Urgency } from './vocabulary.js';

export const REVISIT_CHANNELS = ['phone', 'sms', 'ivr', 'online'] as const;
export type RevisitChannel = (typeof REVISIT_CHANNELS)[number];

export const SLA_STAGES = ['dispatch', 'response', 'completion'] as const;
export type SlaStage = (typeof SLA_STAGES)[number];
export const SLA_STAGE_LABELS: Readonly<Record<SlaStage, string>> = { dispatch: '派单', response: '响应', completion: '办结' };

export type TicketAction =
  | { readonly type: 'accept'; readonly requestType?: RequestType; readonly urgency?: Urgency; readonly dispatchDueAt?: Date; readonly dueAt?: Date }
  | { readonly type: 'not_accept'; readonly reason: NotAcceptedReason; readonly note?: string }
  | { readonly type: 'direct_answer'; readonly content: string }
  | { readonly type: 'dispatch'; readonly mainDepartmentId: string; readonly coDepartmentIds?: readonly string[]; readonly note?: string; readonly dueAt?: Date; readonly responseDueAt?: Date }
  | { readonly type: 'sign'; readonly note?: string }
  | { readonly type: 'return'; readonly reason: string }
  | { readonly type: 'redispatch'; readonly mainDepartmentId: string; readonly coDepartmentIds?: readonly string[]; readonly reason: string; readonly dueAt?: Date; readonly responseDueAt?: Date }
  | { readonly type: 'uphold_dispatch'; readonly reason: string }
  | { readonly type: 'co_opinion'; readonly content: string; readonly attachmentIds?: readonly string[] }
  | { readonly type: 'reply'; readonly content: string; readonly attachmentIds?: readonly string[]; readonly resolved?: boolean }
  | { readonly type: 'approve_reply'; readonly note?: string }
  | { readonly type: 'reject_reply'; readonly reason: string }
  | { readonly type: 'revisit'; readonly reached: boolean; readonly channel?: RevisitChannel; readonly note?: string }
  | { readonly type: 'evaluate'; readonly evaluation: Evaluation; readonly comment?: string; readonly reopenDueAt?: Date }
  | { readonly type: 'reopen'; readonly reason: string; readonly dueAt?: Date }
  | { readonly type: 'supervise'; readonly reason: string }
  | { readonly type: 'lift_supervision'; readonly reason: string }
  | { readonly type: 'remind'; readonly note?: string }
  | { readonly type: 'request_extension'; readonly requestedDueAt: Date; readonly reason: string }
  | { readonly type: 'approve_extension'; readonly dueAt?: Date; readonly note?: string }
  | { readonly type: 'reject_extension'; readonly reason: string }
  | { readonly type: 'merge'; readonly masterTicketId: string; readonly reason?: string }
  | { readonly type: 'absorb_duplicate'; readonly duplicateTicketId: string; readonly inheritedTicketIds?: readonly string[] }
  | { readonly type: 'cancel'; readonly reason: string }
  | { readonly type: 'sla_warning'; readonly stage: SlaStage }
  | { readonly type: 'mark_overdue'; readonly stage: SlaStage };

/** The variant of TicketAction for one action type. */
export type ActionOf<T extends TicketActionType> = Extract<TicketAction, { type: T }>;

/** How a dissatisfied evaluation (不满意) is followed up. */
export interface LifecyclePolicy {
  readonly dissatisfied: {
    /** Send the ticket back to the department automatically. */
    readonly reopen: boolean;
    /** Automatic reopens allowed per ticket; after that the ticket goes to supervision. */
    readonly maxReopens: number;
    /** When no automatic reopen is left (or allowed), flag the ticket 督办 for a supervisor. */
    readonly superviseWhenExhausted: boolean;
  };
}

export const DEFAULT_LIFECYCLE_POLICY: LifecyclePolicy = {
  dissatisfied: { reopen: true, maxReopens: 1, superviseWhenExhausted: true },
};

/** Validates an operator-supplied lifecycle policy; missing fields take the defaults. */
export function parseLifecyclePolicy(input: unknown): LifecyclePolicy {
  const fail = (path: string, message: string): never => {
    throw new ValidationError(`${path}: ${message}`, { issues: [{ path, message }] }, 'invalid_lifecycle_policy');
  };
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return fail('policy', 'must be an object');
  const raw = (input as Record<string, unknown>)['dissatisfied'] ?? {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail('dissatisfied', 'must be an object');
  const d = raw as Record<string, unknown>;
  const base = DEFAULT_LIFECYCLE_POLICY.dissatisfied;
  const reopen = d['reopen'] ?? base.reopen;
  const maxReopens = d['maxReopens'] ?? base.maxReopens;
  const superviseWhenExhausted = d['superviseWhenExhausted'] ?? base.superviseWhenExhausted;
  if (typeof reopen !== 'boolean') fail('dissatisfied.reopen', 'must be a boolean');
  if (typeof maxReopens !== 'number' || !Number.isInteger(maxReopens) || maxReopens < 0 || maxReopens > 10) {
    fail('dissatisfied.maxReopens', 'must be a whole number 0–10');
  }
  if (typeof superviseWhenExhausted !== 'boolean') fail('dissatisfied.superviseWhenExhausted', 'must be a boolean');
  return {
    dissatisfied: { reopen: reopen as boolean, maxReopens: maxReopens as number, superviseWhenExhausted: superviseWhenExhausted as boolean },
  };
}

export interface AuditActor {
  readonly role: ActorRole;
  readonly id: string;
  readonly departmentId: string | null;
}

/** The audit row every transition produces. */
export interface TransitionRecord {
  readonly ticketId: string;
  readonly action: TicketActionType;
  readonly from: TicketStatus;
  readonly to: TicketStatus;
  readonly actor: AuditActor;
  readonly reason: string | null;
  readonly at: Date;
  readonly data: Readonly<Record<string, unknown>>;
  /** Ticket version after the transition. */
  readonly version: number;
}
