/**
 * All SQL of the SLA module: calendar years, working hours, policy versions, the running
 * deadline per ticket, the timer log, and the graphile-worker jobs that are the timers. Jobs are
 * added and removed with graphile-worker's own SQL functions so that they commit or roll back
 * with the caller's transaction.
 */
import { sql } from 'kysely';
import { PREPARED, type Executor, type Tx } from '../../adapters/db/database.js';
import type { CalendarDay, WorkingPeriod } from '../../domain/calendar/index.js';
import type { SlaStage } from '../../domain/tickets/index.js';

export interface CalendarYearRow {
  year: number;
  holidays: CalendarDay[];
  workdays: CalendarDay[];
  updatedBy: string | null;
  updatedAt: Date;
}

export interface PolicyVersionRow {
  version: number;
  policy: unknown;
  note: string | null;
  createdBy: string | null;
  createdAt: Date;
  effectiveFrom: Date;
}

export interface TicketTimerRow {
  ticketId: string;
  stage: SlaStage;
  startedAt: Date;
  dueAt: Date;
  warnAt: Date;
  policyVersion: number;
  updatedAt: Date;
}

export type TimerKind = 'warning' | 'overdue';

/** A running deadline whose jobs the scheduler has yet to add. */
export interface PendingTimerRow {
  ticketId: string;
  stage: SlaStage;
  dueAt: Date;
  warnAt: Date;
  warningJob: boolean;
  overdueJob: boolean;
}
export type FiringOutcome = 'applied' | 'stale' | 'not_applicable' | 'early';

export interface FiringRow {
  ticketId: string;
  kind: TimerKind;
  stage: SlaStage;
  dueAt: Date;
  outcome: FiringOutcome;
  actions: string[];
  jobId: string | null;
  instance: string;
  firedAt: Date;
}

export interface PendingJobRow {
  id: string;
  task: string;
  key: string | null;
  runAt: Date;
  attempts: number;
  locked: boolean;
}

const TIMER_COLUMNS = ['ticketId', 'stage', 'startedAt', 'dueAt', 'warnAt', 'policyVersion', 'updatedAt'] as const;
const POLICY_COLUMNS = ['version', 'policy', 'note', 'createdBy', 'createdAt', 'effectiveFrom'] as const;

export class SlaRepository {
  // --- Calendar and working hours.

  async listCalendarYears(db: Executor): Promise<CalendarYearRow[]> {
    return (await db.selectFrom('slaCalendarYears').select(['year', 'holidays', 'workdays', 'updatedBy', 'updatedAt']).orderBy('year').execute()).map(toYearRow);
  }

  async upsertCalendarYear(tx: Tx, y: { year: number; holidays: readonly CalendarDay[]; workdays: readonly CalendarDay[]; updatedBy: string }): Promise<CalendarYearRow> {
    const values = { year: y.year, holidays: JSON.stringify(y.holidays), workdays: JSON.stringify(y.workdays), updatedBy: y.updatedBy };
    return toYearRow(await tx.insertInto('slaCalendarYears').values(values)
      .onConflict((oc) => oc.column('year').doUpdateSet({ holidays: values.holidays, workdays: values.workdays, updatedBy: values.updatedBy, updatedAt: sql`now()` }))
      .returning(['year', 'holidays', 'workdays', 'updatedBy', 'updatedAt'])
      .executeTakeFirstOrThrow());
  }

  async getWorkingHours(db: Executor): Promise<{ periods: WorkingPeriod[]; updatedBy: string | null; updatedAt: Date } | undefined> {
    return (await db.selectFrom('slaWorkingHours').select(['periods', 'updatedBy', 'updatedAt']).executeTakeFirst()) as
      { periods: WorkingPeriod[]; updatedBy: string | null; updatedAt: Date } | undefined;
  }

  async upsertWorkingHours(tx: Tx, periods: readonly WorkingPeriod[], updatedBy: string): Promise<void> {
    const json = JSON.stringify(periods);
    await tx.insertInto('slaWorkingHours').values({ id: true, periods: json, updatedBy })
      .onConflict((oc) => oc.column('id').doUpdateSet({ periods: json, updatedBy, updatedAt: sql`now()` }))
      .execute();
  }

