/**
 * Where deadlines come from. With the sla module loaded (listed before tickets in
 * src/modules/index.ts) its `deadlinesFor` answers, under the operator's policy and the official
 * holiday calendar. Without it, DEFAULT_SLA_POLICY on a weekday-only calendar (Monday–Friday,
 * 09:00–12:00 and 13:30–17:30 Beijing time, no holidays): good enough to run, not to report on.
 */
import { DEFAULT_SLA_POLICY, WorkingCalendar, deadline, limitsFor } from '../../domain/calendar/index.js';
import type { RequestType, SlaStage, Urgency } from '../../domain/tickets/index.js';

export interface DeadlineRequest {
  readonly type: RequestType;
  readonly urgency: Urgency;
  /** When the stage starts. */
  readonly at: Date;
  readonly stage: SlaStage;
  /** When the ticket was accepted: picks the policy version in force then. */
  readonly acceptedAt?: Date;
}

export interface DeadlinePair { readonly dueAt: Date; readonly warnAt: Date }

export interface DeadlineSource {
  deadlinesFor(q: DeadlineRequest): DeadlinePair | Promise<DeadlinePair>;
}

export function defaultDeadlineSource(): DeadlineSource {
  const calendar = new WorkingCalendar({ missingYear: 'weekdays' });
  return {
    deadlinesFor(q) {
      const d = deadline(DEFAULT_SLA_POLICY, calendar, q.at, limitsFor(DEFAULT_SLA_POLICY, q.type, q.urgency)[q.stage]);
      return { dueAt: d.dueAt, warnAt: d.warnAt };
    },
  };
}

function isSource(value: unknown): value is DeadlineSource {
  return typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>)['deadlinesFor'] === 'function';
}

/** Uses the sla module's export when present (looked up per call), the default otherwise. */
export function deadlineSourceFrom(lookup: () => unknown): DeadlineSource {
  const fallback = defaultDeadlineSource();
  return {
    deadlinesFor(q) {
      const sla = lookup();
      return isSource(sla) ? sla.deadlinesFor(q) : fallback.deadlinesFor(q);
    },
  };
}
