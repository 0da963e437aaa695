/**
 * The agent state machine: which state changes are legal, who may make them (the agent, a
 * supervisor, or the system: the ACD and the call flow), and what a change does to the fields
 * the ACD ranks by. Pure: the service loads the current row under a lock, calls
 * `applyStateChange`, and stores the result, the log row and the event in one transaction.
 */
import { ConflictError, IllegalTransitionError, ValidationError } from '../errors.js';

export const AGENT_STATES = ['offline', 'ready', 'not_ready', 'ringing', 'on_call', 'wrap_up'] as const;
export type AgentState = (typeof AGENT_STATES)[number];

export const NOT_READY_REASONS = ['break', 'meal', 'training', 'meeting', 'no_answer', 'after_call'] as const;
export type NotReadyReason = (typeof NOT_READY_REASONS)[number];

/** Who asks: the agent for themself, a supervisor for anyone, or the system (ACD, call flow). */
export const STATE_ACTORS = ['agent', 'supervisor', 'system'] as const;
export type StateActor = (typeof STATE_ACTORS)[number];

export const AGENT_STATE_LABELS: Readonly<Record<AgentState, string>> = {
  offline: '离线', ready: '示闲', not_ready: '示忙', ringing: '振铃', on_call: '通话中', wrap_up: '话后整理',
};
export const NOT_READY_REASON_LABELS: Readonly<Record<NotReadyReason, string>> = {
  break: '小休', meal: '用餐', training: '培训', meeting: '会议', no_answer: '未接听', after_call: '话后处理',
};

/** Reasons a person picks; `no_answer` is set by the ACD and `after_call` only follows a call. */
const PERSONAL: readonly NotReadyReason[] = ['break', 'meal', 'training', 'meeting'];
const PEOPLE: readonly StateActor[] = ['agent', 'supervisor'];
const ANYONE: readonly StateActor[] = ['agent', 'supervisor', 'system'];

interface Rule {
  readonly from: readonly AgentState[];
  readonly to: AgentState;
  readonly actors: readonly StateActor[];
  /** For `not_ready`: the reasons this rule allows. */
  readonly reasons?: readonly NotReadyReason[];
  /** The change interrupts a call: only with `force`, and never by the agent. */
  readonly force?: true;
}

const RULES: readonly Rule[] = [
  // Login happens at a phone, so only the agent can do it.
  { from: ['offline'], to: 'ready', actors: ['agent'] },
  { from: ['offline'], to: 'not_ready', actors: ['agent'], reasons: PERSONAL },
  { from: ['ready', 'not_ready'], to: 'not_ready', actors: PEOPLE, reasons: PERSONAL },
  { from: ['not_ready'], to: 'ready', actors: PEOPLE },
  // The ACD offers a call; the call flow reports answer, no answer and a caller who gave up.
  { from: ['ready'], to: 'ringing', actors: ['system'] },
  { from: ['ringing'], to: 'on_call', actors: ['system'] },
  { from: ['ringing'], to: 'not_ready', actors: ['system'], reasons: ['no_answer'] },
  { from: ['ringing'], to: 'ready', actors: ['system'] },
  { from: ['on_call'], to: 'wrap_up', actors: ['system'] },
  // Wrap-up ends on its timer (system) or when the agent is done early.
  { from: ['wrap_up'], to: 'ready', actors: ANYONE },
  { from: ['wrap_up'], to: 'not_ready', actors: PEOPLE, reasons: PERSONAL },
  { from: ['wrap_up'], to: 'not_ready', actors: ['agent', 'system'], reasons: ['after_call'] },
  { from: ['ready', 'not_ready', 'wrap_up'], to: 'offline', actors: ANYONE },
  { from: ['ringing', 'on_call'], to: 'offline', actors: ['supervisor', 'system'], force: true },
];

