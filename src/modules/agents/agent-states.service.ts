/**
 * Agent states at run time: login and logout, ready / not ready, and the system's moves driven by
 * the ACD and the call flow (offer, answer, no answer, call end, wrap-up). Each change validates
 * the move in the domain state machine and writes the new state, a log row and the
 * `agent.state_changed` event in one statement that applies only at the version it was worked
 * out from (the call flow's changes also hold the row lock in their transaction), so exactly one
 * of two conflicting moves wins and the loser is worked out again or refused.
 */
import type { Database, Executor, Tx } from '../../adapters/db/database.js';
import type { AgentCandidate } from '../../domain/acd/index.js';
import {
  AGENT_STATE_LABELS, NOT_READY_REASON_LABELS, applyStateChange, isNoop,
  type AgentState, type NotReadyReason, type StateActor, type StateChangeLog,
} from '../../domain/agents/index.js';
import { requireRole, type Principal } from '../../domain/auth.js';
import type { Clock } from '../../domain/clock.js';
import { ConflictError, DomainError, NotFoundError, ValidationError } from '../../domain/errors.js';
import { agentEndpoint, type AgentFeature } from '../../domain/telephony/asterisk-contract.js';
import type { NewEvent } from '../events/events.js';
import type { OutboxRepository } from '../events/outbox.repository.js';
import type { AgentStateRow, AgentsRepository, DependentWrite, StateLogRow } from './agents.repository.js';

const SUPERVISORS = ['supervisor', 'admin'] as const;
/** An unlocked change that keeps losing to others is refused after this many tries. */
const MAX_UNLOCKED_ATTEMPTS = 20;

/** The row moved on after it was read: the change was not written. */
class StateMovedError extends ConflictError {
  constructor() {
    super('The agent state changed meanwhile', 'agent_state_changed');
  }
}

export interface ActorRef {
  readonly type: StateActor;
  /** The user id for agents and supervisors; a component name (e.g. `acd`) for the system. */
  readonly id: string | null;
}

export interface ChangeOptions {
  readonly reason?: NotReadyReason | undefined;
  readonly actor: ActorRef;
  /** Refuse (409 agent_state_changed) unless the agent is still in this state. */
  readonly expectedState?: AgentState | undefined;
  /** Refuse (409 agent_call_mismatch) unless the agent is busy with this call: stale call events do nothing. */
  readonly expectedCallId?: string | undefined;
  readonly force?: boolean | undefined;
  readonly callId?: string | undefined;
  readonly extension?: string | undefined;
  readonly wrapUpSeconds?: number | undefined;
}

export interface PhoneFeatureResult {
  readonly ok: boolean;
  /** `logged_in`, `already_logged_in`, `logged_out`, `not_logged_in`, `changed`, or the refusal's error code. */
  readonly code: string;
  readonly agentId?: string;
  readonly state?: AgentState;
}

export interface AgentStateView {
  agentId: string;
  displayName: string;
  centreId: string;
  state: AgentState;
  stateLabel: string;
  reason: NotReadyReason | null;
  reasonLabel: string | null;
  since: string;
  version: number;
  extension: string | null;
  endpoint: string | null;
  idleSince: string | null;
  lastCallEndedAt: string | null;
  callId: string | null;
  wrapUpUntil: string | null;
}

export interface StateLogView {
  id: string;
  fromState: AgentState;
  fromReason: NotReadyReason | null;
  state: AgentState;
  reason: NotReadyReason | null;
  at: string;
  previousDurationMs: number;
  actorType: StateActor;
  actorId: string | null;
  callId: string | null;
  extension: string | null;
}

/** Told after a transaction that left an agent ready has committed (the ACD offers them a call). */
export type ReadyListener = (agentId: string) => void;

/** The NOTIFY channel on which every instance hears that an agent turned ready. */
export const AGENT_READY_CHANNEL = 'hotline_agent_ready';

