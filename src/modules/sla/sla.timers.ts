/**
 * What a due timer does. The ticket is read again: a timer whose deadline no longer runs (the
 * ticket moved on, was closed, or got a new deadline) does nothing. A warning applies 预警; a
 * deadline applies 超期 and then 督办 as the system. Every step re-checks the state machine's
 * guards, so a retried job (crash, version conflict) never applies an action twice.
 */
import { IllegalTransitionError } from '../../domain/errors.js';
import { SLA_STAGE_LABELS, SLA_STAGES, canPerform, runningDeadline, type SlaStage, type TicketAction, type TicketState } from '../../domain/tickets/index.js';
import { SLA_SYSTEM_ACTOR, type SlaTicketsPort } from './sla.ports.js';
import type { FiringOutcome, FiringRow, TimerKind } from './sla.repository.js';

export interface TimerPayload {
  readonly ticketId: string;
  readonly stage: SlaStage;
  readonly dueAt: Date;
  readonly warnAt: Date;
}

export interface TimerJobInfo {
  readonly id: string;
  readonly attempt: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseTimerPayload(raw: unknown): TimerPayload | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const { ticketId, stage, dueAt, warnAt } = raw as Record<string, unknown>;
  if (typeof ticketId !== 'string' || !UUID.test(ticketId)) return null;
  if (!SLA_STAGES.includes(stage as SlaStage)) return null;
  const due = typeof dueAt === 'string' ? new Date(dueAt) : null;
  const warn = typeof warnAt === 'string' ? new Date(warnAt) : null;
  if (!due || !warn || Number.isNaN(due.getTime()) || Number.isNaN(warn.getTime())) return null;
  return { ticketId, stage: stage as SlaStage, dueAt: due, warnAt: warn };
}

export interface FireContext {
  readonly kind: TimerKind;
  readonly payload: TimerPayload;
  readonly job: TimerJobInfo;
  readonly tickets: SlaTicketsPort;
  readonly now: Date;
  readonly instance: string;
  readonly log: (firing: Omit<FiringRow, 'firedAt'>) => Promise<void>;
  /** Puts the same timer back, `delayMs` from now. */
  readonly reschedule: (delayMs: number) => Promise<unknown>;
}

function stillRunning(state: TicketState | null, p: TimerPayload): state is TicketState {
  const running = state === null ? null : runningDeadline(state);
  return running !== null && running.stage === p.stage && running.dueAt.getTime() === p.dueAt.getTime();
}

export async function fireTimer(c: FireContext): Promise<FiringOutcome> {
  const { kind, payload: p } = c;
  const log = async (outcome: FiringOutcome, actions: string[] = []): Promise<FiringOutcome> => {
    await c.log({ ticketId: p.ticketId, kind, stage: p.stage, dueAt: p.dueAt, outcome, actions, jobId: c.job.id, instance: c.instance });
    return outcome;
  };
  let state = await c.tickets.findState(p.ticketId);
  if (!stillRunning(state, p)) return log('stale');

  // The database clock may run ahead of ours: never act before the moment itself.
  const target = kind === 'warning' ? p.warnAt.getTime() : p.dueAt.getTime() + 1;
  if (c.now.getTime() < target) {
    await c.reschedule(target - c.now.getTime());
    return log('early');
  }

  const label = SLA_STAGE_LABELS[p.stage];
  const actions: string[] = [];
  // Someone may act on the ticket between our read and our action (close it, say): the state
  // machine then refuses, and the fresh state decides whether the timer still means anything.
  const apply = async (action: TicketAction, reason: string): Promise<boolean> => {
    try {
      await c.tickets.applySystemAction(p.ticketId, action, reason);
      actions.push(action.type);
      return true;
    } catch (err) {
      if (!(err instanceof IllegalTransitionError)) throw err;
      state = await c.tickets.findState(p.ticketId);
      return false;
    }
  };
  if (kind === 'warning') {
    if (canPerform(state, SLA_SYSTEM_ACTOR, 'sla_warning')) await apply({ type: 'sla_warning', stage: p.stage }, `${label}时限将至（${p.dueAt.toISOString()}）`);
  } else {
    if (canPerform(state, SLA_SYSTEM_ACTOR, 'mark_overdue') && (await apply({ type: 'mark_overdue', stage: p.stage }, `${label}时限已过（${p.dueAt.toISOString()}）`))) {
      state = await c.tickets.findState(p.ticketId);
    }
    if (stillRunning(state, p) && canPerform(state, SLA_SYSTEM_ACTOR, 'supervise')) {
      await apply({ type: 'supervise', reason: `超期自动督办：${label}时限 ${p.dueAt.toISOString()} 已过` }, `超期自动督办：${label}时限已过`);
    }
  }
  if (actions.length > 0) return log('applied', actions);
  return log(stillRunning(state, p) ? 'not_applicable' : 'stale');
}
