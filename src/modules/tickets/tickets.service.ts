/**
 * Tickets after intake: reading with department scoping and confidentiality, the lifecycle
 * (every transition validated by src/domain/tickets, stored with its audit row and outbox events
 * in one transaction), search and lists, and the progress self-query shared with the IVR.
 */
import type { Database, Tx } from '../../adapters/db/database.js';
import type { Principal } from '../../domain/auth.js';
import type { Clock } from '../../domain/clock.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../domain/errors.js';
import {
  DEFAULT_LIFECYCLE_POLICY, TICKET_ACTION_LABELS, TICKET_STATUS_LABELS, allowedActions, eventSubjects, mergeTickets, transition,
  type Actor, type LifecyclePolicy, type RequestType, type TicketAction, type TicketActionType, type TicketState, type TicketStatus, type TransitionRecord, type TransitionResult, type Urgency,
} from '../../domain/tickets/index.js';
import type { CitizenRow, CitizenUpsert } from '../citizens/citizens.repository.js';
import { redactIdentity } from '../../domain/text/index.js';
import { normalizePhone } from '../citizens/phone.js';
import type { DepartmentsService } from '../departments/departments.service.js';
import type { OutboxRepository } from '../events/outbox.repository.js';
import type { AttachmentRow, AttachmentsRepository } from './attachments.repository.js';
import type { DeadlineSource } from './deadlines.js';
import { planSearch } from './search.js';
import type { ListFilter, NewTicketRow, StatePatch, TicketRow, TicketsRepository } from './tickets.repository.js';
import { attachmentRef, callerView, hidesIdentity, rowToState, ticketView, type TicketView } from './tickets.view.js';
import { verifyCode } from './verification.js';

/** The actor timers and automated revisits act as. */
export const SYSTEM_PRINCIPAL = Object.freeze({ kind: 'system', id: 'system', name: 'system', role: 'system', departmentId: null, centreId: 'main' } as const);
export interface SystemPrincipal { readonly kind: 'system'; readonly id: string; readonly name: string; readonly role: 'system'; readonly departmentId: null; readonly centreId: string }
export type TicketActor = Principal | SystemPrincipal;

/** Runs inside each transition's transaction (e.g. the sla module re-schedules timers atomically). */
export type TransitionHook = (tx: Tx, before: TicketState, after: TicketState, record: TransitionRecord) => Promise<void>;

const STAFF = new Set(['agent', 'supervisor', 'admin']);

export interface ListQuery {
  status?: TicketStatus[]; type?: string; channel?: string; urgency?: string; categoryId?: string; departmentId?: string;
  overdue?: boolean; supervised?: boolean; createdFrom?: string; createdTo?: string; phone?: string; q?: string; cursor?: string; limit: number;
}

export interface ProgressView {
  number: string; status: TicketStatus; statusLabel: string; lastUpdate: string; mergedIntoNumber: string | null;
  steps: { action: TicketActionType; label: string; status: TicketStatus; statusLabel: string; at: string }[];
}

export interface HistoryEntry {
  id: string; version: number; action: string; actionLabel: string; from: string; to: string;
  actor: { type: string; id: string; role: string; departmentId: string | null }; reason: string | null; data: Record<string, unknown>; at: string;
}

/** Columns a transition sets beside the TicketState: warn times, the caller reply, closing time. */
type Extra = Partial<Pick<StatePatch, 'dispatchWarnAt' | 'responseWarnAt' | 'dueWarnAt' | 'notAcceptedReply'>>;

export interface TicketsDeps {
  readonly db: Database;
  readonly repo: TicketsRepository;
  readonly attachments: AttachmentsRepository;
  readonly outbox: OutboxRepository;
  readonly departments: DepartmentsService;
  readonly deadlines: DeadlineSource;
  readonly clock: Clock;
  readonly subjectPrefix: string;
  readonly policy?: LifecyclePolicy;
}

export function isSystem(actor: TicketActor): actor is SystemPrincipal {
  return actor.kind === 'system' && actor.role === 'system';
}

/** The state machine's view of who acts; integrators submit tickets but take no lifecycle action. */
export function domainActor(actor: TicketActor): Actor {
  if (isSystem(actor)) return { role: 'system', id: actor.id };
  if (actor.role === 'integrator') throw new ForbiddenError('Integrators submit tickets but take no lifecycle action', 'role_forbidden');
  return { role: actor.role, id: actor.id, ...(actor.departmentId ? { departmentId: actor.departmentId } : {}) };
}