export interface AgentStateSnapshot {
  readonly state: AgentState;
  readonly reason: NotReadyReason | null;
  readonly since: Date;
  readonly version: number;
  /** The phone the agent is logged in at; null while offline. */
  readonly extension: string | null;
  /** When the agent last became available, for longest-idle ranking; set while ready or ringing. */
  readonly idleSince: Date | null;
  readonly lastCallEndedAt: Date | null;
  readonly callId: string | null;
  /** When wrap-up ends by itself (the queue's wrap-up seconds); null = until the agent ends it. */
  readonly wrapUpUntil: Date | null;
}

export interface StateChangeRequest {
  readonly to: AgentState;
  readonly reason?: NotReadyReason | undefined;
  readonly actor: StateActor;
  /** Log out an agent who is ringing or on a call (supervisor, system). */
  readonly force?: boolean | undefined;
  /** Required to log in (offline → ready/not_ready). */
  readonly extension?: string | undefined;
  /** Required for an offer (ready → ringing). */
  readonly callId?: string | undefined;
  /** For on_call → wrap_up: the queue's wrap-up seconds (0 or absent = until the agent ends it). */
  readonly wrapUpSeconds?: number | undefined;
}

export interface StateChangeLog {
  readonly fromState: AgentState;
  readonly fromReason: NotReadyReason | null;
  readonly state: AgentState;
  readonly reason: NotReadyReason | null;
  readonly at: Date;
  readonly previousDurationMs: number;
  readonly actor: StateActor;
  readonly callId: string | null;
  readonly extension: string | null;
}

export interface StateChangeResult {
  readonly next: AgentStateSnapshot;
  readonly log: StateChangeLog;
}

/** A move as shown to clients in `allowed`: `ready`, `not_ready:break`, `offline` … */
export type Move = string;

function moveName(to: AgentState, reason?: NotReadyReason | null): Move {
  return reason ? `${to}:${reason}` : to;
}

/** The moves this actor may make from this state (with `force` when it is given). */
export function allowedMoves(from: AgentState, actor: StateActor, force = false): Move[] {
  const out: Move[] = [];
  for (const rule of RULES) {
    if (!rule.from.includes(from) || !rule.actors.includes(actor) || (rule.force && !force)) continue;
    if (rule.reasons) for (const r of rule.reasons) out.push(moveName(rule.to, r));
    else out.push(rule.to);
  }
  return [...new Set(out)];
}

/** Whether the actor may make this change (payload aside); `force` as in `StateChangeRequest`. */
export function canChange(from: AgentState, to: AgentState, reason: NotReadyReason | null, actor: StateActor, force = false): boolean {
  return allowedMoves(from, actor, force).includes(moveName(to, reason));
}

/**
 * A repeated request (same state and reason) that this actor could have made: it changes nothing
 * and is not an error. An agent asking for `ringing` while ringing is still refused.
 */
export function isNoop(current: AgentStateSnapshot, to: AgentState, reason: NotReadyReason | null, actor: StateActor): boolean {
  return current.state === to && current.reason === reason && AGENT_STATES.some((from) => canChange(from, to, reason, actor, true));
}

function checkRequest(current: AgentStateSnapshot, req: StateChangeRequest): NotReadyReason | null {
  if (!AGENT_STATES.includes(req.to)) throw new ValidationError(`Unknown agent state '${String(req.to)}'`, { state: req.to, allowed: [...AGENT_STATES] }, 'unknown_agent_state');
  if (!STATE_ACTORS.includes(req.actor)) throw new ValidationError(`Unknown actor '${String(req.actor)}'`, { actor: req.actor }, 'unknown_state_actor');
  const reason = req.reason ?? null;
  if (req.to === 'not_ready' && reason === null) {
    throw new ValidationError('Not ready needs a reason', { field: 'reason', allowed: allowedMoves(current.state, req.actor, req.force) }, 'not_ready_reason_required');
  }
  if (req.to !== 'not_ready' && reason !== null) {
    throw new ValidationError(`A reason is only given for not_ready, not for ${req.to}`, { field: 'reason' }, 'reason_not_applicable');
  }
  if (reason !== null && !NOT_READY_REASONS.includes(reason)) {
    throw new ValidationError(`Unknown not-ready reason '${String(reason)}'`, { field: 'reason', allowed: [...NOT_READY_REASONS] }, 'unknown_not_ready_reason');
  }
  if (req.force && req.actor === 'agent') throw new ValidationError('Only a supervisor or the system can force a change', { field: 'force' }, 'force_not_allowed');
  return reason;
}

