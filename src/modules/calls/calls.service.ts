/**
 * Call records for people: the list and the full record of a call (timeline, offers,
 * recordings, tickets, callback tasks), recording download, binding tickets, raising a waiting
 * caller's priority, callback tasks and caller profiles. Numbers are shown whole only to roles
 * that need them; reading a record or a recording is audited by the route.
 */
import type { Readable } from 'node:stream';
import type { Database } from '../../adapters/db/database.js';
import { priorityOf, type CallerFlag } from '../../domain/acd/index.js';
import { requireRole, type Principal, type Role } from '../../domain/auth.js';
import { HARASSMENT_ACTIONS, PROFILE_FLAGS, type HarassmentAction, type ProfileFlag } from '../../domain/calls/caller.js';
import type { CallDisposition, CallState } from '../../domain/calls/states.js';
import { CALL_DISPOSITION_LABELS, CALL_STATE_LABELS } from '../../domain/calls/states.js';
import { OFFER_OUTCOME_LABELS } from '../../domain/calls/offers.js';
import { ConflictError, ForbiddenError, NotFoundError, UnavailableError, ValidationError } from '../../domain/errors.js';
import { maskPhone } from '../../domain/phone.js';
import { normalizePhone } from '../citizens/phone.js';
import type { AcdRepository, EntryRow, OfferRow } from './acd.repository.js';
import type { CallLedger } from './calls.ledger.js';
import type { CallbackKind, CallbackStatus, CallbackTaskRow, CallDirection, CallerProfileRow, CallListFilter, CallRow, CallsRepository, RecordingRow } from './calls.repository.js';
import type { QueueDirectory } from './queue-directory.js';

const SUPERVISION: readonly Role[] = ['supervisor', 'admin'];
const RECORD_READERS: readonly Role[] = ['agent', 'supervisor', 'operator', 'admin'];
/** Roles that see callers' numbers whole (they call people back, or judge complaints). */
const FULL_NUMBERS: readonly Role[] = ['agent', 'supervisor', 'admin'];

export interface RecordingSource {
  /** The stored recording's bytes on the node that recorded it. */
  open(nodeId: string, name: string): Promise<Readable>;
}

export interface CallView {
  id: string;
  nodeId: string;
  direction: CallDirection;
  callerNumber: string;
  dialedNumber: string;
  state: CallState;
  stateLabel: string;
  flags: string[];
  priority: number | null;
  queueId: string | null;
  agentId: string | null;
  arrivedAt: string;
  queuedAt: string | null;
  connectedAt: string | null;
  endedAt: string | null;
  waitSeconds: number | null;
  talkSeconds: number | null;
  disposition: CallDisposition | null;
  dispositionLabel: string | null;
  hangupBy: string | null;
  hangupCause: number | null;
  surveyResult: string | null;
  transfer: Record<string, string> | null;
  ivrPath: CallRow['ivrPath'];
}

export interface CallDetail extends CallView {
  timeline: { at: string; type: string; data: Record<string, unknown> }[];
  offers: { id: string; agentId: string; extension: string; offeredAt: string; endedAt: string | null; outcome: string | null; outcomeLabel: string | null; cause: number | null }[];
  recordings: { name: string; format: string; startedAt: string; endedAt: string | null; durationSeconds: number | null; sizeBytes: number | null; state: string }[];
  ticketIds: string[];
  callbacks: CallbackTaskView[];
  transfers: { id: string; kind: string; target: string; label: string | null; mode: string; requestedBy: string | null; requestedAt: string; answeredAt: string | null; endedAt: string | null; outcome: string | null; cause: number | null }[];
  monitors: { id: string; supervisorId: string; mode: string; startedAt: string; endedAt: string | null }[];
}

export interface CallbackTaskView {
  id: string;
  kind: CallbackKind;
  phone: string;
  callId: string;
  lastCallId: string;
  queueId: string | null;
  priority: number | null;
  enqueuedAt: string | null;
  waitedSeconds: number;
  recordingName: string | null;
  day: string;
  attempts: number;
  status: CallbackStatus;
  createdAt: string;
}

export interface CallerProfileView {
  phone: string;
  flags: ProfileFlag[];
  harassmentAction: HarassmentAction;
  note: string | null;
  updatedAt: string;
}

export interface WaitingView {
  callId: string;
  position: number;
  priority: number;
  enqueuedAt: string;
  waitedSeconds: number;
  state: 'waiting' | 'offered';
  callerNumber: string;
}