export class TicketsService {
  private readonly hooks: TransitionHook[] = [];

  constructor(private readonly deps: TicketsDeps) {}

  /** Registers a callback run inside every transition's transaction; returns an unregister function. */
  onTransition(cb: TransitionHook): () => void {
    this.hooks.push(cb);
    return () => {
      const i = this.hooks.indexOf(cb);
      if (i >= 0) this.hooks.splice(i, 1);
    };
  }

  // --- Reading.

  async get(id: string, reader: TicketActor): Promise<TicketView> {
    const row = await this.deps.repo.findById(this.deps.db, id);
    if (!row || !(await this.canSee(this.deps.db, row, reader))) throw notFound(id);
    return this.detail(this.deps.db, row, reader);
  }

  /** Inside an open transaction (intake reads what it just wrote). */
  async getInTx(tx: Tx, id: string, reader: TicketActor): Promise<TicketView> {
    const row = await this.deps.repo.findById(tx, id);
    if (!row || !(await this.canSee(tx, row, reader))) throw notFound(id);
    return this.detail(tx, row, reader);
  }

  /** State and assignment for timers and other system work; no scoping. */
  async findForSystem(id: string): Promise<{ state: TicketState; id: string; number: string; createdAt: Date; mainDepartmentId: string | null; coDepartmentIds: string[] } | null> {
    const row = await this.deps.repo.findById(this.deps.db, id);
    if (!row) return null;
    return { state: rowToState(row), id: row.id, number: row.number, createdAt: row.createdAt, mainDepartmentId: row.mainDepartmentId, coDepartmentIds: row.coDepartmentIds };
  }

  async allowedActions(id: string, reader: TicketActor): Promise<{ status: TicketStatus; statusLabel: string; version: number; allowed: { action: TicketActionType; label: string }[] }> {
    const row = await this.deps.repo.findById(this.deps.db, id);
    if (!row || !(await this.canSee(this.deps.db, row, reader))) throw notFound(id);
    const state = rowToState(row);
    const allowed = reader.role === 'integrator' ? [] : allowedActions(state, domainActor(reader));
    return { status: state.status, statusLabel: TICKET_STATUS_LABELS[state.status], version: state.version, allowed: allowed.map((a) => ({ action: a, label: TICKET_ACTION_LABELS[a] })) };
  }

  async history(id: string, reader: TicketActor, after: string | undefined, limit: number): Promise<{ items: HistoryEntry[]; next: string | null }> {
    const row = await this.deps.repo.findById(this.deps.db, id);
    if (!row || !(await this.canSee(this.deps.db, row, reader))) throw notFound(id);
    if (after !== undefined && !/^[0-9]{1,18}$/.test(after)) throw new ValidationError('after must be a history entry id', { field: 'after' }, 'invalid_cursor');
    const rows = await this.deps.repo.history(this.deps.db, id, after, limit);
    // Reasons and texts typed along the way may name the caller of a confidential ticket.
    const hide = hidesIdentity(reader, row.confidential);
    const names = hide ? (await this.deps.repo.callers(this.deps.db, id)).map((c) => c.name) : [];
    const items = rows.map((r) => ({
      id: String(r.id), version: r.version, action: r.action, actionLabel: TICKET_ACTION_LABELS[r.action as TicketActionType] ?? r.action,
      from: r.fromStatus, to: r.toStatus, actor: { type: r.actorType, id: r.actorId, role: r.actorRole, departmentId: r.actorDepartmentId },
      reason: hide && r.reason !== null ? redactIdentity(r.reason, names) : r.reason,
      data: hide ? redactStrings((r.data ?? {}) as Record<string, unknown>, names) : (r.data ?? {}) as Record<string, unknown>, at: r.at.toISOString(),
    }));
    return { items, next: items.length === limit ? items.at(-1)!.id : null };
  }

