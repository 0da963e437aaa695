/** All ticket SQL: state rows, numbers, assignments, callers, the transition audit, search. */
import { sql, type Expression, type SqlBool } from 'kysely';
import { PREPARED, type Executor, type Tx } from '../../adapters/db/database.js';
import type { TransitionRecord } from '../../domain/tickets/index.js';
import { upsertCitizen, type CitizenRow, type CitizenUpsert } from '../citizens/citizens.repository.js';
import type { SearchPlan } from './search.js';

export interface TicketRow {
  id: string;
  number: string;
  channel: string;
  channelMeta: unknown;
  callId: string | null;
  type: string;
  scopeDomain: string | null;
  categoryId: string | null;
  urgency: string;
  title: string;
  content: string;
  address: string | null;
  areaCode: string | null;
  citizenId: string | null;
  confidential: boolean;
  status: string;
  mainDepartmentId: string | null;
  coDepartmentIds: string[];
  coOpinionDepartmentIds: string[];
  dispatchDueAt: Date | null;
  dispatchWarnAt: Date | null;
  responseDueAt: Date | null;
  responseWarnAt: Date | null;
  dueAt: Date | null;
  dueWarnAt: Date | null;
  supervised: boolean;
  warned: boolean;
  overdue: boolean;
  extension: unknown;
  extensionCount: number;
  reminderCount: number;
  reopenCount: number;
  returnCount: number;
  revisitAttempts: number;
  evaluation: string | null;
  notAcceptedReason: string | null;
  notAcceptedReply: string | null;
  mergedInto: string | null;
  mergedTicketIds: string[];
  version: number;
  verificationCodeHash: string | null;
  createdByType: string;
  createdById: string | null;
  createdAt: Date;
  updatedAt: Date;
  closedAt: Date | null;
}