export class CallsService {
  constructor(
    private readonly db: Database,
    private readonly repo: CallsRepository,
    private readonly acdRepo: AcdRepository,
    private readonly ledger: CallLedger,
    private readonly queues: QueueDirectory,
    private readonly recordingSource: RecordingSource | undefined,
    private readonly now: () => Date,
    /** Tells the ACD a caller's priority went up (they may now come first). */
    private readonly onPriorityRaised: (callId: string) => void,
  ) {}

  async list(actor: Principal, f: Omit<CallListFilter, 'callerNumber'> & { callerPhone?: string | undefined }): Promise<CallView[]> {
    requireRole(actor, RECORD_READERS);
    if (f.from && f.to && f.from >= f.to) throw new ValidationError('from must be before to', { field: 'from' }, 'invalid_time_range');
    // Agents see the calls they handled.
    const agentId = actor.role === 'agent' ? actor.id : f.agentId;
    if (actor.role === 'agent' && f.agentId && f.agentId !== actor.id) throw new ForbiddenError('Agents see their own calls', 'call_forbidden');
    const callerNumber = f.callerPhone ? normalizePhone(f.callerPhone, 'callerPhone') : undefined;
    const rows = await this.repo.list(this.db, { ...f, agentId, callerNumber });
    return rows.map((r) => this.view(r, actor));
  }

  async get(actor: Principal, id: string): Promise<CallDetail> {
    const row = await this.readable(actor, id);
    const [events, offers, recordings, ticketIds, tasks, transfers, monitors] = await Promise.all([
      this.repo.events(this.db, id), this.acdRepo.offersOfCall(this.db, id), this.repo.recordings(this.db, id), this.repo.ticketIds(this.db, id), this.repo.tasksOfCall(this.db, id),
      this.repo.transfers(this.db, id), this.repo.monitors(this.db, id),
    ]);
    const full = FULL_NUMBERS.includes(actor.role);
    return {
      ...this.view(row, actor),
      timeline: events.map((e) => ({ at: e.at.toISOString(), type: e.type, data: full ? e.data : maskData(e.data) })),
      offers: offers.map(offerView),
      recordings: recordings.map(recordingView),
      ticketIds,
      callbacks: tasks.map((t) => taskView(t, full)),
      transfers: transfers.map((t) => ({
        id: t.id, kind: t.kind, target: full || t.kind !== 'number' ? t.target : maskPhone(t.target), label: t.label, mode: t.mode, requestedBy: t.requestedBy,
        requestedAt: t.requestedAt.toISOString(), answeredAt: iso(t.answeredAt), endedAt: iso(t.endedAt), outcome: t.outcome, cause: t.cause,
      })),
      monitors: monitors.map((m) => ({ id: m.id, supervisorId: m.supervisorId, mode: m.mode, startedAt: m.startedAt.toISOString(), endedAt: iso(m.endedAt) })),
    };
  }

  /** The recording's bytes, streamed from the Asterisk node that made it. */
  async recording(actor: Principal, callId: string, name: string): Promise<{ stream: Readable; recording: RecordingRow }> {
    requireRole(actor, SUPERVISION);
    const rec = await this.repo.findRecording(this.db, name);
    if (!rec || rec.callId !== callId) throw new NotFoundError('Recording', name, 'recording_not_found');
    if (rec.state === 'recording') throw new ConflictError('The recording is still being made', 'recording_in_progress');
    if (rec.state === 'failed') throw new ConflictError('The recording failed; there is no file', 'recording_failed');
    if (!this.recordingSource) throw new UnavailableError('Telephony is not configured (ARI_URL): recordings are on Asterisk', 'telephony_disabled');
    return { stream: await this.recordingSource.open(rec.nodeId, rec.name), recording: rec };
  }

  /** A ticket produced by, or about, this call (several per call; a ticket may have several calls). */
  async bindTicket(actor: Principal, callId: string, ticketId: string): Promise<{ callId: string; ticketIds: string[] }> {
    const row = await this.readable(actor, callId);
    if (!(await this.repo.ticketExists(this.db, ticketId))) throw new NotFoundError('Ticket', ticketId, 'ticket_not_found');
    if (await this.repo.bindTicket(this.db, row.id, ticketId, actor.id)) await this.ledger.note(row.id, 'ticket_bound', { ticketId, by: actor.id });
    return { callId, ticketIds: await this.repo.ticketIds(this.db, callId) };
  }