  async list(q: ListQuery, reader: Principal): Promise<{ items: TicketView[]; next: string | null }> {
    const f: ListFilter = { limit: q.limit };
    if (q.status?.length) f.statuses = q.status;
    if (q.type) f.type = q.type;
    if (q.channel) f.channel = q.channel;
    if (q.urgency) f.urgency = q.urgency;
    if (q.categoryId) f.categoryId = q.categoryId;
    if (q.departmentId) f.departmentId = q.departmentId;
    if (q.overdue !== undefined) f.overdue = q.overdue;
    if (q.supervised !== undefined) f.supervised = q.supervised;
    if (q.createdFrom) f.createdFrom = new Date(q.createdFrom);
    if (q.createdTo) f.createdTo = new Date(q.createdTo);
    if (q.phone) f.phone = normalizePhone(q.phone);
    if (q.q !== undefined && q.q.trim() !== '') f.search = planSearch(q.q);
    if (q.cursor) f.after = decodeCursor(q.cursor);
    if (reader.role === 'dept_handler') {
      f.visibleToDepartment = reader.departmentId ?? '00000000-0000-0000-0000-000000000000';
      // Finding a confidential ticket by a number (its caller's, typed into the text) would tell who asked.
      f.phoneExcludesConfidential = true;
      if (q.q !== undefined && /\d{7,}|@/.test(q.q.replace(/[\s-]/g, ''))) f.excludeConfidential = true;
    } else if (reader.role === 'integrator') {
      f.createdBy = reader.id;
    } else if (!STAFF.has(reader.role)) {
      throw new ForbiddenError(`Role '${reader.role}' may not read tickets`, 'role_forbidden');
    }
    const rows = await this.deps.repo.list(this.deps.db, f);
    const callers = await this.deps.repo.primaryCallers(this.deps.db, rows.map((r) => r.id));
    const items = rows.map((r) => {
      const c = callers.get(r.id);
      return ticketView(r, callerView(reader, r.confidential, c ? { phone: c.phone, name: null, address: null } : null, 'list'), reader, c ? [c.name] : []);
    });
    const last = rows.at(-1);
    return { items, next: rows.length === q.limit && last ? encodeCursor(last.createdAt, last.id) : null };
  }

  // --- The lifecycle.

  async applyAction(id: string, action: TicketAction, actor: TicketActor, opts: { reason?: string; expectedVersion?: number; attachmentIds?: readonly string[] } = {}): Promise<TicketView> {
    const who = domainActor(actor);
    const now = this.deps.clock.now();
    return this.deps.db.transaction().execute(async (tx) => {
      if (action.type === 'merge' || action.type === 'absorb_duplicate') return this.merge(tx, id, action, actor, who, now, opts);
      const row = await this.deps.repo.lockById(tx, id);
      if (!row || !(await this.canSee(tx, row, actor))) throw notFound(id);
      checkVersion(row, opts.expectedVersion);
      const after = await this.transitionInTx(tx, row, withReason(action, opts.reason), actor, now, { attachmentIds: opts.attachmentIds ?? [] });
      return this.detail(tx, after, actor);
    });
  }

  /**
   * One transition inside the caller's transaction: deadlines, the state machine, the state row
   * (optimistic lock), the audit row, assignments, events and hooks. Intake uses it too.
   */
  async transitionInTx(tx: Tx, row: TicketRow, action: TicketAction, actor: TicketActor, now: Date, opts: { attachmentIds?: readonly string[]; notAcceptedReply?: string } = {}): Promise<TicketRow> {
    const before = rowToState(row);
    const attachmentIds = opts.attachmentIds ?? [];
    const { action: full, extra } = await this.withDeadlines(action, before, row, now);
    if (opts.notAcceptedReply !== undefined) extra.notAcceptedReply = opts.notAcceptedReply;
    const result = transition(before, full, { actor: domainActor(actor), now, ...(this.deps.policy ? { policy: this.deps.policy } : {}) });
    if (full.type === 'dispatch' || full.type === 'redispatch') await this.requireDepartments(result.state);
    if (full.type === 'not_accept') extra.notAcceptedReply ??= (result.record.data['reply'] as string | undefined) ?? null;
    const attachments = full.type === 'reply' || full.type === 'co_opinion' ? [...(full.attachmentIds ?? []), ...attachmentIds] : [...attachmentIds];
    return this.persist(tx, row, result, extra, actor, now, attachments);
  }