  // --- Policy versions.

  async listPolicyVersions(db: Executor): Promise<PolicyVersionRow[]> {
    return db.selectFrom('slaPolicyVersions').select(POLICY_COLUMNS).orderBy('version').execute();
  }

  async insertPolicyVersion(tx: Tx, p: { policy: unknown; note: string | null; createdBy: string; effectiveFrom: Date }): Promise<PolicyVersionRow> {
    return tx.insertInto('slaPolicyVersions')
      .values({ policy: JSON.stringify(p.policy), note: p.note, createdBy: p.createdBy, effectiveFrom: p.effectiveFrom })
      .returning(POLICY_COLUMNS)
      .executeTakeFirstOrThrow();
  }

  // --- The running deadline per ticket.

  async findTimer(db: Executor, ticketId: string): Promise<TicketTimerRow | undefined> {
    return (await db.selectFrom('slaTicketTimers').select(TIMER_COLUMNS).where('ticketId', '=', ticketId).executeTakeFirst()) as TicketTimerRow | undefined;
  }

  /**
   * Records a new or moved running deadline in one statement, pending for the scheduler; false
   * when it is unchanged (the row is only locked). A moved deadline's old jobs (`jobKeys`) are
   * removed at once, in the caller's transaction, so they can never fire for a stage that ended.
   */
  async writeTimer(tx: Tx, t: Omit<TicketTimerRow, 'updatedAt'> & { warningJob: boolean; overdueJob: boolean }, jobKeys: readonly string[]): Promise<boolean> {
    const { rows } = await sql<{ written: number }>`
      ${sql.raw(PREPARED)} WITH up AS (
        INSERT INTO sla_ticket_timers AS cur (ticket_id, stage, started_at, due_at, warn_at, policy_version, warning_job, overdue_job, scheduled, updated_at)
        VALUES (${t.ticketId}, ${t.stage}, ${t.startedAt}, ${t.dueAt}, ${t.warnAt}, ${t.policyVersion}, ${t.warningJob}, ${t.overdueJob}, false, now())
        ON CONFLICT (ticket_id) DO UPDATE SET stage = excluded.stage, started_at = excluded.started_at, due_at = excluded.due_at,
          warn_at = excluded.warn_at, policy_version = excluded.policy_version, warning_job = excluded.warning_job,
          overdue_job = excluded.overdue_job, scheduled = false, updated_at = now()
        WHERE cur.stage <> excluded.stage OR cur.due_at <> excluded.due_at
        RETURNING (xmax <> 0) AS replaced),
      removed AS (SELECT graphile_worker.remove_job(k) FROM up, unnest(${[...jobKeys]}::text[]) AS k WHERE up.replaced)
      SELECT (SELECT count(*) FROM up)::int AS written, (SELECT count(*) FROM removed)::int AS removed`.execute(tx);
    return (rows[0]?.written ?? 0) > 0;
  }

  /** No deadline runs any more: the row and its jobs go, in one statement. */
  async deleteTimer(tx: Tx, ticketId: string, jobKeys: readonly string[]): Promise<void> {
    await sql`
      WITH gone AS (DELETE FROM sla_ticket_timers WHERE ticket_id = ${ticketId} RETURNING ticket_id),
      removed AS (SELECT graphile_worker.remove_job(k) FROM gone, unnest(${[...jobKeys]}::text[]) AS k)
      SELECT (SELECT count(*) FROM removed)::int AS removed`.execute(tx);
  }

  /** Timers written since the last batch, oldest first, locked for this scheduler. */
  async claimPendingTimers(tx: Tx, limit: number): Promise<PendingTimerRow[]> {
    const { rows } = await sql<PendingTimerRow>`
      SELECT ticket_id, stage, due_at, warn_at, warning_job, overdue_job FROM sla_ticket_timers
       WHERE NOT scheduled ORDER BY updated_at LIMIT ${limit} FOR UPDATE SKIP LOCKED`.execute(tx);
    return rows;
  }

