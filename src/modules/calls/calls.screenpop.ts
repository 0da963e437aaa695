/**
 * What an agent's desktop shows of a call: the screen-pop when it is offered (caller, history,
 * IVR path, wait, hand-off data, the draft ticket bound to the call), the call events after it,
 * and the current call for a desktop that reconnects. Messages go through the desktop module's
 * per-agent log, so a desktop that was away gets them on resume.
 */
import type { Logger } from 'pino';
import type { Executor, Database } from '../../adapters/db/database.js';
import { callerNumberForDesktop } from '../../domain/calls/caller.js';
import { allowedCommands } from '../../domain/calls/control.js';
import { TICKET_STATUS_LABELS, type TicketStatus } from '../../domain/tickets/model.js';
import { callerPhone } from '../citizens/phone.js';
import type { AcdOffer } from './acd.service.js';
import type { CallerHistory, CallRow, CallsRepository } from './calls.repository.js';
import type { CallSession, DesktopPort } from './calls.session.js';
import type { QueueDirectory } from './queue-directory.js';

/** The desktop module's side, as the calls module uses it. */
export interface DesktopSink {
  record(db: Executor, agentId: string, type: string, payload: Record<string, unknown>): Promise<unknown>;
  deliver(msg: never): void;
}

export interface DraftTickets {
  /** The call's draft ticket (made on the first offer, bound to the call); null when the number is withheld. */
  draftFor(row: CallRow, agentId: string, firstOffer: boolean): Promise<string | null>;
  /** The call ended: an untouched draft is cancelled. */
  callEnded(callId: string): Promise<void>;
}

/** What the pop of a call needs besides the offer: the stored row and the caller's history. */
interface PopContext {
  readonly row: CallRow;
  readonly history: CallerHistory;
}

const NO_HISTORY: CallerHistory = Object.freeze({ confidential: false, earlierCalls: 0, tickets: [] });
/** A context prepared while the caller waited is used for offers within this long. */
const CONTEXT_TTL_MS = 60_000;
/** How long after a caller is queued their pop's context is read (`prepare`). */
const PREPARE_AFTER_MS = 250;
/** Contexts kept at most (calls end and drop theirs; this bounds what a lost end leaves). */
const MAX_CONTEXTS = 20_000;

export class ScreenPops implements DesktopPort {
  private readonly contexts = new Map<string, { at: number; context: Promise<PopContext> }>();
  /** Queued calls whose context is read shortly (`prepare`). */
  private readonly preparing = new Map<string, NodeJS.Timeout>();
  /** Calls this instance made a draft ticket for (a later offer looks for it first). */
  private readonly drafted = new Set<string>();

  constructor(
    private readonly db: Database,
    private readonly calls: CallsRepository,
    private readonly queues: QueueDirectory,
    private readonly sink: DesktopSink | undefined,
    private readonly drafts: DraftTickets | undefined,
    private readonly session: (callId: string) => CallSession | undefined,
    private readonly log: Logger,
  ) {}

  /**
   * The caller is queued: read what the pop will show while they wait, so that the offer only
   * has to bind the draft ticket and store the message. Not at once: the ACD's pass for this
   * caller runs now, and these reads slowed it (a caller with an agent free is offered within
   * milliseconds, and that offer reads the context itself).
   */
  prepare(row: CallRow): void {
    if (!this.sink || this.preparing.has(row.id)) return;
    const timer = setTimeout(() => {
      this.preparing.delete(row.id);
      void this.context(row).catch(() => undefined); // the offer reads it again
    }, PREPARE_AFTER_MS);
    timer.unref();
    this.preparing.set(row.id, timer);
  }

  offered(row: CallRow, offer: AcdOffer, extra: { awaitingAnswer: boolean; waitSeconds: number | null }): void {
    if (!this.sink) return;
    const o = { offerId: offer.offerId, ringTimeoutSeconds: offer.ringTimeoutSeconds, awaitingAnswer: extra.awaitingAnswer, waitSeconds: extra.waitSeconds, extension: offer.extension, agentId: offer.agentId };
    void this.context(row)
      // What changes while a caller waits (the queue after an overflow) comes from the session.
      .then((ctx) => this.build({ ...ctx, row: { ...ctx.row, queueId: row.queueId ?? ctx.row.queueId } }, row.state, o))
      .then((pop) => this.push(offer.agentId, 'call.offered', { ...pop, offeredAt: offer.offeredAt.toISOString() }))
      .catch((err: unknown) => this.log.error({ err, callId: row.id }, 'screen-pop failed'));
  }

  send(agentId: string, type: string, payload: Record<string, unknown>): void {
    if (!this.sink) return;
    void this.push(agentId, type, payload).catch((err: unknown) => this.log.warn({ err, type }, 'desktop message failed'));
  }