  private async merge(tx: Tx, id: string, action: Extract<TicketAction, { type: 'merge' | 'absorb_duplicate' }>, actor: TicketActor, who: Actor, now: Date, opts: { reason?: string; expectedVersion?: number }): Promise<TicketView> {
    const otherId = action.type === 'merge' ? action.masterTicketId : action.duplicateTicketId;
    if (otherId === id) throw new ValidationError('a ticket cannot be merged into itself', { ticketId: id }, 'merge_into_self');
    // Lock both in a fixed order so two opposite merges cannot deadlock.
    const [first, second] = [id, otherId].sort();
    const rows = new Map<string, TicketRow>();
    for (const tid of [first!, second!]) {
      const r = await this.deps.repo.lockById(tx, tid);
      if (!r || !(await this.canSee(tx, r, actor))) throw notFound(tid);
      rows.set(tid, r);
    }
    checkVersion(rows.get(id)!, opts.expectedVersion);
    const dupRow = rows.get(action.type === 'merge' ? id : otherId)!;
    const masterRow = rows.get(action.type === 'merge' ? otherId : id)!;
    const reason = opts.reason ?? (action.type === 'merge' ? action.reason : undefined);
    const result = mergeTickets(rowToState(dupRow), rowToState(masterRow), { actor: who, now, ...(this.deps.policy ? { policy: this.deps.policy } : {}) }, reason);
    const dupAfter = await this.persist(tx, dupRow, result.duplicate, {}, actor, now, []);
    const masterAfter = await this.persist(tx, masterRow, result.master, {}, actor, now, []);
    // Every caller of the duplicate is now also a caller of the master (and stays on the duplicate).
    await this.deps.repo.copyCallers(tx, dupRow.id, masterRow.id, now);
    return this.detail(tx, action.type === 'merge' ? dupAfter : masterAfter, actor);
  }

  private async persist(tx: Tx, row: TicketRow, result: TransitionResult, extra: Extra, actor: TicketActor, now: Date, attachmentIds: readonly string[]): Promise<TicketRow> {
    const s = result.state;
    const before = rowToState(row);
    const patch = statePatch(row, result, extra, now);
    if (!(await this.deps.repo.updateState(tx, row.id, row.version, patch))) {
      throw new ConflictError('The ticket was changed by someone else; reload and try again', 'version_conflict');
    }
    const transitionId = await this.deps.repo.insertTransition(tx, result.record, actorTypeOf(actor));
    if (s.mainDepartmentId !== before.mainDepartmentId || s.coDepartmentIds.join() !== before.coDepartmentIds.join()) {
      await this.deps.repo.syncDepartments(tx, row.id, s.mainDepartmentId, s.coDepartmentIds, now);
    }
    if (attachmentIds.length) await this.linkAttachmentsInTx(tx, row.id, attachmentIds, actor, transitionId, now);
    await this.announce(tx, row, before, result);
    // The row as stored, without reading it back.
    return { ...row, ...patch, extension: patch.extension === null ? null : JSON.parse(patch.extension) as unknown };
  }

  /** Events (outbox) and the in-transaction hooks of one transition. */
  private async announce(tx: Tx, row: Pick<TicketRow, 'id' | 'number'>, before: TicketState, result: TransitionResult): Promise<void> {
    await this.deps.outbox.append(tx, result.events.flatMap((e) => {
      const payload = { ticketId: row.id, number: row.number, departmentIds: [...e.departmentIds], ...e.data };
      const [, ...deptSubjects] = eventSubjects(e, this.deps.subjectPrefix);
      return [{ type: e.name, payload }, ...deptSubjects.map((subject) => ({ type: e.name, payload, subject }))];
    }));
    for (const hook of this.hooks) await hook(tx, before, result.state, result.record);
  }

  /**
   * A new ticket and its first transition (受理, 不予受理 or 直办; none for integrators, whose
   * submissions wait as drafts for review), written in one statement with its citizen and caller
   * link. The draft never reaches the database, yet the audit row records draft → accepted as
   * every later transition records its step. Events and hooks follow as for any transition.
   */
  async createInTx(tx: Tx, t: NewTicketRow & { type: RequestType; urgency: Urgency }, citizen: CitizenUpsert, action: TicketAction | null, actor: TicketActor, now: Date,
    opts: { notAcceptedReply?: string } = {}): Promise<{ row: TicketRow; citizen: CitizenRow }> {
    const draft = draftRow(t);
    if (action === null) {
      return this.deps.repo.insertIntake(tx, { citizen, ticket: t, state: statePatch(draft, null, {}, now), transition: null });
    }
    const before = rowToState(draft);
    const { action: full, extra } = await this.withDeadlines(action, before, draft, now);
    if (opts.notAcceptedReply !== undefined) extra.notAcceptedReply = opts.notAcceptedReply;
    const result = transition(before, full, { actor: domainActor(actor), now, ...(this.deps.policy ? { policy: this.deps.policy } : {}) });
    if (full.type === 'not_accept') extra.notAcceptedReply ??= (result.record.data['reply'] as string | undefined) ?? null;
    const written = await this.deps.repo.insertIntake(tx, {
      citizen, ticket: t, state: statePatch(draft, result, extra, now), transition: { record: result.record, actorType: actorTypeOf(actor) },
    });
    await this.announce(tx, written.row, before, result);
    return written;
  }