/**
 * Validates the change and computes the new row and its log entry. Throws `IllegalTransitionError`
 * (409, with the moves this actor has from here) for an illegal change, `ConflictError
 * agent_on_call` when a supervisor logs out an agent on a call without `force`.
 */
export function applyStateChange(current: AgentStateSnapshot, req: StateChangeRequest, now: Date): StateChangeResult {
  if (Number.isNaN(now.getTime())) throw new ValidationError('now must be a valid date', { field: 'now' }, 'invalid_date');
  const reason = checkRequest(current, req);
  const force = req.force === true;
  if (!canChange(current.state, req.to, reason, req.actor, force)) {
    if (req.to === 'offline' && !force && canChange(current.state, req.to, reason, req.actor, true)) {
      throw new ConflictError(`The agent is ${current.state}; pass force to log them out anyway`, 'agent_on_call', { state: current.state });
    }
    throw new IllegalTransitionError('agent', current.state, moveName(req.to, reason), allowedMoves(current.state, req.actor, force));
  }

  let extension = current.extension;
  if (current.state === 'offline') {
    if (!req.extension) throw new ValidationError('Log in at an extension', { field: 'extension' }, 'extension_required');
    extension = req.extension;
  }
  if (req.to === 'offline') extension = null;

  let callId: string | null = null;
  if (req.to === 'ringing') {
    if (!req.callId) throw new ValidationError('An offer names its call', { field: 'callId' }, 'call_id_required');
    callId = req.callId;
  } else if (req.to === 'on_call' || req.to === 'wrap_up') {
    callId = current.callId;
  }

  // An offer that is withdrawn (caller gave up) keeps the agent's place in the idle ranking.
  let idleSince: Date | null = null;
  if (req.to === 'ready') idleSince = current.state === 'ringing' && current.idleSince ? current.idleSince : now;
  else if (req.to === 'ringing') idleSince = current.idleSince ?? now;

  let wrapUpUntil: Date | null = null;
  if (req.to === 'wrap_up' && req.wrapUpSeconds !== undefined) {
    if (!Number.isInteger(req.wrapUpSeconds) || req.wrapUpSeconds < 0) throw new ValidationError('wrapUpSeconds must be a whole number ≥ 0', { field: 'wrapUpSeconds' }, 'invalid_wrap_up_seconds');
    if (req.wrapUpSeconds > 0) wrapUpUntil = new Date(now.getTime() + req.wrapUpSeconds * 1000);
  }

  const endsCall = current.state === 'on_call' && (req.to === 'wrap_up' || req.to === 'offline');
  const next: AgentStateSnapshot = {
    state: req.to,
    reason,
    since: now,
    version: current.version + 1,
    extension,
    idleSince,
    lastCallEndedAt: endsCall ? now : current.lastCallEndedAt,
    callId,
    wrapUpUntil,
  };
  const log: StateChangeLog = {
    fromState: current.state,
    fromReason: current.reason,
    state: req.to,
    reason,
    at: now,
    previousDurationMs: Math.max(0, now.getTime() - current.since.getTime()),
    actor: req.actor,
    callId: callId ?? current.callId,
    extension: extension ?? current.extension,
  };
  return { next, log };
}

/** The row a new agent starts with. */
export function initialAgentState(now: Date): AgentStateSnapshot {
  return { state: 'offline', reason: null, since: now, version: 1, extension: null, idleSince: null, lastCallEndedAt: null, callId: null, wrapUpUntil: null };
}