export class AgentStatesService {
  private readonly readyListeners = new Set<ReadyListener>();

  constructor(
    private readonly db: Database,
    private readonly repo: AgentsRepository,
    private readonly outbox: OutboxRepository,
    private readonly clock: Clock,
    /** Names this instance in the ready notification, so it can ignore its own. */
    private readonly instanceId = 'local',
  ) {}

  /** Local listeners for agents turning ready; other instances hear it through NOTIFY. */
  onReady(listener: ReadyListener): () => void {
    this.readyListeners.add(listener);
    return () => this.readyListeners.delete(listener);
  }

  /** Any state change. Throws the domain's errors for illegal moves; a repeated move changes nothing. */
  async change(agentId: string, to: AgentState, opts: ChangeOptions): Promise<AgentStateView> {
    const view = await this.withExtensionGuard(() => this.changeUnlocked(agentId, to, opts));
    if (view.state === 'ready') this.announceReady(agentId);
    return view;
  }

  /**
   * The same change inside the caller's transaction (the call flow moves the agent together
   * with its call). The caller calls `announceReady` after commit when the agent ended ready.
   */
  async changeInTx(tx: Tx, agentId: string, to: AgentState, opts: ChangeOptions): Promise<AgentStateView> {
    const current = await this.repo.lockState(tx, agentId);
    return this.unchanged(current, agentId, to, opts) ?? toView(await this.apply(tx, current!, to, opts));
  }

  /**
   * A change on its own needs no transaction: the row is read, and the one-statement write
   * applies only at the version read. A change that lost to a concurrent one is worked out again
   * from the row it lost to, as it would have been after waiting for a lock. Two round trips
   * where a locked transaction took four, on the path from an agent turning ready to an offer.
   */
  private async changeUnlocked(agentId: string, to: AgentState, opts: ChangeOptions): Promise<AgentStateView> {
    for (let attempt = 1; ; attempt++) {
      const current = await this.repo.findState(this.db, agentId);
      const unchanged = this.unchanged(current, agentId, to, opts);
      if (unchanged) return unchanged;
      try {
        return toView(await this.apply(this.db, current!, to, opts));
      } catch (err) {
        if (!(err instanceof StateMovedError) || attempt >= MAX_UNLOCKED_ATTEMPTS) throw err;
      }
    }
  }

  /** Refuses what the options rule out; the current view when the change is a repeat; else undefined (apply it). */
  private unchanged(current: AgentStateRow | undefined, agentId: string, to: AgentState, opts: ChangeOptions): AgentStateView | undefined {
    if (!current) throw new NotFoundError('Agent', agentId, 'agent_not_found');
    if (opts.expectedState !== undefined && current.state !== opts.expectedState) {
      throw new ConflictError(`The agent is ${current.state}, not ${opts.expectedState}`, 'agent_state_changed', { state: current.state, version: current.version });
    }
    if (opts.expectedCallId !== undefined && current.callId !== opts.expectedCallId) {
      throw new ConflictError('The agent is not busy with this call', 'agent_call_mismatch', { callId: current.callId });
    }
    return isNoop(current, to, opts.reason ?? null, opts.actor.type) ? toView(current) : undefined;
  }

  /**
   * The ACD's compare-and-set: ready → ringing for this call only if the agent is still ready
   * (and active). Null when someone else got the agent first; never throws for that.
   */
  async claimForOffer(agentId: string, callId: string, actorId = 'acd'): Promise<AgentStateView | null> {
    return this.db.transaction().execute((tx) => this.offerInTx(tx, agentId, callId, actorId));
  }