  /** Server-computed deadlines for the actions whose payload carries them. */
  private async withDeadlines(action: TicketAction, state: TicketState, row: TicketRow, now: Date): Promise<{ action: TicketAction; extra: Extra }> {
    const dl = (stage: 'dispatch' | 'response' | 'completion', type = state.type, urgency = state.urgency) =>
      Promise.resolve(this.deps.deadlines.deadlinesFor({ type, urgency, at: now, stage, acceptedAt: row.createdAt }));
    switch (action.type) {
      case 'accept': {
        const d = await dl('dispatch', action.requestType ?? state.type, action.urgency ?? state.urgency);
        return { action: { ...action, dispatchDueAt: d.dueAt }, extra: { dispatchWarnAt: d.warnAt } };
      }
      case 'dispatch':
      case 'redispatch': {
        const [c, r] = [await dl('completion'), await dl('response')];
        return { action: { ...action, dueAt: c.dueAt, responseDueAt: r.dueAt }, extra: { dueWarnAt: c.warnAt, responseWarnAt: r.warnAt } };
      }
      case 'reopen': {
        const c = await dl('completion');
        return { action: { ...action, dueAt: c.dueAt }, extra: { dueWarnAt: c.warnAt } };
      }
      case 'evaluate': {
        if (action.evaluation !== 'dissatisfied') return { action, extra: {} };
        const c = await dl('completion');
        const rule = (this.deps.policy ?? DEFAULT_LIFECYCLE_POLICY).dissatisfied;
        return { action: { ...action, reopenDueAt: c.dueAt }, extra: rule.reopen && state.reopenCount < rule.maxReopens ? { dueWarnAt: c.warnAt } : {} };
      }
      default:
        return { action, extra: {} };
    }
  }

  private async requireDepartments(s: TicketState): Promise<void> {
    const ids = [s.mainDepartmentId!, ...s.coDepartmentIds];
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
    const bad = ids.filter((d) => !uuid.test(d));
    const active = bad.length ? new Set<string>() : await this.deps.departments.activeIds(ids);
    const missing = ids.filter((d) => !active.has(d));
    if (missing.length) throw new ValidationError('Dispatch only to existing, active departments', { departmentIds: missing }, 'department_not_found');
  }

  // --- Attachments on tickets.

  async linkAttachments(id: string, attachmentIds: readonly string[], actor: Principal): Promise<TicketView> {
    const now = this.deps.clock.now();
    return this.deps.db.transaction().execute(async (tx) => {
      const row = await this.deps.repo.lockById(tx, id);
      if (!row || !(await this.canSee(tx, row, actor)) || actor.role === 'integrator') throw notFound(id);
      await this.linkAttachmentsInTx(tx, id, attachmentIds, actor, null, now);
      return this.detail(tx, row, actor);
    });
  }

  /** Only attachments that exist; a department handler may attach only what it uploaded itself. */
  async linkAttachmentsInTx(tx: Tx, ticketId: string, ids: readonly string[], actor: TicketActor, transitionId: string | null, now: Date): Promise<AttachmentRow[]> {
    const unique = [...new Set(ids)];
    const rows = await this.deps.attachments.findByIds(tx, unique);
    const found = new Set(rows.map((a) => a.id));
    const missing = unique.filter((a) => !found.has(a));
    if (missing.length) throw new ValidationError('Unknown attachment ids', { attachmentIds: missing }, 'attachment_not_found');
    if (!isSystem(actor) && !STAFF.has(actor.role)) {
      const own = await this.deps.attachments.uploadedBy(tx, unique, actor.id);
      const foreign = unique.filter((a) => !own.has(a));
      if (foreign.length) throw new ForbiddenError('Attach only files you uploaded', 'attachment_forbidden', { attachmentIds: foreign });
    }
    await this.deps.attachments.link(tx, ticketId, unique, actor.id, transitionId, now);
    return rows;
  }