  async markScheduled(tx: Tx, ticketIds: readonly string[]): Promise<void> {
    if (ticketIds.length === 0) return;
    await sql`UPDATE sla_ticket_timers SET scheduled = true WHERE ticket_id = ANY(${[...ticketIds]}::uuid[])`.execute(tx);
  }

  async pendingTimerCount(db: Executor): Promise<number> {
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM sla_ticket_timers WHERE NOT scheduled`.execute(db);
    return rows[0]?.n ?? 0;
  }

  // --- Durable jobs (graphile-worker).

  /**
   * Adds or replaces the job under `key`, due `delayMs` after the database's own now() (the
   * worker compares run_at with the database clock, so skew between hosts does not matter).
   */
  async scheduleJob(tx: Tx, job: { task: string; key: string; payload: unknown; delayMs: number; maxAttempts: number }): Promise<void> {
    await sql`SELECT graphile_worker.add_job(
        identifier => ${job.task},
        payload => ${JSON.stringify(job.payload)}::json,
        run_at => now() + ${Math.max(0, Math.round(job.delayMs))} * interval '1 millisecond',
        max_attempts => ${job.maxAttempts},
        job_key => ${job.key},
        job_key_mode => 'replace')`.execute(tx);
  }

  /**
   * Adds or replaces many jobs in one call (graphile-worker's add_jobs: one NOTIFY for the batch,
   * where add_job per job wakes the workers every time). Due `delayMs` after the database's now().
   */
  async scheduleJobs(tx: Tx, jobs: readonly { task: string; key: string; payload: unknown; delayMs: number }[], maxAttempts: number): Promise<void> {
    if (jobs.length === 0) return;
    await sql`
      SELECT count(*) FROM graphile_worker.add_jobs(ARRAY(
        SELECT ROW(j.task, j.payload::json, NULL, now() + j.delay_ms * interval '1 millisecond', ${maxAttempts}, j.key, NULL, NULL)::graphile_worker.job_spec
          FROM unnest(${jobs.map((j) => j.task)}::text[], ${jobs.map((j) => JSON.stringify(j.payload))}::text[],
                      ${jobs.map((j) => Math.max(0, Math.round(j.delayMs)))}::bigint[], ${jobs.map((j) => j.key)}::text[]) AS j(task, payload, delay_ms, key)))`.execute(tx);
  }

  async pendingJobs(db: Executor, keys: readonly string[]): Promise<PendingJobRow[]> {
    if (keys.length === 0) return [];
    const { rows } = await sql<PendingJobRow>`
      SELECT id::text AS id, task_identifier AS task, key, run_at AS "runAt", attempts, (locked_at IS NOT NULL) AS locked
        FROM graphile_worker.jobs
       WHERE key = ANY(${[...keys]}::text[])
       ORDER BY run_at`.execute(db);
    return rows;
  }

  /** Timers that used up their attempts (the action kept failing): operators must look. */
  async failedJobCount(db: Executor): Promise<number> {
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM graphile_worker.jobs
       WHERE task_identifier IN ('sla_warning', 'sla_overdue') AND attempts >= max_attempts AND locked_at IS NULL`.execute(db);
    return rows[0]?.n ?? 0;
  }

  // --- What fired.

  async insertFiring(db: Executor, f: Omit<FiringRow, 'firedAt'>): Promise<void> {
    await db.insertInto('slaTimerFirings').values({ ...f, actions: [...f.actions] }).execute();
  }

  async listFirings(db: Executor, ticketId: string): Promise<FiringRow[]> {
    return (await db.selectFrom('slaTimerFirings')
      .select(['ticketId', 'kind', 'stage', 'dueAt', 'outcome', 'actions', 'jobId', 'instance', 'firedAt'])
      .where('ticketId', '=', ticketId)
      .orderBy('id')
      .execute()) as FiringRow[];
  }
}

// Stored by this repository from parsed calendar data, so the JSON has the CalendarDay shape.
function toYearRow(r: { year: number; holidays: unknown; workdays: unknown; updatedBy: string | null; updatedAt: Date }): CalendarYearRow {
  return { year: r.year, holidays: r.holidays as CalendarDay[], workdays: r.workdays as CalendarDay[], updatedBy: r.updatedBy, updatedAt: r.updatedAt };
}