  /** A supervisor moves a waiting caller up to a higher priority class (never down). */
  async raisePriority(actor: Principal, callId: string, input: { priorityClass: 'assisted' | 'emergency'; reason: string }): Promise<WaitingView> {
    requireRole(actor, SUPERVISION);
    const entry = await this.acdRepo.findEntry(this.db, callId);
    if (!entry) throw new ConflictError('The caller is not waiting in a queue', 'call_not_queued');
    const queue = await this.queues.get(entry.queueId);
    const row = await this.repo.find(this.db, callId);
    const flags: CallerFlag[] = [...((row?.flags ?? []) as CallerFlag[]), input.priorityClass === 'emergency' ? 'emergency_linkage' : 'assisted'];
    const priority = priorityOf(flags, queue?.priorityRules ?? []);
    const updated = await this.ledger.raisePriority(callId, priority, actor.id);
    this.onPriorityRaised(callId);
    return this.waitingView(updated, await this.acdRepo.countAhead(this.db, updated), row?.callerNumber ?? '', actor);
  }

  /** Callers waiting in a queue, in serving order (the supervisor's queue view). */
  async waiting(actor: Principal, queueId: string, limit: number): Promise<WaitingView[]> {
    requireRole(actor, SUPERVISION);
    if (!(await this.queues.get(queueId))) throw new NotFoundError('Queue', queueId, 'queue_not_found');
    const entries = await this.acdRepo.waitingInQueue(this.db, queueId, limit);
    const rows = await Promise.all(entries.map((e) => this.repo.find(this.db, e.callId)));
    return entries.map((e, i) => this.waitingView(e, i, rows[i]?.callerNumber ?? '', actor));
  }

  // --- Callback tasks.

  async tasks(actor: Principal, f: { status?: CallbackStatus; kind?: CallbackKind; after?: string; limit: number }): Promise<CallbackTaskView[]> {
    requireRole(actor, ['agent', 'supervisor', 'admin']);
    let after: { createdAt: Date; id: string } | undefined;
    if (f.after) {
      const t = await this.repo.findTask(this.db, f.after);
      if (!t) throw new ValidationError('Unknown cursor', { field: 'after' }, 'invalid_cursor');
      after = { createdAt: t.createdAt, id: t.id };
    }
    return (await this.repo.tasks(this.db, { ...f, after })).map((t) => taskView(t, true));
  }

  async setTaskStatus(actor: Principal, id: string, status: Exclude<CallbackStatus, 'open'>): Promise<CallbackTaskView> {
    requireRole(actor, ['agent', 'supervisor', 'admin']);
    const t = await this.repo.findTask(this.db, id);
    if (!t) throw new NotFoundError('Callback task', id, 'callback_not_found');
    if (t.status !== 'open') throw new ConflictError(`The task is already ${t.status}`, 'callback_closed', { taskStatus: t.status });
    await this.repo.setTaskStatus(this.db, id, status);
    return taskView({ ...t, status }, true);
  }

  // --- Caller profiles.

  async profile(actor: Principal, phone: string): Promise<CallerProfileView> {
    requireRole(actor, SUPERVISION);
    const p = await this.repo.profile(this.db, normalizePhone(phone));
    if (!p) throw new NotFoundError('Caller profile', maskPhone(phone), 'caller_profile_not_found');
    return profileView(p);
  }

  async putProfile(actor: Principal, phone: string, input: { flags: string[]; harassmentAction?: string; note?: string | null }): Promise<CallerProfileView> {
    requireRole(actor, SUPERVISION);
    const bad = input.flags.filter((f) => !(PROFILE_FLAGS as readonly string[]).includes(f));
    if (bad.length) throw new ValidationError(`Unknown caller flags: ${bad.join(', ')}`, { field: 'flags', allowed: [...PROFILE_FLAGS] }, 'unknown_caller_flag');
    const action = input.harassmentAction ?? 'warn';
    if (!(HARASSMENT_ACTIONS as readonly string[]).includes(action)) throw new ValidationError(`harassmentAction must be one of ${HARASSMENT_ACTIONS.join(', ')}`, { field: 'harassmentAction' }, 'invalid_harassment_action');
    const p = await this.repo.upsertProfile(this.db, {
      phone: normalizePhone(phone), flags: [...new Set(input.flags)], harassmentAction: action as HarassmentAction, note: input.note ?? null, updatedBy: actor.kind === 'user' ? actor.id : null,
    });
    return profileView(p);
  }