  // --- Progress self-query (web, app, IVR).

  /** By number and the caller's phone, or number and the 6-digit code; any mismatch is the same 404. */
  async progressQuery(q: { number: string; phone?: string; code?: string }): Promise<ProgressView> {
    if ((q.phone === undefined) === (q.code === undefined)) {
      throw new ValidationError('Give the ticket number with either the phone number or the verification code', {}, 'progress_query_credentials');
    }
    const fail = new NotFoundError('Ticket', q.number, 'ticket_not_found');
    const row = await this.deps.repo.findByNumber(this.deps.db, q.number);
    if (!row) throw fail;
    let ok: boolean;
    if (q.phone !== undefined) {
      let phone: string;
      try {
        phone = normalizePhone(q.phone);
      } catch {
        throw fail;
      }
      ok = await this.deps.repo.hasCallerPhone(this.deps.db, row.id, phone);
    } else {
      ok = verifyCode(row.id, q.code!, row.verificationCodeHash);
    }
    if (!ok) throw fail;
    const history = await this.deps.repo.history(this.deps.db, row.id, undefined, 200);
    const master = row.mergedInto ? await this.deps.repo.findById(this.deps.db, row.mergedInto) : undefined;
    const status = row.status as TicketStatus;
    return {
      number: row.number, status, statusLabel: TICKET_STATUS_LABELS[status], lastUpdate: row.updatedAt.toISOString(),
      mergedIntoNumber: master?.number ?? null,
      // Only public milestones: no reasons, texts or names.
      steps: history.filter((h) => h.fromStatus !== h.toStatus).map((h) => ({
        action: h.action as TicketActionType, label: TICKET_ACTION_LABELS[h.action as TicketActionType] ?? h.action,
        status: h.toStatus as TicketStatus, statusLabel: TICKET_STATUS_LABELS[h.toStatus as TicketStatus], at: h.at.toISOString(),
      })),
    };
  }

  // --- Helpers.

  async canSee(db: Tx | Database, row: TicketRow, reader: TicketActor): Promise<boolean> {
    if (isSystem(reader) || STAFF.has(reader.role)) return true;
    if (reader.role === 'dept_handler') return reader.departmentId !== null && this.deps.repo.holdsTicket(db, row.id, reader.departmentId);
    if (reader.role === 'integrator') return row.createdById === reader.id;
    return false;
  }

  private async detail(db: Tx | Database, row: TicketRow, reader: TicketActor): Promise<TicketView> {
    const callers = row.citizenId ? await this.deps.repo.callers(db, row.id) : [];
    const primary = callers.find((c) => c.citizenId === row.citizenId) ?? null;
    const view = ticketView(row, isSystem(reader) ? { hidden: false, phone: null, name: null, address: null } : callerView(reader, row.confidential, primary, 'full'), reader, callers.map((c) => c.name));
    const hideNames = hidesIdentity(reader, row.confidential);
    view.attachments = (await this.deps.attachments.ofTicket(db, row.id)).map((a) => attachmentRef(a, hideNames));
    return view;
  }
}

/** The columns a transition sets: its TicketState, and the warn times, reply and closing time beside it. */
function statePatch(row: TicketRow, result: TransitionResult | null, extra: Extra, now: Date): StatePatch {
  const before = rowToState(row);
  const s = result?.state ?? before;
  const patch: StatePatch = {
    status: s.status, type: s.type, urgency: s.urgency, mainDepartmentId: s.mainDepartmentId, coDepartmentIds: [...s.coDepartmentIds],
    coOpinionDepartmentIds: [...s.coOpinionDepartmentIds], dispatchDueAt: s.dispatchDueAt, responseDueAt: s.responseDueAt, dueAt: s.dueAt,
    supervised: s.supervised, warned: s.warned, overdue: s.overdue, extension: s.extension ? JSON.stringify(s.extension) : null,
    extensionCount: s.extensionCount, reminderCount: s.reminderCount, reopenCount: s.reopenCount, returnCount: s.returnCount,
    revisitAttempts: s.revisitAttempts, evaluation: s.evaluation, notAcceptedReason: s.notAcceptedReason, mergedInto: s.mergedInto,
    mergedTicketIds: [...s.mergedTicketIds], version: s.version, updatedAt: now, ...extra,
  };
  // A deadline the state machine moved without us computing it (e.g. an approved extension) has no warn time yet.
  if (!sameTime(s.dueAt, before.dueAt) && extra.dueWarnAt === undefined) patch.dueWarnAt = null;
  if (!sameTime(s.dispatchDueAt, before.dispatchDueAt) && extra.dispatchWarnAt === undefined) patch.dispatchWarnAt = null;
  if (!sameTime(s.responseDueAt, before.responseDueAt) && extra.responseWarnAt === undefined) patch.responseWarnAt = null;
  if (s.status === 'closed' && before.status !== 'closed') patch.closedAt = now;
  else if (['accepted', 'in_progress'].includes(s.status) && row.closedAt !== null) patch.closedAt = null; // reopened
  return patch;
}