  /** `claimForOffer` inside the ACD's transaction; `events` go out with the agent's own event. */
  async offerInTx(tx: Tx, agentId: string, callId: string, actorId = 'acd', events: readonly NewEvent[] = [], seen?: AgentStateRow, alsoWhenApplied: readonly DependentWrite[] = []): Promise<AgentStateView | null> {
    // `seen`: the row as the caller just read it in this transaction (the ACD's ready list). The
    // write then only happens at that version, which stands in for the row lock.
    const current = seen ?? await this.repo.lockState(tx, agentId);
    if (current?.agentId !== agentId || current.state !== 'ready' || !current.active) return null;
    try {
      return toView(await this.apply(tx, current, 'ringing', { actor: { type: 'system', id: actorId }, callId }, events, alsoWhenApplied));
    } catch (err) {
      if (seen && err instanceof ConflictError && err.code === 'agent_state_changed') return null; // someone else moved the agent first
      throw err;
    }
  }

  /** Tells local listeners that the agent is ready (after the change committed). */
  announceReady(agentId: string): void {
    for (const l of [...this.readyListeners]) l(agentId);
  }

  /** Log in at a phone: the agent's own extension unless another is given (hot-desking). */
  async login(actor: Principal, input: { extension?: string; state?: 'ready' | 'not_ready'; reason?: NotReadyReason }): Promise<AgentStateView> {
    const current = await this.repo.findState(this.db, actor.id);
    if (!current) throw new NotFoundError('Agent', actor.id, 'not_an_agent');
    if (!current.active) throw new ConflictError('This agent is deactivated', 'agent_inactive');
    const agent = await this.repo.findById(this.db, actor.id);
    const extension = input.extension ?? agent!.extension;
    agentEndpoint(extension); // invalid_agent_extension
    if (current.state !== 'offline') {
      if (current.extension === extension) return toView(current);
      throw new ConflictError(`Already logged in at ${current.extension}`, 'already_logged_in', { extension: current.extension });
    }
    try {
      return await this.change(actor.id, input.state ?? 'ready', { reason: input.reason, actor: { type: 'agent', id: actor.id }, expectedState: 'offline', extension });
    } catch (err) {
      // Two tabs logging in at once: the one that lost finds the agent logged in at this extension.
      const now = (err as { code?: string }).code === 'agent_state_changed' ? await this.repo.findState(this.db, actor.id) : undefined;
      if (now && now.state !== 'offline' && now.extension === extension) return toView(now);
      throw err;
    }
  }

  /**
   * A feature code dialled on an agent's phone (`*11` login, `*12` logout, `*21` ready, `*22`
   * not ready). The phone's PJSIP endpoint says who: for login the agent whose extension it is,
   * otherwise whoever is logged in there (hot-desking included). A refusal is an answer, not an
   * error: the phone plays it back.
   */
  async phoneFeature(extension: string, feature: AgentFeature): Promise<PhoneFeatureResult> {
    try {
      const atPhone = await this.repo.findStateAtExtension(this.db, extension);
      if (feature === 'login') {
        if (atPhone) return { ok: true, code: 'already_logged_in', agentId: atPhone.agentId, state: atPhone.state };
        const home = await this.repo.findByExtension(this.db, extension);
        if (!home) return { ok: false, code: 'unknown_extension' };
        if (!home.active) return { ok: false, code: 'agent_inactive', agentId: home.userId };
        const view = await this.change(home.userId, 'ready', { actor: { type: 'agent', id: home.userId }, expectedState: 'offline', extension });
        return { ok: true, code: 'logged_in', agentId: view.agentId, state: view.state };
      }
      if (!atPhone) return feature === 'logout' ? { ok: true, code: 'not_logged_in' } : { ok: false, code: 'not_logged_in' };
      const actor: ActorRef = { type: 'agent', id: atPhone.agentId };
      const view = feature === 'logout' ? await this.change(atPhone.agentId, 'offline', { actor })
        : feature === 'ready' ? await this.change(atPhone.agentId, 'ready', { actor })
          : await this.change(atPhone.agentId, 'not_ready', { actor, reason: 'break' });
      return { ok: true, code: feature === 'logout' ? 'logged_out' : 'changed', agentId: view.agentId, state: view.state };
    } catch (err) {
      // Illegal from here (on a call, already logged in elsewhere, …): the code says why.
      if (err instanceof DomainError) return { ok: false, code: err.code };
      throw err;
    }
  }