  async deleteProfile(actor: Principal, phone: string): Promise<void> {
    requireRole(actor, SUPERVISION);
    if (!(await this.repo.deleteProfile(this.db, normalizePhone(phone)))) throw new NotFoundError('Caller profile', maskPhone(phone), 'caller_profile_not_found');
  }

  // --- Helpers.

  private async readable(actor: Principal, id: string): Promise<CallRow> {
    requireRole(actor, RECORD_READERS);
    const row = await this.repo.find(this.db, id);
    if (!row) throw new NotFoundError('Call', id, 'call_not_found');
    if (actor.role === 'agent' && row.agentId !== actor.id) {
      const offered = (await this.acdRepo.offersOfCall(this.db, id)).some((o) => o.agentId === actor.id);
      if (!offered) throw new ForbiddenError('Agents see the calls offered to them', 'call_forbidden');
    }
    return row;
  }

  private view(r: CallRow, actor: Principal): CallView {
    const full = FULL_NUMBERS.includes(actor.role);
    const end = r.endedAt ?? this.now();
    return {
      id: r.id, nodeId: r.nodeId, direction: r.direction,
      callerNumber: full ? r.callerNumber : maskPhone(r.callerNumber), dialedNumber: r.dialedNumber,
      state: r.state, stateLabel: CALL_STATE_LABELS[r.state], flags: r.flags, priority: r.priority, queueId: r.queueId, agentId: r.agentId,
      arrivedAt: r.arrivedAt.toISOString(), queuedAt: iso(r.queuedAt), connectedAt: iso(r.connectedAt), endedAt: iso(r.endedAt),
      waitSeconds: r.queuedAt ? seconds((r.connectedAt ?? end).getTime() - r.queuedAt.getTime()) : null,
      talkSeconds: r.connectedAt ? seconds(end.getTime() - r.connectedAt.getTime()) : null,
      disposition: r.disposition, dispositionLabel: r.disposition ? CALL_DISPOSITION_LABELS[r.disposition] : null,
      hangupBy: r.hangupBy, hangupCause: r.hangupCause, surveyResult: r.surveyResult,
      transfer: r.transfer && !full ? { ...r.transfer, ...(r.transfer.originalCaller ? { originalCaller: maskPhone(r.transfer.originalCaller) } : {}) } : r.transfer,
      ivrPath: r.ivrPath,
    };
  }

  private waitingView(e: EntryRow, position: number, callerNumber: string, actor: Principal): WaitingView {
    return {
      callId: e.callId, position, priority: e.priority, enqueuedAt: e.enqueuedAt.toISOString(), waitedSeconds: seconds(this.now().getTime() - e.enqueuedAt.getTime()),
      state: e.state, callerNumber: FULL_NUMBERS.includes(actor.role) ? callerNumber : maskPhone(callerNumber),
    };
  }
}

function iso(d: Date | null): string | null {
  return d ? d.toISOString() : null;
}

function seconds(ms: number): number {
  return Math.max(0, Math.round(ms / 1000));
}

function maskData(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) out[k] = typeof v === 'string' && /^\+?\d{7,}$/.test(v) ? maskPhone(v) : v;
  return out;
}

function offerView(o: OfferRow): CallDetail['offers'][number] {
  return {
    id: o.id, agentId: o.agentId, extension: o.extension, offeredAt: o.offeredAt.toISOString(), endedAt: iso(o.endedAt),
    outcome: o.outcome, outcomeLabel: o.outcome ? OFFER_OUTCOME_LABELS[o.outcome] : null, cause: o.cause,
  };
}

function recordingView(r: RecordingRow): CallDetail['recordings'][number] {
  return { name: r.name, format: r.format, startedAt: r.startedAt.toISOString(), endedAt: iso(r.endedAt), durationSeconds: r.durationSeconds, sizeBytes: r.sizeBytes, state: r.state };
}

function taskView(t: CallbackTaskRow, full: boolean): CallbackTaskView {
  return {
    id: t.id, kind: t.kind, phone: full ? t.phone : maskPhone(t.phone), callId: t.callId, lastCallId: t.lastCallId, queueId: t.queueId, priority: t.priority,
    enqueuedAt: iso(t.enqueuedAt), waitedSeconds: t.waitedSeconds, recordingName: t.recordingName, day: t.day, attempts: t.attempts, status: t.status, createdAt: t.createdAt.toISOString(),
  };
}

function profileView(p: CallerProfileRow): CallerProfileView {
  return { phone: p.phone, flags: p.flags as ProfileFlag[], harassmentAction: p.harassmentAction, note: p.note, updatedAt: p.updatedAt.toISOString() };
}
