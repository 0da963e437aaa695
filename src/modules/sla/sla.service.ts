/**
 * Time limits (时限): the working-day calendar and SLA policy operators maintain, deadlines for
 * the tickets module, and the durable timers that warn (预警), mark tickets overdue (超期) and
 * escalate them to supervision (督办). Configuration lives in PostgreSQL and is cached here; a
 * NOTIFY from any instance (or the TTL) makes the cache reload.
 */
import type { Logger } from 'pino';
import type { Database, Tx } from '../../adapters/db/database.js';
import type { Principal } from '../../domain/auth.js';
import {
  DEFAULT_SLA_POLICY,
  DEFAULT_WORKING_HOURS,
  deadline,
  formatLocalDate,
  limitsFor,
  parseCalendarYear,
  parseLocalDate,
  parseSlaPolicy,
  warnAt as warnAtOf,
  WorkingCalendar,
  type CalendarDay,
  type DayInfo,
  type SlaPolicy,
  type TimeLimit,
  type WorkingPeriod,
} from '../../domain/calendar/index.js';
import type { Clock } from '../../domain/clock.js';
import { NotFoundError, UnavailableError, ValidationError } from '../../domain/errors.js';
import { isRequestType, isUrgency, runningDeadline, SLA_STAGES, type RequestType, type SlaStage, type TicketState, type Urgency } from '../../domain/tickets/index.js';
import type { OutboxRepository } from '../events/outbox.repository.js';
import type { SlaTicketsPort } from './sla.ports.js';
import type { CalendarYearRow, FiringRow, PendingJobRow, SlaRepository, TicketTimerRow, TimerKind } from './sla.repository.js';
import { timerKey, type TimerScheduler } from './sla.scheduler.js';
import { fireTimer, parseTimerPayload, type TimerJobInfo } from './sla.timers.js';

export interface PolicyVersion {
  /** 0 = the built-in default, in force until operators store a policy. */
  readonly version: number;
  readonly policy: SlaPolicy;
  readonly effectiveFrom: Date;
  readonly note: string | null;
  readonly createdBy: string | null;
}

interface Snapshot {
  readonly calendar: WorkingCalendar;
  readonly years: readonly CalendarYearRow[];
  readonly workingHours: { readonly periods: readonly WorkingPeriod[]; readonly updatedBy: string | null; readonly updatedAt: Date | null };
  /** Ascending by effectiveFrom, then version. */
  readonly policies: readonly PolicyVersion[];
}

export interface DeadlineQuery {
  readonly type: RequestType;
  readonly urgency: Urgency;
  /** When the stage starts (acceptance for dispatch, dispatch for response and completion). */
  readonly at: Date;
  readonly stage: SlaStage;
  /** When the ticket was accepted: picks the policy version (defaults to `at`). */
  readonly acceptedAt?: Date;
}

export interface DeadlineAnswer {
  readonly dueAt: Date;
  readonly warnAt: Date;
  readonly limit: TimeLimit;
  readonly policyVersion: number;
}

export interface SyncOptions {
  /** When the transition happened (defaults to the clock): a new deadline's period starts here. */
  readonly at?: Date;
  /** The ticket comes from a draft, which never had a running deadline: there is no timer to look for. */
  readonly fresh?: boolean;
}

export interface SlaServiceOptions {
  /** How long a cached configuration is trusted without a NOTIFY (other instances' changes). */
  readonly cacheTtlMs: number;
  /** Names this instance in the timer log. */
  readonly instance: string;
  /** Retries of a timer whose action failed (e.g. the tickets module was unavailable). */
  readonly maxAttempts: number;
}

const DEFAULT_VERSION: PolicyVersion = { version: 0, policy: DEFAULT_SLA_POLICY, effectiveFrom: new Date(0), note: null, createdBy: null };
const MAX_DAYS_LISTED = 366;

export { timerKey };

export class SlaService {
  private snapshot: Snapshot | undefined;
  private loadedAt = 0;
  private dirty = true;
  private loading: Promise<Snapshot> | undefined;
  private tickets: SlaTicketsPort | undefined;
  private scheduler: TimerScheduler | undefined;