  async logout(actor: Principal): Promise<AgentStateView> {
    return this.change(actor.id, 'offline', { actor: { type: 'agent', id: actor.id } });
  }

  /** REST: an agent changes their own state, a supervisor anyone's. */
  async changeBy(actor: Principal, agentId: string, input: { state: AgentState; reason?: NotReadyReason; force?: boolean; expectedState?: AgentState }): Promise<AgentStateView> {
    const self = actor.id === agentId;
    if (!self) requireRole(actor, SUPERVISORS);
    return this.change(agentId, input.state, {
      reason: input.reason, force: input.force, expectedState: input.expectedState, actor: { type: self ? 'agent' : 'supervisor', id: actor.id },
    });
  }

  async get(actor: Principal, agentId: string): Promise<AgentStateView> {
    if (actor.id !== agentId) requireRole(actor, [...SUPERVISORS, 'operator']);
    const row = await this.repo.findState(this.db, agentId);
    if (!row) throw new NotFoundError('Agent', agentId, actor.id === agentId ? 'not_an_agent' : 'agent_not_found');
    return toView(row);
  }

  /** The wallboard: every active agent's state (offline ones on request). */
  async list(filter: { centreId?: string; state?: AgentState; includeOffline?: boolean; limit?: number } = {}): Promise<AgentStateView[]> {
    return (await this.repo.listStates(this.db, { ...filter, includeOffline: filter.includeOffline ?? false, limit: filter.limit ?? 1000 })).map(toView);
  }

  async listFor(actor: Principal, filter: { centreId?: string; state?: AgentState; includeOffline?: boolean; limit?: number }): Promise<AgentStateView[]> {
    requireRole(actor, [...SUPERVISORS, 'operator']);
    return this.list(filter);
  }

  async history(actor: Principal, agentId: string, f: { from?: Date; to?: Date; limit: number }): Promise<StateLogView[]> {
    if (actor.id !== agentId) requireRole(actor, [...SUPERVISORS, 'operator']);
    if (f.from && f.to && f.from >= f.to) throw new ValidationError('from must be before to', { field: 'from' }, 'invalid_time_range');
    return (await this.repo.log(this.db, agentId, f)).map(toLogView);
  }

  /** Ready agents with skills and languages, longest idle first: feed them to `rankAgents`. */
  async readyCandidates(centreId?: string, limit = 500): Promise<(AgentCandidate & { extension: string })[]> {
    const rows = await this.repo.readyCandidates(this.db, centreId, limit);
    const skills = await this.repo.skillsOf(this.db, rows.map((r) => r.agentId));
    return rows.map((r) => ({ ...r, skills: skills.filter((s) => s.agentId === r.agentId).map((s) => ({ skillId: s.skillId, level: s.level })) }));
  }