  /** The agent's call now (ringing, connected, transferring…), for a desktop's snapshot. */
  async currentCallView(agentId: string): Promise<Record<string, unknown> | null> {
    const row = await this.calls.currentOfAgent(this.db, agentId);
    if (!row) return null;
    const waitSeconds = row.queuedAt ? Math.round(((row.connectedAt ?? new Date()).getTime() - row.queuedAt.getTime()) / 1000) : null;
    const ctx = { row, history: await this.history(row) };
    return this.build(ctx, row.state, { offerId: null, ringTimeoutSeconds: null, awaitingAnswer: false, waitSeconds, extension: null, agentId });
  }

  private async push(agentId: string, type: string, payload: Record<string, unknown>): Promise<void> {
    const msg = await this.sink!.record(this.db, agentId, type, payload);
    this.sink!.deliver(msg as never);
  }

  callEnded(callId: string): void {
    clearTimeout(this.preparing.get(callId));
    this.preparing.delete(callId);
    this.contexts.delete(callId);
    this.drafted.delete(callId);
    if (!this.drafts) return;
    void this.drafts.callEnded(callId).catch((err: unknown) => this.log.warn({ err, callId }, 'could not settle the call\'s draft ticket'));
  }

  private context(sessionRow: CallRow): Promise<PopContext> {
    const now = Date.now();
    const hit = this.contexts.get(sessionRow.id);
    if (hit && now - hit.at < CONTEXT_TTL_MS) return hit.context;
    const context = (async () => {
      // The stored row: the session's copy does not follow every column (the IVR path, say).
      const row = (await this.calls.find(this.db, sessionRow.id)) ?? sessionRow;
      return { row, history: await this.history(row) };
    })();
    this.contexts.delete(sessionRow.id);
    this.contexts.set(sessionRow.id, { at: now, context });
    context.catch(() => {
      if (this.contexts.get(sessionRow.id)?.context === context) this.contexts.delete(sessionRow.id);
    });
    if (this.contexts.size > MAX_CONTEXTS) this.contexts.delete(this.contexts.keys().next().value!);
    return context;
  }

  private history(row: CallRow): Promise<CallerHistory> {
    const phone = callerPhone(row.callerNumber);
    if (!phone) return Promise.resolve(NO_HISTORY);
    return this.calls.callerHistory(this.db, { phone, callerNumber: row.callerNumber, since: new Date(Date.now() - 24 * 3_600_000), exceptCallId: row.id, limit: 5 });
  }

  private async build(ctx: PopContext, state: CallRow['state'], o: { offerId: string | null; ringTimeoutSeconds: number | null; awaitingAnswer: boolean; waitSeconds: number | null; extension: string | null; agentId: string }): Promise<Record<string, unknown>> {
    const { row, history } = ctx;
    const [queue, draftTicketId, ticketIds] = await Promise.all([
      row.queueId ? this.queues.get(row.queueId) : Promise.resolve(undefined),
      this.drafts ? this.drafts.draftFor(row, o.agentId, o.offerId !== null && !this.drafted.has(row.id)).catch((err: unknown) => {
        this.log.warn({ err, callId: row.id }, 'draft ticket failed');
        return null;
      }) : Promise.resolve(null),
      this.calls.ticketIds(this.db, row.id),
    ]);
    if (draftTicketId && o.offerId !== null) {
      this.drafted.add(row.id);
      if (this.drafted.size > MAX_CONTEXTS) this.drafted.delete(this.drafted.values().next().value!);
    }
    // The draft is bound in its own transaction, which may commit after the bindings were read.
    const bound = draftTicketId && !ticketIds.includes(draftTicketId) ? [...ticketIds, draftTicketId] : ticketIds;
    const session = this.session(row.id);
    const control = session?.controlView() ?? { call: state, held: row.held, consult: row.consult?.state ?? 'none', awaitingAnswer: o.awaitingAnswer };
    return {
      callId: row.id,
      offerId: o.offerId,
      state,
      direction: row.direction,
      caller: { number: callerNumberForDesktop(row.callerNumber, history.confidential), name: history.confidential ? null : row.callerName || null, confidential: history.confidential },
      flags: row.flags,
      history: {
        earlierCallsToday: history.earlierCalls,
        repeatCaller: row.flags.includes('repeat_caller'),
        recentTickets: history.tickets.map((t) => ({ id: t.id, number: t.number, title: t.title, type: t.type, status: t.status, statusLabel: TICKET_STATUS_LABELS[t.status as TicketStatus] ?? t.status, createdAt: t.createdAt.toISOString() })),
        openTickets: history.tickets.filter((t) => ['accepted', 'dispatched', 'returned', 'in_progress', 'replied'].includes(t.status)).length,
      },
      ivrPath: row.ivrPath,
      queue: queue ? { id: queue.id, code: queue.code, name: queue.name } : null,
      waitSeconds: o.waitSeconds,
      handOff: row.transfer,
      draftTicketId,
      ticketIds: bound,
      ringTimeoutSeconds: o.ringTimeoutSeconds,
      awaitingAnswer: o.awaitingAnswer,
      extension: o.extension,
      control: { ...control, allowed: allowedCommands(control) },
    };
  }
}