  constructor(
    private readonly db: Database,
    private readonly repo: SlaRepository,
    private readonly outbox: OutboxRepository,
    private readonly clock: Clock,
    private readonly opts: SlaServiceOptions,
    private readonly logger: Logger,
  ) {}

  /** The tickets module, once it is there (modules are built before they know each other). */
  attachTickets(port: SlaTicketsPort): void {
    this.tickets = port;
  }

  /** The loop that adds the jobs of recorded deadlines (see sla.scheduler.ts). */
  attachScheduler(scheduler: TimerScheduler): void {
    this.scheduler = scheduler;
  }

  // --- Configuration cache.

  /** Marks the cache stale (a NOTIFY said another instance changed the configuration) and reloads it in the background. */
  invalidate(): void {
    this.dirty = true;
    if (this.snapshot) void this.reload().catch(() => undefined); // load() logs its failures
  }

  private stale(): boolean {
    return this.dirty || performance.now() - this.loadedAt >= this.opts.cacheTtlMs;
  }

  private reload(): Promise<Snapshot> {
    this.loading ??= this.load().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  /** Operators' reads: a stale cache is reloaded before answering. */
  private async current(): Promise<Snapshot> {
    if (this.snapshot && !this.stale()) return this.snapshot;
    return this.reload();
  }

  /**
   * For work inside a caller's transaction (intake, transitions): the cached configuration at
   * once, refreshed in the background when stale. Waiting for a reload there would hold the
   * transaction's connection while asking the pool for a second one; under load that starves it.
   */
  private async cached(): Promise<Snapshot> {
    if (!this.snapshot) return this.reload(); // only before start() has loaded it
    if (this.stale()) void this.reload().catch(() => undefined);
    return this.snapshot;
  }

  /** Reads everything again; called directly after own writes so they are visible at once. */
  async load(): Promise<Snapshot> {
    this.dirty = false;
    const started = performance.now();
    try {
      const years = await this.repo.listCalendarYears(this.db);
      const hours = await this.repo.getWorkingHours(this.db);
      const versions = await this.repo.listPolicyVersions(this.db);
      const calendar = new WorkingCalendar({
        years: years.map((y) => ({ year: y.year, holidays: y.holidays, workdays: y.workdays })),
        ...(hours ? { workingHours: hours.periods } : {}),
      });
      const policies = versions
        .map((v): PolicyVersion => ({ version: v.version, policy: parseSlaPolicy(v.policy), effectiveFrom: v.effectiveFrom, note: v.note, createdBy: v.createdBy }))
        .sort((a, b) => a.effectiveFrom.getTime() - b.effectiveFrom.getTime() || a.version - b.version);
      this.snapshot = {
        calendar, years, policies,
        workingHours: hours ? { periods: hours.periods, updatedBy: hours.updatedBy, updatedAt: hours.updatedAt } : { periods: DEFAULT_WORKING_HOURS, updatedBy: null, updatedAt: null },
      };
      this.loadedAt = started;
      return this.snapshot;
    } catch (err) {
      this.dirty = true;
      // A stale configuration beats none: keep serving it and try again on the next call.
      if (this.snapshot) {
        this.logger.error({ err }, 'SLA configuration reload failed; serving the previous one');
        return this.snapshot;
      }
      throw new UnavailableError('SLA configuration could not be loaded', 'sla_config_unavailable', { cause: err });
    }
  }

  private static policyAt(s: Snapshot, at: Date): PolicyVersion {
    let found = DEFAULT_VERSION;
    for (const p of s.policies) if (p.effectiveFrom.getTime() <= at.getTime()) found = p;
    return found;
  }

  // --- Calendar (operators load one year at a time).

  async putCalendarYear(year: number, input: { year?: number; holidays?: unknown; workdays?: unknown }, actor: Principal): Promise<CalendarYearView> {
    if (input.year !== undefined && input.year !== year) {
      throw new ValidationError(`the body is for ${input.year} but the path names ${year}`, { year: input.year }, 'calendar_year_mismatch');
    }
    const s = await this.current();
    const parsed = parseCalendarYear({ year, holidays: input.holidays ?? [], workdays: input.workdays ?? [] }, s.calendar.weekendDays);
    s.calendar.withYears([parsed]); // refuses a day that another year lists the other way
    const row = await this.db.transaction().execute(async (tx) => {
      const stored = await this.repo.upsertCalendarYear(tx, { year, holidays: parsed.holidays, workdays: parsed.workdays, updatedBy: actor.id });
      await this.outbox.append(tx, [{ type: 'sla.calendar_year_loaded', payload: { year, holidays: parsed.holidays.length, workdays: parsed.workdays.length, by: actor.id } }]);
      return stored;
    });
    await this.load();
    return yearView(row);
  }

  async listCalendarYears(): Promise<CalendarYearSummary[]> {
    const s = await this.current();
    return s.years.map((y) => ({ year: y.year, holidays: y.holidays.length, workdays: y.workdays.length, updatedBy: y.updatedBy, updatedAt: y.updatedAt.toISOString() }));
  }

  async getCalendarYear(year: number): Promise<CalendarYearView> {
    const s = await this.current();
    const row = s.years.find((y) => y.year === year);
    if (!row) throw new NotFoundError('Calendar year', year, 'calendar_year_not_found');
    return yearView(row);
  }

  /** Working and non-working days between two local dates, with holiday and 调休 names. */
  async calendarDays(from: string, to: string): Promise<(DayInfo & { loaded: boolean })[]> {
    const a = parseLocalDate(from);
    const b = parseLocalDate(to);
    if (a === null) throw new ValidationError(`from '${from}' is not a date YYYY-MM-DD`, { field: 'from' }, 'invalid_date');
    if (b === null) throw new ValidationError(`to '${to}' is not a date YYYY-MM-DD`, { field: 'to' }, 'invalid_date');
    if (b < a) throw new ValidationError('to is before from', { from, to }, 'invalid_date_range');
    if (b - a + 1 > MAX_DAYS_LISTED) throw new ValidationError(`at most ${MAX_DAYS_LISTED} days at a time`, { from, to }, 'date_range_too_long');
    const { calendar } = await this.current();
    const days: (DayInfo & { loaded: boolean })[] = [];
    for (let d = a; d <= b; d++) {
      const info = calendar.dayInfo(formatLocalDate(d));
      days.push({ ...info, loaded: calendar.coversYear(Number(info.date.slice(0, 4))) });
    }
    return days;
  }

  async getWorkingHours(): Promise<WorkingHoursView> {
    const { workingHours: h } = await this.current();
    return { periods: [...h.periods], updatedBy: h.updatedBy, updatedAt: h.updatedAt?.toISOString() ?? null };
  }

  async putWorkingHours(periods: readonly WorkingPeriod[], actor: Principal): Promise<WorkingHoursView> {
    const checked = new WorkingCalendar({ workingHours: periods }).workingHours; // validates: order, overlap, HH:MM
    await this.db.transaction().execute(async (tx) => {
      await this.repo.upsertWorkingHours(tx, checked, actor.id);
      await this.outbox.append(tx, [{ type: 'sla.working_hours_changed', payload: { periods: checked, by: actor.id } }]);
    });
    await this.load();
    return this.getWorkingHours();
  }

  // --- Policy (versioned: a change applies to tickets accepted afterwards).

  async currentPolicy(): Promise<PolicyVersionView> {
    const s = await this.current();
    return policyView(SlaService.policyAt(s, this.clock.now()));
  }

  async listPolicyVersions(): Promise<PolicyVersionView[]> {
    const s = await this.current();
    return [DEFAULT_VERSION, ...s.policies].map(policyView);
  }

  async putPolicy(input: unknown, opts: { note?: string; effectiveFrom?: string }, actor: Principal): Promise<PolicyVersionView> {
    const policy = parseSlaPolicy(input);
    const now = this.clock.now();
    let effectiveFrom = now;
    if (opts.effectiveFrom !== undefined) {
      effectiveFrom = new Date(opts.effectiveFrom);
      if (Number.isNaN(effectiveFrom.getTime())) throw new ValidationError('effectiveFrom is not a date-time', { field: 'effectiveFrom' }, 'invalid_date');
      // The past is settled: tickets already accepted keep the limits they were accepted under.
      if (effectiveFrom.getTime() < now.getTime()) throw new ValidationError('effectiveFrom must not be in the past', { field: 'effectiveFrom' }, 'policy_effective_in_past');
    }
    const row = await this.db.transaction().execute(async (tx) => {
      const stored = await this.repo.insertPolicyVersion(tx, { policy, note: opts.note ?? null, createdBy: actor.id, effectiveFrom });
      await this.outbox.append(tx, [{ type: 'sla.policy_changed', payload: { version: stored.version, effectiveFrom: effectiveFrom.toISOString(), by: actor.id } }]);
      return stored;
    });
    await this.load();
    return policyView({ version: row.version, policy, effectiveFrom: row.effectiveFrom, note: row.note, createdBy: row.createdBy });
  }

  // --- Deadlines.

  /** The deadline and warning instant of one stage for a request, under the policy in force at acceptance. */
  async deadlinesFor(q: DeadlineQuery): Promise<DeadlineAnswer> {
    if (!isRequestType(q.type)) throw new ValidationError(`unknown request type '${String(q.type)}'`, { field: 'type' }, 'invalid_request_type');
    if (!isUrgency(q.urgency)) throw new ValidationError(`unknown urgency '${String(q.urgency)}'`, { field: 'urgency' }, 'invalid_urgency');
    if (!SLA_STAGES.includes(q.stage)) throw new ValidationError(`unknown stage '${String(q.stage)}'`, { field: 'stage' }, 'invalid_sla_stage');
    if (Number.isNaN(q.at.getTime()) || (q.acceptedAt !== undefined && Number.isNaN(q.acceptedAt.getTime()))) {
      throw new ValidationError('invalid date', { field: 'at' }, 'invalid_date');
    }
    const s = await this.cached();
    const v = SlaService.policyAt(s, q.acceptedAt ?? q.at);
    const limit = limitsFor(v.policy, q.type, q.urgency)[q.stage];
    const d = deadline(v.policy, s.calendar, q.at, limit);
    return { dueAt: d.dueAt, warnAt: d.warnAt, limit, policyVersion: v.version };
  }

  /** All three stages at once, for operators checking a policy (dispatch from `at`, the others as if dispatched at `at`). */
  async previewDeadlines(q: { type: RequestType; urgency: Urgency; at?: string }): Promise<Record<SlaStage, DeadlineAnswer>> {
    const at = q.at === undefined ? this.clock.now() : new Date(q.at);
    const out: Partial<Record<SlaStage, DeadlineAnswer>> = {};
    for (const stage of SLA_STAGES) out[stage] = await this.deadlinesFor({ type: q.type, urgency: q.urgency, at, stage });
    return out as Record<SlaStage, DeadlineAnswer>;
  }

  // --- Durable timers.

  /**
   * Makes the ticket's timer match `runningDeadline(state)`, in the caller's transaction: a new
   * or moved deadline is recorded (its old jobs removed) for the scheduler to add the new jobs,
   * no running deadline removes row and jobs, an unchanged one leaves them alone (so the timers'
   * own transitions do not reschedule themselves). One round trip; `fresh` (the transition left a
   * draft) skips removing a timer that cannot exist.
   */
  async syncTimers(tx: Tx, state: TicketState, opts: SyncOptions = {}): Promise<void> {
    const running = runningDeadline(state);
    const keys = [timerKey(state.id, 'warning'), timerKey(state.id, 'overdue')];
    if (running === null) {
      if (!opts.fresh) await this.repo.deleteTimer(tx, state.id, keys);
      return;
    }
    const startedAt = opts.at ?? this.clock.now();
    const s = await this.cached();
    const v = SlaService.policyAt(s, startedAt);
    // The unit decides whether the warning share is of working or natural time.
    const limit = limitsFor(v.policy, state.type, state.urgency)[running.stage];
    const warnAt = new Date(Math.min(warnAtOf(v.policy.warning, s.calendar, startedAt, running.dueAt, limit).getTime(), running.dueAt.getTime()));
    const written = await this.repo.writeTimer(tx, {
      ticketId: state.id, stage: running.stage, startedAt, dueAt: running.dueAt, warnAt, policyVersion: v.version,
      warningJob: !state.warned && !state.overdue, overdueJob: !state.overdue,
    }, keys);
    if (written) this.scheduler?.wake();
  }

  /** Adds the jobs of every pending timer now (tests, shutdown); the scheduler does it shortly anyway. */
  async flushTimers(): Promise<number> {
    return this.scheduler ? this.scheduler.flush() : 0;
  }

  /** Called by the worker when a timer is due; see sla.timers.ts. */
  async fire(kind: TimerKind, payload: unknown, job: TimerJobInfo): Promise<void> {
    const p = parseTimerPayload(payload);
    if (p === null) {
      // Retrying cannot repair a malformed payload; the job completes and the log says why.
      this.logger.error({ kind, payload, jobId: job.id }, 'SLA timer with an unreadable payload dropped');
      return;
    }
    if (!this.tickets) throw new UnavailableError('the tickets module is not available; the timer will retry', 'tickets_unavailable');
    await fireTimer({
      kind, payload: p, job, tickets: this.tickets, now: this.clock.now(), instance: this.opts.instance,
      log: (f) => this.repo.insertFiring(this.db, f),
      reschedule: (delayMs) => this.db.transaction().execute((tx) => this.repo.scheduleJob(tx, {
        task: kind === 'warning' ? 'sla_warning' : 'sla_overdue', key: timerKey(p.ticketId, kind), payload, delayMs, maxAttempts: this.opts.maxAttempts,
      })),
    });
  }

  /** The ticket's running deadline, its pending jobs and what fired so far (supervisors, operators). */
  async ticketTimers(ticketId: string): Promise<{ timer: TicketTimerRow | null; jobs: PendingJobRow[]; firings: FiringRow[] }> {
    const timer = (await this.repo.findTimer(this.db, ticketId)) ?? null;
    const jobs = await this.repo.pendingJobs(this.db, [timerKey(ticketId, 'warning'), timerKey(ticketId, 'overdue')]);
    const firings = await this.repo.listFirings(this.db, ticketId);
    return { timer, jobs, firings };
  }

  async failedTimers(): Promise<number> {
    return this.repo.failedJobCount(this.db);
  }

  /** Years around now without an official calendar: deadlines there count Monday–Friday only. */
  async missingYears(): Promise<number[]> {
    const { calendar } = await this.current();
    const year = Number(new Date(this.clock.now().getTime() + calendar.offsetMinutes * 60_000).toISOString().slice(0, 4));
    return calendar.missingYears(year, year + 1);
  }
}

export interface CalendarYearView {
  year: number;
  holidays: CalendarDay[];
  workdays: CalendarDay[];
  updatedBy: string | null;
  updatedAt: string;
}

export interface CalendarYearSummary {
  year: number;
  holidays: number;
  workdays: number;
  updatedBy: string | null;
  updatedAt: string;
}

export interface WorkingHoursView {
  periods: WorkingPeriod[];
  updatedBy: string | null;
  updatedAt: string | null;
}

export interface PolicyVersionView {
  version: number;
  effectiveFrom: string;
  note: string | null;
  createdBy: string | null;
  policy: SlaPolicy;
}

function yearView(r: CalendarYearRow): CalendarYearView {
  return { year: r.year, holidays: r.holidays, workdays: r.workdays, updatedBy: r.updatedBy, updatedAt: r.updatedAt.toISOString() };
}

function policyView(v: PolicyVersion): PolicyVersionView {
  return { version: v.version, effectiveFrom: v.effectiveFrom.toISOString(), note: v.note, createdBy: v.createdBy, policy: v.policy };
}