  /** Wrap-ups whose time is over go back to ready; run by the module's timer. Returns how many. */
  /**
   * Ends the wrap-ups whose time is over. Agents are independent rows, so several are moved at
   * once: done one by one, a busy hour's wrap-ups (hundreds of agents, seconds each) outran the
   * sweep and agents sat in wrap-up long after their time while callers waited.
   */
  async expireWrapUps(limit = 500, concurrency = 8): Promise<number> {
    const due = await this.repo.expiredWrapUps(this.db, this.clock.now(), limit);
    let done = 0;
    let next = 0;
    let failure: Error | undefined;
    const worker = async () => {
      while (next < due.length) {
        const d = due[next++]!;
        try {
          await this.change(d.agentId, 'ready', { actor: { type: 'system', id: 'wrap-up-timer' }, expectedState: 'wrap_up', ...(d.callId ? { expectedCallId: d.callId } : {}) });
          done++;
        } catch (err) {
          // The agent moved on meanwhile (ended wrap-up, logged out): nothing to do.
          if ((err as { code?: string }).code !== 'agent_state_changed' && (err as { code?: string }).code !== 'agent_call_mismatch') failure ??= err instanceof Error ? err : new Error(String(err));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, due.length) }, worker));
    if (failure !== undefined) throw failure; // the others were still done; the next sweep retries
    return done;
  }


  private async apply(tx: Executor, current: AgentStateRow, to: AgentState, opts: ChangeOptions, events: readonly NewEvent[] = [], alsoWhenApplied: readonly DependentWrite[] = []): Promise<AgentStateRow> {
    if (current.state === 'offline' && !current.active) throw new ConflictError('This agent is deactivated', 'agent_inactive');
    const { next, log } = applyStateChange(current, {
      to, reason: opts.reason, actor: opts.actor.type, force: opts.force, callId: opts.callId, extension: opts.extension, wrapUpSeconds: opts.wrapUpSeconds,
    }, this.clock.now());
    // The state, its log row and its events in one statement; the log id goes into the event there.
    // Other instances' ACDs learn of a ready agent at commit, whoever made the change.
    const logId = await this.repo.applyChange(tx, {
      agentId: current.agentId, expectedVersion: current.version, next, log, actorId: opts.actor.id,
      events: this.outbox.prepare([{ type: 'agent.state_changed', payload: eventPayload(current, next.version, log, opts.actor, '') }, ...events]),
      ...(to === 'ready' ? { notify: { channel: AGENT_READY_CHANNEL, payload: JSON.stringify({ agentId: current.agentId, instance: this.instanceId }) } } : {}),
      alsoWhenApplied,
    });
    // A locked row cannot move; an unlocked one (read outside a lock, the ACD's snapshot) moved:
    // refuse rather than overwrite.
    if (logId === undefined) throw new StateMovedError();
    return { ...current, ...next };
  }

  private async withExtensionGuard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if ((err as { code?: string; constraint?: string }).code === '23505' && (err as { constraint?: string }).constraint === 'agent_states_extension_key') {
        throw new ConflictError('Another agent is logged in at this extension', 'extension_in_use');
      }
      throw err;
    }
  }
}

function eventPayload(agent: AgentStateRow, version: number, log: StateChangeLog, actor: ActorRef, logId: string): Record<string, unknown> {
  return {
    agentId: agent.agentId, centreId: agent.centreId, logId, version,
    from: log.fromState, fromReason: log.fromReason, state: log.state, reason: log.reason,
    at: log.at.toISOString(), previousDurationMs: log.previousDurationMs,
    actor: { type: actor.type, id: actor.id }, callId: log.callId, extension: log.extension,
  };
}

function iso(d: Date | null): string | null {
  return d ? d.toISOString() : null;
}

function toView(r: AgentStateRow): AgentStateView {
  return {
    agentId: r.agentId, displayName: r.displayName, centreId: r.centreId,
    state: r.state, stateLabel: AGENT_STATE_LABELS[r.state], reason: r.reason, reasonLabel: r.reason ? NOT_READY_REASON_LABELS[r.reason] : null,
    since: r.since.toISOString(), version: r.version, extension: r.extension, endpoint: r.extension ? agentEndpoint(r.extension) : null,
    idleSince: iso(r.idleSince), lastCallEndedAt: iso(r.lastCallEndedAt), callId: r.callId, wrapUpUntil: iso(r.wrapUpUntil),
  };
}

function toLogView(r: StateLogRow): StateLogView {
  return {
    id: r.id, fromState: r.fromState, fromReason: r.fromReason, state: r.state, reason: r.reason, at: r.at.toISOString(),
    previousDurationMs: r.previousDurationMs, actorType: r.actor, actorId: r.actorId, callId: r.callId, extension: r.extension,
  };
}
