/**
 * Every change of a call, as one transaction: the call row (checked against the state machine
 * and against the state the session believes it is in), its timeline row, the queue entry and
 * offer, the agent's state, and the outbox event. Sessions call these *before* acting on
 * Asterisk, so a restarted service finds each caller where they were.
 *
 * Lock order (as in the ACD): queue entry → call → agent state → offer.
 */
import type { Logger } from 'pino';
import { retryDb, type Database, type Tx } from '../../adapters/db/database.js';
import { formatLocalDate, localDayOf, SHANGHAI_UTC_OFFSET_MINUTES } from '../../domain/calendar/local-date.js';
import { offerOutcomeFromCause, outcomeBlamesAgent, type OfferOutcome } from '../../domain/calls/offers.js';
import { assertCallMove, type CallDisposition, type CallEventType, type CallState, type HangupParty } from '../../domain/calls/states.js';
import type { SurveyResult } from '../../domain/calls/announcements.js';
import type { Clock } from '../../domain/clock.js';
import { ConflictError } from '../../domain/errors.js';
import type { AgentStatesService } from '../agents/agent-states.service.js';
import type { OutboxRepository } from '../events/outbox.repository.js';
import type { AcdRepository, EntryRow, OfferRow } from './acd.repository.js';
import type { CallbackKind, CallbackTaskRow, CallPatch, CallRow, CallsRepository, ConsultInfo, IvrStep, MonitorRow, NewCallRow, TransferRow } from './calls.repository.js';

export interface LedgerSettings {
  /** Callers who gave up after waiting at least this long in a queue get a missed-call task. */
  readonly missedCallMinWaitSeconds: number;
}

/** The session's idea of the call's state no longer matches the row (another writer moved it). */
export class StaleCallStateError extends ConflictError {
  constructor(callId: string, expected: CallState, actual: CallState) {
    super(`Call ${callId} is ${actual}, not ${expected}`, 'call_state_changed', { expected, actual });
  }
}

export interface EndInput {
  readonly disposition: CallDisposition;
  readonly hangupBy: HangupParty;
  readonly cause?: number | null | undefined;
  readonly causeText?: string | null | undefined;
  /** Extra timeline data (e.g. why the system ended it). */
  readonly data?: Record<string, unknown>;
}

export interface EndResult {
  readonly row: CallRow;
  /** An offer that was ringing and is now cancelled: hang up its agent leg. */
  readonly cancelledOffer: OfferRow | undefined;
  readonly task: CallbackTaskRow | undefined;
  /** Agents the change left ready (tell the ACD). */
  readonly readyAgents: readonly string[];
}

export interface QueueInput {
  readonly queueId: string;
  readonly priority: number;
  readonly holdingBridgeId: string;
  /** The caller's place: kept through overflows and recoveries. */
  readonly enqueuedAt: Date;
  readonly data?: Record<string, unknown>;
}

export class CallLedger {
  constructor(
    private readonly db: Database,
    private readonly calls: CallsRepository,
    private readonly acd: AcdRepository,
    private readonly agentStates: AgentStatesService,
    private readonly outbox: OutboxRepository,
    private readonly clock: Clock,
    private readonly settings: LedgerSettings,
    private readonly logger: Logger,
    /** The queue's wrap-up seconds for an agent whose call ended. */
    private readonly wrapUpSecondsOf: (queueId: string | null) => Promise<number>,
  ) {}