/** A new ticket as a draft row in memory: the state its first transition starts from. */
function draftRow(t: NewTicketRow & { type: RequestType; urgency: Urgency }): TicketRow {
  return {
    id: t.id, number: '', channel: t.channel, channelMeta: t.channelMeta, callId: t.callId, type: t.type, scopeDomain: t.scopeDomain, categoryId: t.categoryId,
    urgency: t.urgency, title: t.title, content: t.content, address: t.address, areaCode: t.areaCode, citizenId: null, confidential: false, status: 'draft',
    mainDepartmentId: null, coDepartmentIds: [], coOpinionDepartmentIds: [], dispatchDueAt: null, dispatchWarnAt: null, responseDueAt: null, responseWarnAt: null,
    dueAt: null, dueWarnAt: null, supervised: false, warned: false, overdue: false, extension: null, extensionCount: 0, reminderCount: 0, reopenCount: 0,
    returnCount: 0, revisitAttempts: 0, evaluation: null, notAcceptedReason: null, notAcceptedReply: null, mergedInto: null, mergedTicketIds: [], version: 0,
    verificationCodeHash: t.verificationCodeHash, createdByType: t.createdByType, createdById: t.createdById, createdAt: t.createdAt, updatedAt: t.createdAt, closedAt: null,
  };
}

function actorTypeOf(actor: TicketActor): string {
  return isSystem(actor) ? 'system' : actor.kind;
}

function redactStrings(data: Record<string, unknown>, names: readonly (string | null)[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, typeof v === 'string' ? redactIdentity(v, names) : v]));
}

function notFound(id: string): NotFoundError {
  return new NotFoundError('Ticket', id, 'ticket_not_found');
}

function checkVersion(row: TicketRow, expected: number | undefined): void {
  if (expected !== undefined && row.version !== expected) {
    throw new ConflictError(`The ticket is at version ${row.version}, not ${expected}; reload and try again`, 'version_conflict', { currentVersion: row.version });
  }
}

function sameTime(a: Date | null, b: Date | null): boolean {
  return (a?.getTime() ?? null) === (b?.getTime() ?? null);
}

// Where `opts.reason` goes when the payload has none: the action's note or its reason.
const NOTE_ACTIONS: ReadonlySet<string> = new Set(['not_accept', 'dispatch', 'sign', 'approve_reply', 'revisit', 'remind', 'approve_extension']);
const REASON_ACTIONS: ReadonlySet<string> = new Set(['return', 'redispatch', 'uphold_dispatch', 'reject_reply', 'reopen', 'supervise', 'lift_supervision', 'request_extension', 'reject_extension', 'merge', 'cancel']);

function withReason(action: TicketAction, reason: string | undefined): TicketAction {
  const key = NOTE_ACTIONS.has(action.type) ? 'note' : REASON_ACTIONS.has(action.type) ? 'reason' : null;
  const a = action as unknown as Record<string, unknown>;
  if (reason === undefined || key === null || a[key] !== undefined) return action;
  return { ...a, [key]: reason } as unknown as TicketAction;
}

export function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(JSON.stringify([createdAt.toISOString(), id])).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    const createdAt = new Date(String(at));
    if (typeof id !== 'string' || Number.isNaN(createdAt.getTime())) throw new Error('bad');
    return { createdAt, id };
  } catch {
    throw new ValidationError('The cursor is not one this API gave out', { field: 'cursor' }, 'invalid_cursor');
  }
}