const COLUMNS = [
  'id', 'number', 'channel', 'channelMeta', 'callId', 'type', 'scopeDomain', 'categoryId', 'urgency', 'title', 'content', 'address', 'areaCode',
  'citizenId', 'confidential', 'status', 'mainDepartmentId', 'coDepartmentIds', 'coOpinionDepartmentIds', 'dispatchDueAt', 'dispatchWarnAt',
  'responseDueAt', 'responseWarnAt', 'dueAt', 'dueWarnAt', 'supervised', 'warned', 'overdue', 'extension', 'extensionCount', 'reminderCount',
  'reopenCount', 'returnCount', 'revisitAttempts', 'evaluation', 'notAcceptedReason', 'notAcceptedReply', 'mergedInto', 'mergedTicketIds',
  'version', 'verificationCodeHash', 'createdByType', 'createdById', 'createdAt', 'updatedAt', 'closedAt',
] as const;
const T_COLUMNS = COLUMNS.map((c) => `t.${c}` as const);
const snake = (c: string): string => c.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`);
const RETURNING = sql.raw(COLUMNS.map(snake).join(', '));
/** Searches first match this many of the newest tickets (see `list`). */
const SEARCH_RECENT = 2000;

/** A new ticket's own fields; caller and confidentiality come from the citizen upserted with it. */
/** What an agent fills in on a draft before accepting it. */
export interface DraftPatch {
  title?: string; content?: string; type?: string; scopeDomain?: string | null; categoryId?: string | null; urgency?: string; address?: string | null; areaCode?: string | null;
}

export interface NewTicketRow {
  /** The local day (YYYY-MM-DD) whose sequence numbers the ticket: GD<yyyymmdd><000001>. */
  id: string; numberDay: string; channel: string; channelMeta: Record<string, unknown>; callId: string | null; scopeDomain: string | null;
  categoryId: string | null; title: string; content: string; address: string | null; areaCode: string | null;
  verificationCodeHash: string; createdByType: string; createdById: string; createdAt: Date;
  search: { own: string; expanded: string };
}

/** Intake in one statement: the citizen, the ticket in the state of its first transition, the caller link and the audit row. */
export interface IntakeWrite {
  readonly citizen: CitizenUpsert;
  readonly ticket: NewTicketRow;
  /** The state after the first transition (or the draft's, for integrators' submissions). */
  readonly state: StatePatch;
  readonly transition: { readonly record: TransitionRecord; readonly actorType: string } | null;
}

/** Columns a transition may change: the TicketState fields and the warn times beside them. */
export interface StatePatch {
  status: string; type: string; urgency: string; mainDepartmentId: string | null; coDepartmentIds: string[]; coOpinionDepartmentIds: string[];
  dispatchDueAt: Date | null; dueAt: Date | null; supervised: boolean; warned: boolean; overdue: boolean; extension: string | null;
  extensionCount: number; reminderCount: number; reopenCount: number; returnCount: number; revisitAttempts: number; evaluation: string | null;
  notAcceptedReason: string | null; mergedInto: string | null; mergedTicketIds: string[]; version: number; updatedAt: Date;
  responseDueAt: Date | null; dispatchWarnAt?: Date | null; responseWarnAt?: Date | null; dueWarnAt?: Date | null;
  notAcceptedReply?: string | null; closedAt?: Date | null;
}

export interface ListFilter {
  statuses?: readonly string[]; type?: string; channel?: string; urgency?: string; categoryId?: string; departmentId?: string; overdue?: boolean;
  supervised?: boolean; createdFrom?: Date; createdTo?: Date; phone?: string; search?: SearchPlan;
  /** Department scoping: only tickets this department currently holds. */
  visibleToDepartment?: string;
  /** Integrators: only what they submitted. */
  createdBy?: string;
  /** Department handlers never find confidential tickets by the caller's phone. */
  phoneExcludesConfidential?: boolean;
  /** Nor by a number or address typed into the text. */
  excludeConfidential?: boolean;
  after?: { createdAt: Date; id: string };
  limit: number;
}

export interface TransitionRow {
  id: string; ticketId: string; version: number; action: string; fromStatus: string; toStatus: string; actorType: string; actorId: string;
  actorRole: string; actorDepartmentId: string | null; reason: string | null; data: unknown; at: Date;
}

export class TicketsRepository {
  /**
   * Makes the days' number sequences exist (migration 0007). Runs outside any intake
   * transaction, once per day and instance: creating a sequence takes catalog locks.
   */
  async prepareNumbers(db: Executor, days: readonly string[]): Promise<void> {
    for (const day of days) await sql`SELECT ticket_number_prepare(${day}::date)`.execute(db);
  }

  /** Drops the number sequences of days before `before` (YYYY-MM-DD). */
  async pruneNumbers(db: Executor, before: string): Promise<number> {
    const { rows } = await sql<{ n: number }>`SELECT ticket_number_prune(${before}::date) AS n`.execute(db);
    return rows[0]?.n ?? 0;
  }

  /**
   * The whole intake write in one round trip (data-modifying CTEs run as one statement, and the
   * foreign keys are checked at its end). The number comes from the day's sequence, last.
   */
  async insertIntake(tx: Tx, w: IntakeWrite): Promise<{ row: TicketRow; citizen: CitizenRow }> {
    const t = w.ticket;
    const s = w.state;
    const tr = w.transition;
    const transition = tr === null ? sql`` : sql`, tr AS (
      INSERT INTO ticket_transitions (ticket_id, version, action, from_status, to_status, actor_type, actor_id, actor_role, actor_department_id, reason, data, at)
      SELECT t.id, ${tr.record.version}, ${tr.record.action}, ${tr.record.from}, ${tr.record.to}, ${tr.actorType}, ${tr.record.actor.id},
             ${tr.record.actor.role}, ${tr.record.actor.departmentId}::uuid, ${tr.record.reason}, ${JSON.stringify(tr.record.data)}::jsonb, ${tr.record.at}::timestamptz FROM t)`;
    const { rows } = await sql<TicketRow & { citizen: CitizenRow }>`
      ${sql.raw(PREPARED)} WITH c AS (${upsertCitizen(w.citizen)}),
      t AS (
        INSERT INTO tickets (id, number, channel, channel_meta, call_id, scope_domain, category_id, title, content, address, area_code, citizen_id,
          confidential, verification_code_hash, created_by_type, created_by_id, created_at, search_vector,
          status, type, urgency, main_department_id, co_department_ids, co_opinion_department_ids, dispatch_due_at, dispatch_warn_at,
          response_due_at, response_warn_at, due_at, due_warn_at, supervised, warned, overdue, extension, extension_count, reminder_count,
          reopen_count, return_count, revisit_attempts, evaluation, not_accepted_reason, not_accepted_reply, merged_into, merged_ticket_ids,
          version, updated_at, closed_at)
        SELECT ${t.id}::uuid, ticket_number_next(${t.numberDay}::date), ${t.channel}, ${JSON.stringify(t.channelMeta)}::jsonb, ${t.callId},
          ${t.scopeDomain}, ${t.categoryId}::uuid, ${t.title}, ${t.content}, ${t.address}, ${t.areaCode}, c.id,
          c.confidential, ${t.verificationCodeHash}, ${t.createdByType}, ${t.createdById}, ${t.createdAt}::timestamptz,
          setweight(to_tsvector('simple', ${t.search.own}), 'A') || setweight(to_tsvector('simple', ${t.search.expanded}), 'D'),
          ${s.status}, ${s.type}, ${s.urgency}, ${s.mainDepartmentId}::uuid, ${s.coDepartmentIds}::uuid[], ${s.coOpinionDepartmentIds}::uuid[],
          ${s.dispatchDueAt}::timestamptz, ${s.dispatchWarnAt ?? null}::timestamptz, ${s.responseDueAt}::timestamptz, ${s.responseWarnAt ?? null}::timestamptz,
          ${s.dueAt}::timestamptz, ${s.dueWarnAt ?? null}::timestamptz, ${s.supervised}, ${s.warned}, ${s.overdue}, ${s.extension}::jsonb,
          ${s.extensionCount}, ${s.reminderCount}, ${s.reopenCount}, ${s.returnCount}, ${s.revisitAttempts}, ${s.evaluation},
          ${s.notAcceptedReason}, ${s.notAcceptedReply ?? null}, ${s.mergedInto}::uuid, ${s.mergedTicketIds}::uuid[],
          ${s.version}, ${s.updatedAt}::timestamptz, ${s.closedAt ?? null}::timestamptz
        FROM c
        RETURNING ${RETURNING}),
      l AS (INSERT INTO ticket_callers (ticket_id, citizen_id, role, linked_at) SELECT t.id, t.citizen_id, 'primary', ${t.createdAt}::timestamptz FROM t)
      ${transition}
      SELECT t.*, row_to_json(c) AS citizen FROM t, c`.execute(tx);
    const { citizen, ...row } = rows[0]!;
    return { row, citizen };
  }

  /** Binds the ticket to the call it was taken on, when that call is one of ours (a calls row). */
  async bindCall(db: Executor, callId: string, ticketId: string, boundBy: string): Promise<void> {
    await sql`${sql.raw(PREPARED)} WITH b AS (
        INSERT INTO call_tickets (call_id, ticket_id, bound_by)
        SELECT c.id, ${ticketId}::uuid, ${boundBy} FROM calls c WHERE c.id = ${callId}::uuid
        ON CONFLICT DO NOTHING RETURNING call_id, ticket_id)
      INSERT INTO call_events (call_id, at, type, data)
      SELECT call_id, now(), 'ticket_bound', jsonb_build_object('ticketId', ticket_id, 'by', ${boundBy}::text, 'via', 'intake') FROM b`.execute(db);
  }

  /** The call's draft ticket (at most one at a time, tickets_call_draft_key). */
  async draftOfCall(db: Executor, callId: string): Promise<TicketRow | undefined> {
    return db.selectFrom('tickets').select(COLUMNS).where('callId', '=', callId).where('status', '=', 'draft').where('channel', '=', 'phone').executeTakeFirst();
  }

  /** The content of a draft, compare-and-set on its version; false when it changed meanwhile or is no longer a draft. */
  async editDraft(db: Executor, id: string, expectedVersion: number, patch: DraftPatch, search: { own: string; expanded: string } | undefined, at: Date): Promise<boolean> {
    const r = await db.updateTable('tickets').set({
      ...patch,
      ...(search ? { searchVector: sql`setweight(to_tsvector('simple', ${search.own}), 'A') || setweight(to_tsvector('simple', ${search.expanded}), 'D')` } : {}),
      version: sql<number>`version + 1`, updatedAt: at,
    }).where('id', '=', id).where('version', '=', expectedVersion).where('status', '=', 'draft').executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** The caller's name, address and 保密 as the agent noted them on the draft. */
  async editDraftCaller(db: Executor, ticketId: string, c: { name?: string | null; address?: string | null; confidential?: boolean }): Promise<void> {
    const t = await db.selectFrom('tickets').select('citizenId').where('id', '=', ticketId).executeTakeFirst();
    if (!t?.citizenId) return;
    const patch = { ...(c.name !== undefined ? { name: c.name } : {}), ...(c.address !== undefined ? { address: c.address } : {}), ...(c.confidential ? { confidential: true } : {}) };
    if (Object.keys(patch).length) await db.updateTable('citizens').set({ ...patch, updatedAt: sql<Date>`now()` }).where('id', '=', t.citizenId).execute();
    if (c.confidential !== undefined) await db.updateTable('tickets').set({ confidential: c.confidential }).where('id', '=', ticketId).execute();
  }

  async findById(db: Executor, id: string): Promise<TicketRow | undefined> {
    return (await db.selectFrom('tickets').select(COLUMNS).where('id', '=', id).executeTakeFirst());
  }

  /** Locks the ticket row for the rest of the transaction. */
  async lockById(db: Executor, id: string): Promise<TicketRow | undefined> {
    return (await db.selectFrom('tickets').select(COLUMNS).where('id', '=', id).forUpdate().executeTakeFirst());
  }

  async findByNumber(db: Executor, number: string): Promise<TicketRow | undefined> {
    return (await db.selectFrom('tickets').select(COLUMNS).where('number', '=', number).executeTakeFirst());
  }

  /** Optimistic lock: false when someone else changed the ticket since it was read. */
  async updateState(db: Executor, id: string, expectedVersion: number, patch: StatePatch): Promise<boolean> {
    const r = await db.updateTable('tickets').set(patch).where('id', '=', id).where('version', '=', expectedVersion).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async insertTransition(db: Executor, r: TransitionRecord, actorType: string): Promise<string> {
    const row = await db.insertInto('ticketTransitions').values({
      ticketId: r.ticketId, version: r.version, action: r.action, fromStatus: r.from, toStatus: r.to, actorType, actorId: r.actor.id,
      actorRole: r.actor.role, actorDepartmentId: r.actor.departmentId, reason: r.reason, data: JSON.stringify(r.data), at: r.at,
    }).returning('id').executeTakeFirstOrThrow();
    return row.id;
  }

  async history(db: Executor, ticketId: string, afterId: string | undefined, limit: number): Promise<TransitionRow[]> {
    let q = db.selectFrom('ticketTransitions').selectAll().where('ticketId', '=', ticketId).orderBy('id').limit(limit);
    if (afterId) q = q.where('id', '>', afterId);
    return (await q.execute());
  }

  async lastTransitionAt(db: Executor, ticketId: string): Promise<Date | null> {
    const row = await db.selectFrom('ticketTransitions').select((eb) => eb.fn.max('at').as('at')).where('ticketId', '=', ticketId).executeTakeFirst();
    return row?.at ? new Date(row.at) : null;
  }

  /** Makes ticket_departments say who holds the ticket now; withdrawn departments are released. */
  async syncDepartments(db: Executor, ticketId: string, main: string | null, co: readonly string[], at: Date): Promise<void> {
    const wanted = [...(main ? [{ departmentId: main, role: 'main' }] : []), ...co.map((d) => ({ departmentId: d, role: 'co' }))];
    const ids = wanted.map((w) => w.departmentId);
    let release = db.updateTable('ticketDepartments').set({ releasedAt: at }).where('ticketId', '=', ticketId).where('releasedAt', 'is', null);
    if (ids.length) release = release.where('departmentId', 'not in', ids);
    await release.execute();
    if (wanted.length === 0) return;
    await db.insertInto('ticketDepartments').values(wanted.map((w) => ({ ticketId, ...w, assignedAt: at })))
      .onConflict((oc) => oc.columns(['ticketId', 'departmentId']).doUpdateSet((eb) => ({
        role: eb.ref('excluded.role'),
        // Re-assigned after a release: a fresh assignment.
        assignedAt: sql<Date>`CASE WHEN ticket_departments.released_at IS NULL AND ticket_departments.role = excluded.role THEN ticket_departments.assigned_at ELSE excluded.assigned_at END`,
        releasedAt: null,
      })))
      .execute();
  }

  async holdsTicket(db: Executor, ticketId: string, departmentId: string): Promise<boolean> {
    const row = await db.selectFrom('ticketDepartments').select('ticketId').where('ticketId', '=', ticketId).where('departmentId', '=', departmentId).where('releasedAt', 'is', null).executeTakeFirst();
    return row !== undefined;
  }

  /** 合并: the duplicate's callers are linked to the master as well (and stay on the duplicate). */
  async copyCallers(db: Executor, fromTicketId: string, toTicketId: string, at: Date): Promise<void> {
    await sql`INSERT INTO ticket_callers (ticket_id, citizen_id, role, source_ticket_id, linked_at)
      SELECT ${toTicketId}, citizen_id, 'merged', ${fromTicketId}, ${at} FROM ticket_callers WHERE ticket_id = ${fromTicketId}
      ON CONFLICT (ticket_id, citizen_id) DO NOTHING`.execute(db);
  }

  async callers(db: Executor, ticketId: string): Promise<{ citizenId: string; role: string; phone: string; name: string | null; address: string | null; confidential: boolean; sourceTicketId: string | null }[]> {
    return db.selectFrom('ticketCallers as tc').innerJoin('citizens as c', 'c.id', 'tc.citizenId')
      .select(['tc.citizenId', 'tc.role', 'c.phone', 'c.name', 'c.address', 'c.confidential', 'tc.sourceTicketId'])
      .where('tc.ticketId', '=', ticketId).orderBy('tc.linkedAt').orderBy('tc.citizenId').execute();
  }

  async hasCallerPhone(db: Executor, ticketId: string, phone: string): Promise<boolean> {
    const row = await db.selectFrom('ticketCallers as tc').innerJoin('citizens as c', 'c.id', 'tc.citizenId').select('tc.ticketId')
      .where('tc.ticketId', '=', ticketId).where('c.phone', '=', phone).executeTakeFirst();
    return row !== undefined;
  }

  async primaryCallers(db: Executor, ticketIds: readonly string[]): Promise<Map<string, { phone: string; name: string | null }>> {
    if (ticketIds.length === 0) return new Map();
    const rows = await db.selectFrom('tickets as t').innerJoin('citizens as c', 'c.id', 't.citizenId').select(['t.id', 'c.phone', 'c.name']).where('t.id', 'in', ticketIds).execute();
    return new Map(rows.map((r) => [r.id, { phone: r.phone, name: r.name }]));
  }

  /**
   * Newest first. A search runs in two steps, each with a bounded cost whatever the planner
   * believes: the newest SEARCH_RECENT tickets (by the other filters) are matched first, which
   * answers common words at once; when they hold fewer matches than asked for, the matches are
   * rare, and the GIN indexes find all of them (the sort then cannot use the created_at index, so
   * PostgreSQL cannot fall back to reading a million rows newest first looking for matches that
   * are not there).
   */
  async list(db: Executor, f: ListFilter): Promise<TicketRow[]> {
    const base = this.filtered(db, f);
    if (!f.search) return base.select(T_COLUMNS).orderBy('t.createdAt', 'desc').orderBy('t.id', 'desc').limit(f.limit).execute();
    const recent = base.select([...T_COLUMNS, 't.searchVector', 't.searchText']).orderBy('t.createdAt', 'desc').orderBy('t.id', 'desc').limit(SEARCH_RECENT);
    const first = await db.selectFrom(recent.as('t')).select(T_COLUMNS).where(searchCondition(f.search))
      .orderBy('t.createdAt', 'desc').orderBy('t.id', 'desc').limit(f.limit).execute();
    if (first.length === f.limit) return first;
    return base.select(T_COLUMNS).where(searchCondition(f.search))
      .orderBy(sql`t.created_at + interval '0 seconds'`, 'desc').orderBy('t.id', 'desc').limit(f.limit).execute();
  }

  /** Every list filter but the search. */
  private filtered(db: Executor, f: ListFilter) {
    let q = db.selectFrom('tickets as t');
    if (f.statuses?.length) q = q.where('t.status', 'in', f.statuses);
    if (f.type) q = q.where('t.type', '=', f.type);
    if (f.channel) q = q.where('t.channel', '=', f.channel);
    if (f.urgency) q = q.where('t.urgency', '=', f.urgency);
    if (f.categoryId) q = q.where('t.categoryId', '=', f.categoryId);
    if (f.overdue !== undefined) q = q.where('t.overdue', '=', f.overdue);
    if (f.supervised !== undefined) q = q.where('t.supervised', '=', f.supervised);
    if (f.createdFrom) q = q.where('t.createdAt', '>=', f.createdFrom);
    if (f.createdTo) q = q.where('t.createdAt', '<', f.createdTo);
    if (f.createdBy) q = q.where('t.createdById', '=', f.createdBy);
    if (f.departmentId) {
      const dept = f.departmentId;
      q = q.where((eb) => eb.exists(eb.selectFrom('ticketDepartments as d').select(sql`1`.as('one')).whereRef('d.ticketId', '=', 't.id').where('d.departmentId', '=', dept).where('d.releasedAt', 'is', null)));
    }
    if (f.visibleToDepartment) {
      const dept = f.visibleToDepartment;
      q = q.where((eb) => eb.exists(eb.selectFrom('ticketDepartments as v').select(sql`1`.as('one')).whereRef('v.ticketId', '=', 't.id').where('v.departmentId', '=', dept).where('v.releasedAt', 'is', null)));
    }
    if (f.phone) {
      const phone = f.phone;
      q = q.where((eb) => eb.exists(eb.selectFrom('ticketCallers as tc').innerJoin('citizens as c', 'c.id', 'tc.citizenId').select(sql`1`.as('one')).whereRef('tc.ticketId', '=', 't.id').where('c.phone', '=', phone)));
      if (f.phoneExcludesConfidential) q = q.where('t.confidential', '=', false);
    }
    if (f.excludeConfidential) q = q.where('t.confidential', '=', false);
    if (f.after) {
      const { createdAt, id } = f.after;
      q = q.where((eb) => eb.or([eb('t.createdAt', '<', createdAt), eb.and([eb('t.createdAt', '=', createdAt), eb('t.id', '<', id)])]));
    }
    return q;
  }
}

function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The SQL form of `matchesTokens` in search.ts, or substring/trigram matching. */
function searchCondition(plan: SearchPlan): Expression<SqlBool> {
  const substring = sql<SqlBool>`t.search_text ILIKE ${likePattern(plan.text)}`;
  if (plan.kind === 'substring') return sql<SqlBool>`(${substring} OR t.search_text % ${plan.text})`;
  const hit = (g: (typeof plan.groups)[number]) => sql`(CASE WHEN t.search_vector @@ to_tsquery('simple', ${g.direct}) THEN 1.0
    WHEN t.search_vector @@ to_tsquery('simple', ${g.related}) THEN 0.5 ELSE 0 END)`;
  const score = sql.join(plan.groups.map((g) => sql`${g.weight}::float8 * ${hit(g)}`), sql` + `);
  const key = sql.join(plan.groups.filter((g) => g.key).map((g) => sql`${hit(g)} > 0`), sql` OR `);
  return sql<SqlBool>`((t.search_vector @@ to_tsquery('simple', ${plan.need}) AND (${key}) AND (${score}) >= ${plan.minScore}::float8) OR ${substring})`;
}