  /**
   * Every call-flow transaction: under overload (no pool connection in time) or a serialization
   * failure it runs again rather than failing the call's step. Losing a step would leave the
   * call in a state it is no longer in (a hang-up never recorded).
   */
  private tx<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.retrying(() => this.db.transaction().execute(fn));
  }

  private retrying<T>(fn: () => Promise<T>): Promise<T> {
    return retryDb(fn, { onRetry: (err, attempt) => this.logger.warn({ err, attempt }, 'call-flow database work failed; retrying') });
  }

  now(): Date {
    return this.clock.now();
  }

  /** StasisStart: the call row before anything else happens to the channel. */
  async arrive(c: Omit<NewCallRow, 'arrivedAt'>): Promise<{ row: CallRow; created: boolean }> {
    const at = this.now();
    return this.tx(async (tx) => {
      const res = await this.calls.insert(tx, { ...c, arrivedAt: at });
      if (res.created) {
        await this.calls.appendEvent(tx, res.row.id, 'arrived', at, { direction: c.direction, nodeId: c.nodeId, channelId: c.channelId, dialed: c.dialedNumber, ...(c.transfer ? { transfer: c.transfer } : {}) });
        await this.outbox.append(tx, [{ type: 'call.arrived', payload: { callId: res.row.id, direction: c.direction, nodeId: c.nodeId, dialedNumber: c.dialedNumber, at: at.toISOString(), ...(c.transfer ? { transfer: c.transfer } : {}) } }]);
      }
      return res;
    });
  }

  /** A timeline row without a state change (IVR choices, announcements, answered, flags …). */
  async note(callId: string, type: CallEventType, data: Record<string, unknown> = {}, patch?: CallPatch): Promise<void> {
    await this.tx(async (tx) => {
      await this.calls.appendEvent(tx, callId, type, this.now(), data);
      if (patch) await this.calls.update(tx, callId, patch);
    });
  }

  async ivrStep(callId: string, step: Omit<IvrStep, 'at'>): Promise<void> {
    const at = this.now();
    await this.tx(async (tx) => {
      await this.calls.appendIvrStep(tx, callId, { ...step, at: at.toISOString() });
      await this.calls.appendEvent(tx, callId, 'ivr_choice', at, { ...step });
    });
  }

  /** A state change with no queue or agent involved (arrived → ivr, ivr → self_service …). */
  async move(callId: string, from: CallState, to: CallState, type: CallEventType, data: Record<string, unknown> = {}, patch: CallPatch = {}): Promise<CallRow> {
    return this.tx(async (tx) => {
      const row = await this.lockExpecting(tx, callId, from);
      assertCallMove(from, to);
      await this.calls.update(tx, callId, { ...patch, state: to });
      await this.calls.appendEvent(tx, callId, type, this.now(), data);
      return { ...row, ...patch, state: to };
    });
  }

  /** Into a queue (first time, after a no-answer, after an overflow or a recovery). */
  async enqueue(callId: string, from: CallState, q: QueueInput): Promise<EntryRow> {
    assertCallMove(from, 'queued');
    const at = this.now();
    // The real enqueuedAt (kept from an earlier entry) is set in the statement.
    const [event] = this.outbox.prepare([{ type: 'call.queued', payload: { callId, queueId: q.queueId, priority: q.priority, at: at.toISOString() } }]);
    for (let attempt = 1; ; attempt++) {
      const r = await this.retrying(() => this.acd.enqueue(this.db, {
        callId, from, queueId: q.queueId, priority: q.priority, enqueuedAt: q.enqueuedAt, at, holdingBridgeId: q.holdingBridgeId, data: q.data ?? {}, outbox: event!,
      }));
      if (r.entry) return r.entry;
      if (r.state === null) throw new ConflictError(`Call ${callId} has no row`, 'call_not_found');
      // The statement saw the row as it was before another transaction moved it on; only a
      // later state is an answer.
      if (r.state !== from || attempt === 3) throw new StaleCallStateError(callId, from, r.state as CallState);
    }
  }

  /** A supervisor (or a flag found later) raises a waiting caller's priority. */
  async raisePriority(callId: string, priority: number, actor: string): Promise<EntryRow> {
    return this.tx(async (tx) => {
      const entry = await this.acd.lockEntry(tx, callId);
      if (!entry) throw new ConflictError('The caller is not waiting in a queue', 'call_not_queued');
      if (priority <= entry.priority) throw new ConflictError(`Priority ${priority} is not above the current ${entry.priority}`, 'priority_not_raised', { priority: entry.priority });
      await this.acd.updateEntry(tx, callId, { priority });
      await this.calls.update(tx, callId, { priority });
      await this.calls.appendEvent(tx, callId, 'priority_raised', this.now(), { from: entry.priority, to: priority, by: actor });
      return { ...entry, priority };
    });
  }

  /** When the originate for an offer went out (the offer itself is stored by the ACD). */
  async offerOriginated(offerId: string): Promise<void> {
    await this.retrying(() => this.acd.markOriginated(this.db, offerId, this.now()));
  }

  /**
   * The agent leg ended without answering (busy, no answer, failed originate) or we withdrew
   * it: the caller is waiting again, at the head of the line (enqueued_at unchanged). The agent
   * goes not-ready (`no_answer`) when the outcome was their phone's doing, else back to ready.
   */
  async offerFailed(callId: string, offerId: string, o: { outcome?: OfferOutcome; cause?: number | undefined; techCause?: number | string | undefined }): Promise<{ outcome: OfferOutcome; readyAgents: string[]; callState: CallState } | null> {
    const outcome = o.outcome ?? offerOutcomeFromCause(o.cause);
    const at = this.now();
    const res = await this.tx(async (tx) => {
      const entry = await this.acd.lockEntry(tx, callId);
      const row = await this.calls.lock(tx, callId);
      const offer = await this.acd.findOffer(tx, offerId);
      if (!row || !offer || offer.outcome !== null) return null;
      const agentReady = await this.releaseAgent(tx, offer, outcome);
      await this.acd.finishOffer(tx, offerId, outcome, at, o.cause ?? null, o.techCause !== undefined ? String(o.techCause) : null);
      if (entry?.offerId === offerId) await this.acd.updateEntry(tx, callId, { state: 'waiting', offerId: null });
      let callState = row.state;
      if (row.state === 'offering') {
        await this.calls.update(tx, callId, { state: 'queued', agentId: null, agentChannelId: null });
        callState = 'queued';
      }
      await this.calls.appendEvent(tx, callId, 'offer_result', at, { offerId, agentId: offer.agentId, outcome, cause: o.cause ?? null, techCause: o.techCause ?? null });
      await this.outbox.append(tx, [{ type: 'call.offer_failed', payload: { callId, offerId, agentId: offer.agentId, outcome, cause: o.cause ?? null, at: at.toISOString() } }]);
      return { outcome, readyAgents: agentReady ? [offer.agentId] : [], callState };
    });
    for (const a of res?.readyAgents ?? []) this.agentStates.announceReady(a);
    return res;
  }

  /** The agent answered: the caller leaves the queue, the call is connected and recorded. */
  async connect(callId: string, offerId: string, c: { bridgeId: string; recordingName: string | null; recordingFormat: string }): Promise<CallRow> {
    const at = this.now();
    return this.tx(async (tx) => {
      const entry = await this.acd.lockEntry(tx, callId);
      const row = await this.lockExpecting(tx, callId, 'offering');
      const offer = await this.acd.findOffer(tx, offerId);
      if (!offer || offer.outcome !== null || entry?.offerId !== offerId) throw new ConflictError('The offer is no longer open', 'offer_closed');
      assertCallMove('offering', 'connected');
      await this.agentStates.changeInTx(tx, offer.agentId, 'on_call', { actor: { type: 'system', id: 'call-flow' }, expectedState: 'ringing', expectedCallId: callId });
      await this.acd.finishOffer(tx, offerId, 'answered', at);
      await this.acd.deleteEntry(tx, callId);
      await this.calls.update(tx, callId, { state: 'connected', bridgeId: c.bridgeId, connectedAt: at, agentId: offer.agentId, agentChannelId: offer.channelId });
      await this.calls.appendEvent(tx, callId, 'offer_result', at, { offerId, agentId: offer.agentId, outcome: 'answered' });
      await this.calls.appendEvent(tx, callId, 'connected', at, { agentId: offer.agentId, extension: offer.extension, bridgeId: c.bridgeId, waitSeconds: row.queuedAt ? Math.round((at.getTime() - row.queuedAt.getTime()) / 1000) : null });
      if (c.recordingName) await this.calls.insertRecording(tx, { name: c.recordingName, callId, nodeId: row.nodeId, format: c.recordingFormat, startedAt: at });
      await this.outbox.append(tx, [{ type: 'call.connected', payload: { callId, agentId: offer.agentId, extension: offer.extension, queueId: row.queueId, at: at.toISOString() } }]);
      return { ...row, state: 'connected', bridgeId: c.bridgeId, connectedAt: at, agentId: offer.agentId, agentChannelId: offer.channelId };
    });
  }

  /** A new recording segment (e.g. the bridge was rebuilt after a recovery). */
  async recordingStarted(callId: string, nodeId: string, name: string, format: string): Promise<void> {
    const at = this.now();
    await this.tx(async (tx) => {
      await this.calls.insertRecording(tx, { name, callId, nodeId, format, startedAt: at });
      await this.calls.appendEvent(tx, callId, 'recording_started', at, { name });
    });
  }

  async recordingFinished(callId: string, name: string, r: { state: 'done' | 'failed'; durationSeconds?: number | null; cause?: string | null }): Promise<void> {
    const at = this.now();
    await this.tx(async (tx) => {
      await this.calls.finishRecording(tx, name, { state: r.state, endedAt: at, durationSeconds: r.durationSeconds ?? null });
      await this.calls.appendEvent(tx, callId, 'recording_finished', at, { name, state: r.state, durationSeconds: r.durationSeconds ?? null, ...(r.cause ? { cause: r.cause } : {}) });
    });
  }

  /** A recording event that reached no session: found by its name. False when it is not ours. */
  async recordingFinishedByName(name: string, r: { state: 'done' | 'failed'; durationSeconds?: number | null; cause?: string | null }): Promise<boolean> {
    const rec = await this.retrying(() => this.calls.findRecording(this.db, name));
    if (!rec) return false;
    if (rec.state === 'recording') await this.recordingFinished(rec.callId, name, r);
    return true;
  }

  async recordingSize(name: string, sizeBytes: number): Promise<void> {
    await this.retrying(() => this.calls.setRecordingSize(this.db, name, sizeBytes));
  }

  /** The agent hung up: the caller goes to the survey; the agent to wrap-up. */
  async toSurvey(callId: string): Promise<CallRow> {
    const at = this.now();
    return this.tx(async (tx) => {
      const row = await this.lockExpecting(tx, callId, 'connected');
      assertCallMove('connected', 'survey');
      await this.wrapUp(tx, row);
      await this.calls.update(tx, callId, { state: 'survey', hangupBy: 'agent' });
      await this.calls.appendEvent(tx, callId, 'survey', at, { step: 'started' });
      return { ...row, state: 'survey', hangupBy: 'agent' };
    });
  }

  async surveyResult(callId: string, result: SurveyResult | null, digit: string | null): Promise<void> {
    const at = this.now();
    await this.tx(async (tx) => {
      await this.calls.update(tx, callId, { surveyResult: result });
      await this.calls.appendEvent(tx, callId, 'survey', at, { step: 'result', result, digit });
      await this.outbox.append(tx, [{ type: 'call.survey_completed', payload: { callId, result, at: at.toISOString() } }]);
    });
  }

  /**
   * A callback the caller asked for (or the queue's overflow chose): the task keeps their place
   * (priority, enqueued_at); the caller leaves the queue.
   */
  async callbackTask(callId: string, kind: Exclude<CallbackKind, 'missed'>, recordingName: string | null = null): Promise<CallbackTaskRow | null> {
    const at = this.now();
    return this.tx(async (tx) => {
      const entry = await this.acd.lockEntry(tx, callId);
      const row = await this.calls.lock(tx, callId);
      if (!row || !row.callerNumber) return null;
      const waited = row.queuedAt ? Math.round((at.getTime() - row.queuedAt.getTime()) / 1000) : 0;
      const task = await this.calls.insertTask(tx, {
        kind, callId, phone: row.callerNumber, queueId: entry?.queueId ?? row.queueId, priority: entry?.priority ?? row.priority,
        enqueuedAt: entry?.enqueuedAt ?? row.queuedAt, waitedSeconds: waited, recordingName, day: this.localDay(at),
      });
      await this.calls.appendEvent(tx, callId, kind === 'voicemail' ? 'voicemail' : 'callback_requested', at, { taskId: task.id, kind, recordingName });
      await this.outbox.append(tx, [{ type: 'callback.created', payload: { taskId: task.id, kind, callId, queueId: task.queueId, at: at.toISOString() } }]);
      return task;
    });
  }

  /**
   * The end of the call, whatever state it was in: an open offer is cancelled (its agent back
   * to ready), the queue entry removed, the agent of a connected call put in wrap-up, and a
   * caller who gave up in the queue gets a missed-call task. Idempotent: an ended call stays as
   * it ended.
   */
  async end(callId: string, e: EndInput): Promise<EndResult | null> {
    const at = this.now();
    const res = await this.tx(async (tx): Promise<EndResult | null> => {
      const entry = await this.acd.lockEntry(tx, callId);
      const row = await this.calls.lock(tx, callId);
      if (!row || row.state === 'ended') return null;
      const readyAgents: string[] = [];
      let cancelledOffer: OfferRow | undefined;
      const open = await this.acd.openOfferOfCall(tx, callId);
      if (open) {
        const outcome: OfferOutcome = e.hangupBy === 'caller' ? 'caller_abandoned' : 'cancelled';
        if (await this.releaseAgent(tx, open, outcome)) readyAgents.push(open.agentId);
        await this.acd.finishOffer(tx, open.id, outcome, at);
        await this.calls.appendEvent(tx, callId, 'offer_result', at, { offerId: open.id, agentId: open.agentId, outcome });
        cancelledOffer = open;
      }
      if (entry) await this.acd.deleteEntry(tx, callId);
      if (row.state === 'connected') await this.wrapUp(tx, row);
      await this.calls.closeTransfers(tx, callId, at);
      await this.calls.update(tx, callId, {
        state: 'ended', endedAt: at, disposition: e.disposition, hangupBy: row.hangupBy ?? e.hangupBy, hangupCause: e.cause ?? null, hangupCauseText: e.causeText ?? null,
      });
      await this.calls.appendEvent(tx, callId, 'ended', at, { from: row.state, disposition: e.disposition, hangupBy: row.hangupBy ?? e.hangupBy, cause: e.cause ?? null, ...e.data });
      let task: CallbackTaskRow | undefined;
      const waited = row.queuedAt ? (at.getTime() - row.queuedAt.getTime()) / 1000 : 0;
      // Callers who gave up waiting, and queued callers whose call was lost, are called back.
      const missed = e.disposition === 'abandoned_queue' || e.disposition === 'abandoned_ringing' || (e.disposition === 'lost' && row.queuedAt !== null);
      if (missed && row.callerNumber && waited >= this.settings.missedCallMinWaitSeconds) {
        task = await this.calls.upsertMissed(tx, {
          callId, phone: row.callerNumber, queueId: entry?.queueId ?? row.queueId, priority: entry?.priority ?? row.priority,
          enqueuedAt: entry?.enqueuedAt ?? row.queuedAt, waitedSeconds: Math.round(waited), day: this.localDay(at),
        });
        await this.outbox.append(tx, [{ type: 'callback.created', payload: { taskId: task.id, kind: 'missed', callId, queueId: task.queueId, attempts: task.attempts, at: at.toISOString() } }]);
      }
      await this.outbox.append(tx, [{
        type: 'call.ended',
        payload: { callId, disposition: e.disposition, hangupBy: row.hangupBy ?? e.hangupBy, cause: e.cause ?? null, queueId: row.queueId, agentId: row.agentId, from: row.state, at: at.toISOString() },
      }]);
      return { row: { ...row, state: 'ended', endedAt: at, disposition: e.disposition }, cancelledOffer, task, readyAgents };
    });
    for (const a of res?.readyAgents ?? []) this.agentStates.announceReady(a);
    return res;
  }

  /**
   * Out of the queue into voicemail: an offer the ACD just made (not yet rung) is withdrawn and
   * its agent is ready again.
   */
  async leaveQueue(callId: string, to: 'voicemail'): Promise<CallRow> {
    const at = this.now();
    const res = await this.tx(async (tx) => {
      const entry = await this.acd.lockEntry(tx, callId);
      const row = await this.lockExpecting(tx, callId, 'queued');
      assertCallMove('queued', to);
      const readyAgents: string[] = [];
      const open = await this.acd.openOfferOfCall(tx, callId);
      if (open) {
        if (await this.releaseAgent(tx, open, 'cancelled')) readyAgents.push(open.agentId);
        await this.acd.finishOffer(tx, open.id, 'cancelled', at);
      }
      if (entry) await this.acd.deleteEntry(tx, callId);
      await this.calls.update(tx, callId, { state: to });
      await this.calls.appendEvent(tx, callId, to, at, { step: 'started', fromQueueId: row.queueId });
      return { row: { ...row, state: to }, readyAgents };
    });
    for (const a of res.readyAgents) this.agentStates.announceReady(a);
    return res.row;
  }

  // --- Call control from the desktop.

  async setHeld(callId: string, held: boolean, by: string): Promise<void> {
    const at = this.now();
    await this.tx(async (tx) => {
      await this.lockExpecting(tx, callId, 'connected');
      await this.calls.update(tx, callId, { held });
      await this.calls.appendEvent(tx, callId, held ? 'hold' : 'unhold', at, { by });
      await this.outbox.append(tx, [{ type: held ? 'call.held' : 'call.unheld', payload: { callId, by, at: at.toISOString() } }]);
    });
  }

  /** A consultation starts, changes state (talking, conference) or ends (null). */
  async setConsult(callId: string, consult: ConsultInfo | null, data: Record<string, unknown>, transfer?: { outcome?: TransferRow['outcome']; answered?: boolean; ended?: boolean; cause?: number | null }): Promise<void> {
    const at = this.now();
    await this.tx(async (tx) => {
      await this.calls.update(tx, callId, { consult });
      await this.calls.appendEvent(tx, callId, 'consult', at, data);
      const transferId = (data.transferId as string | undefined) ?? consult?.transferId;
      if (transfer && transferId) {
        await this.calls.updateTransfer(tx, transferId, {
          ...(transfer.outcome ? { outcome: transfer.outcome } : {}), ...(transfer.answered ? { answeredAt: at } : {}),
          ...(transfer.ended ? { endedAt: at } : {}), ...(transfer.cause !== undefined ? { cause: transfer.cause } : {}),
        });
      }
    });
  }

  async startConsult(callId: string, consult: ConsultInfo, by: string): Promise<void> {
    const at = this.now();
    await this.tx(async (tx) => {
      await this.lockExpecting(tx, callId, 'connected');
      await this.calls.insertTransfer(tx, {
        id: consult.transferId, callId, kind: consult.target.kind, target: consult.target.value, label: consult.target.label ?? null, mode: 'consult',
        channelId: consult.channelId, requestedBy: by, requestedAt: at, handOff: null,
      });
      await this.calls.update(tx, callId, { consult, held: true });
      await this.calls.appendEvent(tx, callId, 'consult', at, { step: 'dialing', transferId: consult.transferId, target: consult.target, by });
    });
  }

  /**
   * A blind transfer: the agent is released to wrap-up, and the caller goes to a queue (kept at
   * their original place) or waits while a number is dialled.
   */
  async transfer(callId: string, t: { id: string; kind: 'queue' | 'number' | 'agent'; target: string; label: string | null; channelId: string | null; by: string; handOff: Record<string, string> | null },
    queue?: { queueId: string; priority: number; holdingBridgeId: string }): Promise<CallRow> {
    const at = this.now();
    return this.tx(async (tx) => {
      const existing = await this.acd.lockEntry(tx, callId);
      const row = await this.lockExpecting(tx, callId, 'connected');
      const to: CallState = queue ? 'queued' : 'transferring';
      assertCallMove('connected', to);
      await this.wrapUp(tx, row);
      await this.calls.insertTransfer(tx, { id: t.id, callId, kind: t.kind, target: t.target, label: t.label, channelId: t.channelId, handOff: t.handOff, mode: 'blind', requestedBy: t.by, requestedAt: at, ...(queue ? { outcome: 'queued' as const } : {}) });
      const patch: CallPatch = { state: to, agentChannelId: null, bridgeId: null, held: false, consult: null };
      if (queue) {
        if (!existing) await this.acd.insertEntry(tx, { callId, queueId: queue.queueId, nodeId: row.nodeId, priority: queue.priority, enqueuedAt: row.queuedAt ?? at });
        Object.assign(patch, { queueId: queue.queueId, priority: queue.priority, holdingBridgeId: queue.holdingBridgeId });
      }
      await this.calls.update(tx, callId, patch);
      await this.calls.appendEvent(tx, callId, 'transfer', at, { transferId: t.id, kind: t.kind, target: t.target, label: t.label, by: t.by, fromAgentId: row.agentId });
      await this.outbox.append(tx, [{ type: 'call.transferred', payload: { callId, transferId: t.id, kind: t.kind, target: t.target, fromAgentId: row.agentId, at: at.toISOString() } }]);
      return { ...row, ...patch, state: to };
    });
  }

  /** The number a blind transfer dialled answered: the caller talks to it now. */
  async transferAnswered(callId: string, transferId: string, bridgeId: string): Promise<CallRow> {
    const at = this.now();
    return this.tx(async (tx) => {
      const row = await this.lockExpecting(tx, callId, 'transferring');
      assertCallMove('transferring', 'transferred');
      await this.calls.updateTransfer(tx, transferId, { answeredAt: at, outcome: 'connected' });
      await this.calls.update(tx, callId, { state: 'transferred', bridgeId });
      await this.calls.appendEvent(tx, callId, 'transfer', at, { transferId, step: 'answered' });
      return { ...row, state: 'transferred', bridgeId };
    });
  }

  async transferFailed(callId: string, transferId: string, cause: number | null): Promise<void> {
    const at = this.now();
    await this.tx(async (tx) => {
      await this.calls.updateTransfer(tx, transferId, { endedAt: at, outcome: 'failed', cause });
      await this.calls.appendEvent(tx, callId, 'transfer', at, { transferId, step: 'failed', cause });
    });
  }

  async monitorStarted(m: Omit<MonitorRow, 'endedAt' | 'startedAt'>): Promise<void> {
    const at = this.now();
    await this.tx(async (tx) => {
      await this.calls.insertMonitor(tx, { ...m, startedAt: at });
      await this.calls.appendEvent(tx, m.callId, 'monitor', at, { step: 'started', monitorId: m.id, mode: m.mode, supervisorId: m.supervisorId });
    });
  }

  async monitorEnded(m: Pick<MonitorRow, 'id' | 'callId'>): Promise<void> {
    const at = this.now();
    await this.tx(async (tx) => {
      if (await this.calls.endMonitor(tx, m.id, at)) await this.calls.appendEvent(tx, m.callId, 'monitor', at, { step: 'ended', monitorId: m.id });
    });
  }

  async endMonitorsOf(callId: string): Promise<void> {
    for (const m of await this.calls.monitors(this.db, callId)) if (!m.endedAt) await this.monitorEnded(m);
  }

  async openTransfer(callId: string): Promise<TransferRow | undefined> {
    return (await this.calls.transfers(this.db, callId)).filter((t) => t.endedAt === null && t.mode === 'blind').at(-1);
  }

  // --- Reads for the session (queue position, recovery).

  async entry(callId: string): Promise<EntryRow | undefined> {
    return this.acd.findEntry(this.db, callId);
  }

  async openOffer(callId: string): Promise<OfferRow | undefined> {
    return this.acd.openOfferOfCall(this.db, callId);
  }

  private async lockExpecting(tx: Tx, callId: string, expected: CallState): Promise<CallRow> {
    const row = await this.calls.lock(tx, callId);
    if (!row) throw new ConflictError(`Call ${callId} has no row`, 'call_not_found');
    if (row.state !== expected) throw new StaleCallStateError(callId, expected, row.state);
    return row;
  }

  /** A ringing agent whose offer ended: not ready (`no_answer`) if it was their phone's doing. True = now ready. */
  private async releaseAgent(tx: Tx, offer: OfferRow, outcome: OfferOutcome): Promise<boolean> {
    const blame = outcomeBlamesAgent(outcome);
    try {
      const view = await this.agentStates.changeInTx(tx, offer.agentId, blame ? 'not_ready' : 'ready', {
        ...(blame ? { reason: 'no_answer' as const } : {}), actor: { type: 'system', id: 'call-flow' }, expectedState: 'ringing', expectedCallId: offer.callId,
      });
      return view.state === 'ready';
    } catch (err) {
      // The agent moved on meanwhile (a supervisor logged them out): leave them as they are.
      if (isAgentMismatch(err)) return false;
      throw err;
    }
  }

  private async wrapUp(tx: Tx, row: CallRow): Promise<void> {
    if (!row.agentId) return;
    try {
      await this.agentStates.changeInTx(tx, row.agentId, 'wrap_up', {
        actor: { type: 'system', id: 'call-flow' }, expectedState: 'on_call', expectedCallId: row.id, wrapUpSeconds: await this.wrapUpSecondsOf(row.queueId),
      });
    } catch (err) {
      if (isAgentMismatch(err)) {
        this.logger.info({ callId: row.id, agentId: row.agentId }, 'agent no longer on this call; no wrap-up');
        return;
      }
      throw err;
    }
  }

  private localDay(at: Date): string {
    return formatLocalDate(localDayOf(at, SHANGHAI_UTC_OFFSET_MINUTES));
  }
}

function isAgentMismatch(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'agent_state_changed' || code === 'agent_call_mismatch';
}
