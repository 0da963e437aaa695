/**
 * SQL of call records: the call row, its timeline, recordings, bound tickets, callback tasks and
 * caller profiles. Services own the transactions.
 */
import { sql } from 'kysely';
import { PREPARED, prepared, type Executor, type Tx } from '../../adapters/db/database.js';
import type { CallDisposition, CallEventType, CallState, HangupParty } from '../../domain/calls/states.js';
import type { SurveyResult } from '../../domain/calls/announcements.js';

export type CallDirection = 'inbound' | 'transfer_in';

export interface IvrStep {
  node: string;
  digit: string | null;
  action: string;
  at: string;
}

export interface CallRow {
  id: string;
  nodeId: string;
  channelId: string;
  centreId: string;
  direction: CallDirection;
  callerNumber: string;
  callerName: string;
  dialedNumber: string;
  language: string;
  state: CallState;
  flags: string[];
  priority: number | null;
  queueId: string | null;
  agentId: string | null;
  agentChannelId: string | null;
  holdingBridgeId: string | null;
  bridgeId: string | null;
  transfer: Record<string, string> | null;
  ivrPath: IvrStep[];
  arrivedAt: Date;
  answeredAt: Date | null;
  queuedAt: Date | null;
  connectedAt: Date | null;
  endedAt: Date | null;
  disposition: CallDisposition | null;
  hangupBy: HangupParty | null;
  hangupCause: number | null;
  hangupCauseText: string | null;
  surveyResult: SurveyResult | null;
  held: boolean;
  consult: ConsultInfo | null;
  version: number;
}

export interface ConsultInfo {
  channelId: string;
  state: 'dialing' | 'talking' | 'conference';
  transferId: string;
  target: { kind: 'agent' | 'number'; value: string; label?: string | undefined };
}

export interface TransferRow {
  id: string;
  callId: string;
  kind: 'queue' | 'number' | 'agent';
  target: string;
  label: string | null;
  mode: 'blind' | 'consult';
  channelId: string | null;
  requestedBy: string | null;
  requestedAt: Date;
  answeredAt: Date | null;
  endedAt: Date | null;
  outcome: 'queued' | 'connected' | 'failed' | 'cancelled' | 'conferenced' | 'completed' | null;
  cause: number | null;
  handOff: Record<string, string> | null;
}

export interface MonitorRow {
  id: string;
  callId: string;
  supervisorId: string;
  mode: 'monitor' | 'whisper' | 'barge';
  snoopChannelId: string | null;
  supervisorChannelId: string;
  startedAt: Date;
  endedAt: Date | null;
}

export type NewCallRow = Pick<CallRow, 'id' | 'nodeId' | 'channelId' | 'direction' | 'callerNumber' | 'callerName' | 'dialedNumber' | 'language' | 'transfer' | 'arrivedAt'>;

export type CallPatch = Partial<Omit<CallRow, 'id' | 'nodeId' | 'channelId' | 'version' | 'arrivedAt'>>;

export interface CallEventRow {
  id: string;
  callId: string;
  at: Date;
  type: CallEventType;
  data: Record<string, unknown>;
}

export interface RecordingRow {
  name: string;
  callId: string;
  nodeId: string;
  format: string;
  startedAt: Date;
  endedAt: Date | null;
  durationSeconds: number | null;
  sizeBytes: number | null;
  state: 'recording' | 'done' | 'failed';
}

export type CallbackKind = 'missed' | 'requested' | 'overflow' | 'voicemail';
export type CallbackStatus = 'open' | 'done' | 'dismissed';

export interface CallbackTaskRow {
  id: string;
  kind: CallbackKind;
  callId: string;
  lastCallId: string;
  phone: string;
  queueId: string | null;
  priority: number | null;
  enqueuedAt: Date | null;
  waitedSeconds: number;
  recordingName: string | null;
  day: string;
  attempts: number;
  status: CallbackStatus;
  createdAt: Date;
  updatedAt: Date;
}

export interface CallerProfileRow {
  phone: string;
  flags: string[];
  harassmentAction: 'warn' | 'disconnect';
  note: string | null;
  updatedBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface CallListFilter {
  from?: Date | undefined;
  to?: Date | undefined;
  queueId?: string | undefined;
  agentId?: string | undefined;
  callerNumber?: string | undefined;
  disposition?: CallDisposition | undefined;
  state?: CallState | undefined;
  direction?: CallDirection | undefined;
  ticketId?: string | undefined;
  /** Keyset: calls that arrived before this (arrivedAt, id). */
  before?: { arrivedAt: Date; id: string } | undefined;
  limit: number;
}

const CALL_COLUMNS = [
  'id', 'nodeId', 'channelId', 'centreId', 'direction', 'callerNumber', 'callerName', 'dialedNumber', 'language', 'state', 'flags', 'priority',
  'queueId', 'agentId', 'agentChannelId', 'holdingBridgeId', 'bridgeId', 'transfer', 'ivrPath', 'arrivedAt', 'answeredAt', 'queuedAt',
  'connectedAt', 'endedAt', 'disposition', 'hangupBy', 'hangupCause', 'hangupCauseText', 'surveyResult', 'held', 'consult', 'version',
] as const;
const TRANSFER_COLUMNS = ['id', 'callId', 'kind', 'target', 'label', 'mode', 'channelId', 'requestedBy', 'requestedAt', 'answeredAt', 'endedAt', 'outcome', 'cause', 'handOff'] as const;
const RECORDING_COLUMNS = ['name', 'callId', 'nodeId', 'format', 'startedAt', 'endedAt', 'durationSeconds', 'sizeBytes', 'state'] as const;
const TASK_COLUMNS = [
  'id', 'kind', 'callId', 'lastCallId', 'phone', 'queueId', 'priority', 'enqueuedAt', 'waitedSeconds', 'recordingName', 'day', 'attempts', 'status', 'createdAt', 'updatedAt',
] as const;

function toCall(r: Record<string, unknown>): CallRow {
  return r as unknown as CallRow;
}

function toRecording(r: { sizeBytes: string | number | bigint | null } & Record<string, unknown>): RecordingRow {
  return { ...(r as unknown as RecordingRow), sizeBytes: r.sizeBytes === null ? null : Number(r.sizeBytes) };
}

function toTask(r: Record<string, unknown>): CallbackTaskRow {
  const day = r.day as Date | string;
  return { ...(r as unknown as CallbackTaskRow), day: typeof day === 'string' ? day : localDate(day) };
}

/** A DATE column read back as midnight UTC by pg; format it without shifting. */
function localDate(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

export interface CallerHistory {
  readonly confidential: boolean;
  readonly earlierCalls: number;
  readonly tickets: { id: string; number: string; title: string; status: string; type: string; createdAt: Date }[];
}

export class CallsRepository {
  /** The call row for a new channel; an existing row (a duplicate StasisStart) is returned as is. */
  async insert(db: Executor, c: NewCallRow): Promise<{ row: CallRow; created: boolean }> {
    const inserted = await db.insertInto('calls')
      .values({ ...c, transfer: c.transfer ? JSON.stringify(c.transfer) : null, state: 'arrived' })
      .onConflict((oc) => oc.columns(['nodeId', 'channelId']).doNothing())
      .returning(CALL_COLUMNS).executeTakeFirst();
    if (inserted) return { row: toCall(inserted), created: true };
    const existing = await db.selectFrom('calls').select(CALL_COLUMNS).where('nodeId', '=', c.nodeId).where('channelId', '=', c.channelId).executeTakeFirstOrThrow();
    return { row: toCall(existing), created: false };
  }

  async find(db: Executor, id: string): Promise<CallRow | undefined> {
    const r = await db.selectFrom('calls').select(CALL_COLUMNS).where('id', '=', id).executeTakeFirst();
    return r ? toCall(r) : undefined;
  }

  async lock(tx: Tx, id: string): Promise<CallRow | undefined> {
    const r = await tx.selectFrom('calls').select(CALL_COLUMNS).where('id', '=', id).forUpdate().executeTakeFirst();
    return r ? toCall(r) : undefined;
  }

  /** Calls on a node that have not ended: what a resync compares with Asterisk's channels. */
  async liveOnNode(db: Executor, nodeId: string): Promise<CallRow[]> {
    return (await db.selectFrom('calls').select(CALL_COLUMNS).where('nodeId', '=', nodeId).where('state', '<>', 'ended').orderBy('arrivedAt').execute()).map(toCall);
  }

  async update(db: Executor, id: string, patch: CallPatch): Promise<void> {
    const { transfer, ivrPath, consult, ...rest } = patch;
    await db.updateTable('calls').set({
      ...rest,
      ...(transfer !== undefined ? { transfer: transfer ? JSON.stringify(transfer) : null } : {}),
      ...(ivrPath !== undefined ? { ivrPath: JSON.stringify(ivrPath) } : {}),
      ...(consult !== undefined ? { consult: consult ? JSON.stringify(consult) : null } : {}),
      version: sql<number>`version + 1`,
      updatedAt: sql<Date>`now()`,
    }).where('id', '=', id).execute();
  }

  async appendIvrStep(db: Executor, id: string, step: IvrStep): Promise<void> {
    await db.updateTable('calls').set({
      ivrPath: sql`ivr_path || ${JSON.stringify([step])}::jsonb`,
      version: sql<number>`version + 1`,
      updatedAt: sql<Date>`now()`,
    }).where('id', '=', id).execute();
  }

  async appendEvent(db: Executor, callId: string, type: CallEventType, at: Date, data: Record<string, unknown> = {}): Promise<void> {
    await db.insertInto('callEvents').values({ callId, type, at, data: JSON.stringify(data) }).execute();
  }

  async events(db: Executor, callId: string): Promise<CallEventRow[]> {
    const rows = await db.selectFrom('callEvents').select(['id', 'callId', 'at', 'type', 'data']).where('callId', '=', callId).orderBy('id').execute();
    return rows.map((r) => ({ id: String(r.id), callId: r.callId, at: r.at, type: r.type as CallEventType, data: r.data as Record<string, unknown> }));
  }

  async list(db: Executor, f: CallListFilter): Promise<CallRow[]> {
    let q = db.selectFrom('calls').select(CALL_COLUMNS).orderBy('arrivedAt', 'desc').orderBy('id', 'desc').limit(f.limit);
    if (f.from) q = q.where('arrivedAt', '>=', f.from);
    if (f.to) q = q.where('arrivedAt', '<', f.to);
    if (f.queueId) q = q.where('queueId', '=', f.queueId);
    if (f.agentId) q = q.where('agentId', '=', f.agentId);
    if (f.callerNumber) q = q.where('callerNumber', '=', f.callerNumber);
    if (f.disposition) q = q.where('disposition', '=', f.disposition);
    if (f.state) q = q.where('state', '=', f.state);
    if (f.direction) q = q.where('direction', '=', f.direction);
    if (f.ticketId) {
      const ticketId = f.ticketId;
      q = q.where((eb) => eb.exists(eb.selectFrom('callTickets as t').select(sql`1`.as('one')).whereRef('t.callId', '=', 'calls.id').where('t.ticketId', '=', ticketId)));
    }
    if (f.before) {
      const b = f.before;
      q = q.where((eb) => eb.or([eb('arrivedAt', '<', b.arrivedAt), eb.and([eb('arrivedAt', '=', b.arrivedAt), eb('id', '<', b.id)])]));
    }
    return (await q.execute()).map(toCall);
  }

  // --- Recordings.

  async insertRecording(db: Executor, r: Pick<RecordingRow, 'name' | 'callId' | 'nodeId' | 'format' | 'startedAt'>): Promise<void> {
    await db.insertInto('callRecordings').values(r).onConflict((oc) => oc.column('name').doNothing()).execute();
  }

  async finishRecording(db: Executor, name: string, patch: { state: 'done' | 'failed'; endedAt: Date; durationSeconds?: number | null; sizeBytes?: number | null }): Promise<void> {
    await db.updateTable('callRecordings').set({
      state: patch.state, endedAt: patch.endedAt,
      ...(patch.durationSeconds !== undefined ? { durationSeconds: patch.durationSeconds } : {}),
      ...(patch.sizeBytes !== undefined ? { sizeBytes: patch.sizeBytes } : {}),
    }).where('name', '=', name).execute();
  }

  async setRecordingSize(db: Executor, name: string, sizeBytes: number): Promise<void> {
    await db.updateTable('callRecordings').set({ sizeBytes }).where('name', '=', name).execute();
  }

  async recordings(db: Executor, callId: string): Promise<RecordingRow[]> {
    return (await db.selectFrom('callRecordings').select(RECORDING_COLUMNS).where('callId', '=', callId).orderBy('startedAt').execute()).map(toRecording);
  }

  async findRecording(db: Executor, name: string): Promise<RecordingRow | undefined> {
    const r = await db.selectFrom('callRecordings').select(RECORDING_COLUMNS).where('name', '=', name).executeTakeFirst();
    return r ? toRecording(r) : undefined;
  }

  // --- Transfers and monitoring.

  async insertTransfer(db: Executor, t: Pick<TransferRow, 'id' | 'callId' | 'kind' | 'target' | 'label' | 'mode' | 'channelId' | 'requestedBy' | 'requestedAt' | 'handOff'> & { outcome?: TransferRow['outcome'] }): Promise<void> {
    await db.insertInto('callTransfers').values({ ...t, handOff: t.handOff ? JSON.stringify(t.handOff) : null, outcome: t.outcome ?? null }).execute();
  }

  async updateTransfer(db: Executor, id: string, patch: Partial<Pick<TransferRow, 'answeredAt' | 'endedAt' | 'outcome' | 'cause'>>): Promise<void> {
    await db.updateTable('callTransfers').set(patch).where('id', '=', id).execute();
  }

  /** Closes every open transfer of the call (the call ended). */
  async closeTransfers(db: Executor, callId: string, at: Date): Promise<void> {
    await db.updateTable('callTransfers').set((eb) => ({ endedAt: at, outcome: eb.fn.coalesce('outcome', sql<string>`'completed'`) })).where('callId', '=', callId).where('endedAt', 'is', null).execute();
  }

  async transfers(db: Executor, callId: string): Promise<TransferRow[]> {
    return (await db.selectFrom('callTransfers').select(TRANSFER_COLUMNS).where('callId', '=', callId).orderBy('requestedAt').execute()) as TransferRow[];
  }

  async insertMonitor(db: Executor, m: Omit<MonitorRow, 'endedAt'>): Promise<void> {
    await db.insertInto('callMonitors').values(m).execute();
  }

  async endMonitor(db: Executor, id: string, at: Date): Promise<boolean> {
    const r = await db.updateTable('callMonitors').set({ endedAt: at }).where('id', '=', id).where('endedAt', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async liveMonitorOf(db: Executor, supervisorId: string): Promise<MonitorRow | undefined> {
    return (await db.selectFrom('callMonitors').selectAll().where('supervisorId', '=', supervisorId).where('endedAt', 'is', null).executeTakeFirst()) as MonitorRow | undefined;
  }

  async monitors(db: Executor, callId: string): Promise<MonitorRow[]> {
    return (await db.selectFrom('callMonitors').selectAll().where('callId', '=', callId).orderBy('startedAt').execute()) as MonitorRow[];
  }

  /** The call an agent is busy with (offer ringing, connected), if any. */
  async currentOfAgent(db: Executor, agentId: string): Promise<CallRow | undefined> {
    const r = await db.selectFrom('calls').select(CALL_COLUMNS).where('agentId', '=', agentId).where('state', 'in', ['offering', 'connected']).orderBy('arrivedAt', 'desc').executeTakeFirst();
    return r ? toCall(r) : undefined;
  }

  /** The phone extension of a user who takes calls (agents, supervisors with an agent profile). */
  async extensionOf(db: Executor, userId: string): Promise<string | undefined> {
    return (await db.selectFrom('agents').select('extension').where('userId', '=', userId).where('active', '=', true).executeTakeFirst())?.extension;
  }

  async instanceOfNode(db: Executor, nodeId: string): Promise<string | undefined> {
    return (await db.selectFrom('telephonyNodes').select('instanceId').where('nodeId', '=', nodeId).executeTakeFirst())?.instanceId;
  }

  // --- Tickets bound to calls.

  async bindTicket(db: Executor, callId: string, ticketId: string, boundBy: string): Promise<boolean> {
    const r = await db.insertInto('callTickets').values({ callId, ticketId, boundBy }).onConflict((oc) => oc.columns(['callId', 'ticketId']).doNothing()).executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  async ticketIds(db: Executor, callId: string): Promise<string[]> {
    return (await db.selectFrom('callTickets').select('ticketId').where('callId', '=', callId).orderBy('boundAt').execute()).map((r) => r.ticketId);
  }

  async ticketExists(db: Executor, ticketId: string): Promise<boolean> {
    return (await db.selectFrom('tickets').select('id').where('id', '=', ticketId).executeTakeFirst()) !== undefined;
  }

  // --- Caller history.

  async recentCallCount(db: Executor, callerNumber: string, since: Date, exceptCallId: string): Promise<number> {
    const r = await db.executeQuery(prepared(db.selectFrom('calls').select((eb) => eb.fn.countAll<string>().as('n'))
      .where('callerNumber', '=', callerNumber).where('arrivedAt', '>=', since).where('id', '<>', exceptCallId)));
    return Number(r.rows[0]!.n);
  }

  /** Tickets of the citizen with this phone that are still open (not closed, merged, cancelled …). */
  async openTicketCount(db: Executor, phone: string): Promise<number> {
    const r = await db.executeQuery(prepared(db.selectFrom('ticketCallers as tc').innerJoin('citizens as c', 'c.id', 'tc.citizenId').innerJoin('tickets as t', 't.id', 'tc.ticketId')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('c.phone', '=', phone)
      .where('t.status', 'in', ['accepted', 'dispatched', 'returned', 'in_progress', 'replied'])));
    return Number(r.rows[0]!.n);
  }

  /**
   * What a screen-pop shows of the caller, in one round trip: the citizen's 保密 flag, their
   * latest tickets, and how many other calls came from this number since `since`.
   */
  async callerHistory(db: Executor, q: { phone: string; callerNumber: string; since: Date; exceptCallId: string; limit: number }): Promise<CallerHistory> {
    const r = await sql<{ confidential: boolean | null; earlier: string; tickets: { id: string; number: string; title: string; status: string; type: string; createdAt: string }[] }>`
      ${sql.raw(PREPARED)} SELECT (SELECT confidential FROM citizens WHERE phone = ${q.phone}) AS confidential,
        (SELECT count(*) FROM calls WHERE caller_number = ${q.callerNumber} AND arrived_at >= ${q.since} AND id <> ${q.exceptCallId}) AS earlier,
        coalesce((SELECT json_agg(t ORDER BY t."createdAt" DESC) FROM (
          SELECT t.id, t.number, t.title, t.status, t.type, t.created_at AS "createdAt"
          FROM citizens c JOIN ticket_callers tc ON tc.citizen_id = c.id JOIN tickets t ON t.id = tc.ticket_id
          WHERE c.phone = ${q.phone} ORDER BY t.created_at DESC LIMIT ${q.limit}) t), '[]') AS tickets`.execute(db);
    const row = r.rows[0]!;
    return {
      confidential: row.confidential ?? false, earlierCalls: Number(row.earlier),
      tickets: row.tickets.map((t) => ({ ...t, createdAt: new Date(t.createdAt) })),
    };
  }

  /** Mean seconds from connect to end of the queue's recent answered calls. */
  async averageHandleSeconds(db: Executor, queueId: string, since: Date): Promise<number | null> {
    const row = await db.selectFrom('calls')
      .select(sql<string | null>`avg(extract(epoch FROM ended_at - connected_at))`.as('aht'))
      .where('queueId', '=', queueId).where('disposition', '=', 'answered').where('endedAt', '>=', since).where('connectedAt', 'is not', null)
      .executeTakeFirstOrThrow();
    return row.aht === null ? null : Number(row.aht);
  }

  // --- Callback tasks.

  /**
   * A missed call: one open task per number per local day; a later miss the same day counts an
   * attempt and points at the latest call.
   */
  async upsertMissed(db: Executor, t: { callId: string; phone: string; queueId: string | null; priority: number | null; enqueuedAt: Date | null; waitedSeconds: number; day: string }): Promise<CallbackTaskRow> {
    const row = await db.insertInto('callbackTasks')
      .values({ kind: 'missed', callId: t.callId, lastCallId: t.callId, phone: t.phone, queueId: t.queueId, priority: t.priority, enqueuedAt: t.enqueuedAt, waitedSeconds: t.waitedSeconds, day: t.day as unknown as Date })
      .onConflict((oc) => oc.columns(['phone', 'day']).where('kind', '=', 'missed').where('status', '=', 'open').doUpdateSet((eb) => ({
        attempts: eb('callbackTasks.attempts', '+', 1),
        lastCallId: eb.ref('excluded.lastCallId'),
        waitedSeconds: sql<number>`greatest(callback_tasks.waited_seconds, excluded.waited_seconds)`,
        updatedAt: sql<Date>`now()`,
      })))
      .returning(TASK_COLUMNS).executeTakeFirstOrThrow();
    return toTask(row);
  }

  async insertTask(db: Executor, t: { kind: Exclude<CallbackKind, 'missed'>; callId: string; phone: string; queueId: string | null; priority: number | null; enqueuedAt: Date | null; waitedSeconds: number; recordingName?: string | null; day: string }): Promise<CallbackTaskRow> {
    const row = await db.insertInto('callbackTasks')
      .values({ ...t, lastCallId: t.callId, recordingName: t.recordingName ?? null, day: t.day as unknown as Date })
      .returning(TASK_COLUMNS).executeTakeFirstOrThrow();
    return toTask(row);
  }

  async tasks(db: Executor, f: { status?: CallbackStatus; kind?: CallbackKind; after?: { createdAt: Date; id: string }; limit: number }): Promise<CallbackTaskRow[]> {
    let q = db.selectFrom('callbackTasks').select(TASK_COLUMNS).orderBy('createdAt').orderBy('id').limit(f.limit);
    if (f.status) q = q.where('status', '=', f.status);
    if (f.kind) q = q.where('kind', '=', f.kind);
    if (f.after) {
      const a = f.after;
      q = q.where((eb) => eb.or([eb('createdAt', '>', a.createdAt), eb.and([eb('createdAt', '=', a.createdAt), eb('id', '>', a.id)])]));
    }
    return (await q.execute()).map(toTask);
  }

  async tasksOfCall(db: Executor, callId: string): Promise<CallbackTaskRow[]> {
    return (await db.selectFrom('callbackTasks').select(TASK_COLUMNS).where((eb) => eb.or([eb('callId', '=', callId), eb('lastCallId', '=', callId)])).orderBy('createdAt').execute()).map(toTask);
  }

  async findTask(db: Executor, id: string): Promise<CallbackTaskRow | undefined> {
    const r = await db.selectFrom('callbackTasks').select(TASK_COLUMNS).where('id', '=', id).executeTakeFirst();
    return r ? toTask(r) : undefined;
  }

  async setTaskStatus(db: Executor, id: string, status: CallbackStatus): Promise<void> {
    await db.updateTable('callbackTasks').set({ status, updatedAt: sql<Date>`now()` }).where('id', '=', id).execute();
  }

  // --- Caller profiles.

  async profile(db: Executor, phone: string): Promise<CallerProfileRow | undefined> {
    return (await db.selectFrom('callerProfiles').selectAll().where('phone', '=', phone).executeTakeFirst()) as CallerProfileRow | undefined;
  }

  async upsertProfile(db: Executor, p: { phone: string; flags: string[]; harassmentAction: 'warn' | 'disconnect'; note: string | null; updatedBy: string | null }): Promise<CallerProfileRow> {
    return (await db.insertInto('callerProfiles').values(p)
      .onConflict((oc) => oc.column('phone').doUpdateSet((eb) => ({
        flags: eb.ref('excluded.flags'), harassmentAction: eb.ref('excluded.harassmentAction'), note: eb.ref('excluded.note'),
        updatedBy: eb.ref('excluded.updatedBy'), updatedAt: sql<Date>`now()`,
      })))
      .returningAll().executeTakeFirstOrThrow()) as CallerProfileRow;
  }

  async deleteProfile(db: Executor, phone: string): Promise<boolean> {
    const r = await db.deleteFrom('callerProfiles').where('phone', '=', phone).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
