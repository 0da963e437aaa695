import { sql } from 'kysely';
import type { Executor } from '../../adapters/db/database.js';
import type { OpeningPeriod, ScheduleException, WeeklyHours } from '../../domain/schedules/index.js';

export interface ScheduleRow {
  id: string;
  code: string;
  name: string;
  utcOffsetMinutes: number;
  weekly: WeeklyHours;
  active: boolean;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = ['id', 'code', 'name', 'utcOffsetMinutes', 'weekly', 'active', 'createdAt', 'updatedAt'] as const;
// pg turns a DATE into a local-midnight Date; the text form is what the domain wants.
const DATE_TEXT = sql<string>`to_char(date, 'YYYY-MM-DD')`.as('date');

export class SchedulesRepository {
  async insert(db: Executor, s: { code: string; name: string; utcOffsetMinutes: number; weekly: WeeklyHours }): Promise<ScheduleRow> {
    return (await db.insertInto('schedules').values({ ...s, weekly: JSON.stringify(s.weekly) }).returning(COLUMNS).executeTakeFirstOrThrow()) as ScheduleRow;
  }

  async update(db: Executor, id: string, patch: { name?: string; utcOffsetMinutes?: number; weekly?: WeeklyHours; active?: boolean }): Promise<ScheduleRow | undefined> {
    const { weekly, ...rest } = patch;
    return (await db.updateTable('schedules')
      .set({ ...rest, ...(weekly ? { weekly: JSON.stringify(weekly) } : {}), updatedAt: sql<Date>`now()` })
      .where('id', '=', id).returning(COLUMNS).executeTakeFirst()) as ScheduleRow | undefined;
  }

  async findById(db: Executor, id: string): Promise<ScheduleRow | undefined> {
    return (await db.selectFrom('schedules').select(COLUMNS).where('id', '=', id).executeTakeFirst()) as ScheduleRow | undefined;
  }

  async findByCode(db: Executor, code: string): Promise<ScheduleRow | undefined> {
    return (await db.selectFrom('schedules').select(COLUMNS).where('code', '=', code).executeTakeFirst()) as ScheduleRow | undefined;
  }

  async list(db: Executor, f: { active?: boolean; after?: string; limit: number }): Promise<ScheduleRow[]> {
    let q = db.selectFrom('schedules').select(COLUMNS).orderBy('code').limit(f.limit);
    if (f.active !== undefined) q = q.where('active', '=', f.active);
    if (f.after) q = q.where('code', '>', f.after);
    return (await q.execute()) as ScheduleRow[];
  }

  /** Exceptions from `fromDate` on (all when omitted), by date. */
  async exceptions(db: Executor, scheduleId: string, fromDate?: string): Promise<ScheduleException[]> {
    let q = db.selectFrom('scheduleExceptions').select([DATE_TEXT, 'name', 'periods']).where('scheduleId', '=', scheduleId).orderBy('scheduleExceptions.date');
    if (fromDate) q = q.where('scheduleExceptions.date', '>=', sql<Date>`${fromDate}::date`);
    return (await q.execute()).map((r) => ({ date: r.date, name: r.name, periods: r.periods as unknown as OpeningPeriod[] }));
  }

  async upsertException(db: Executor, scheduleId: string, e: ScheduleException): Promise<ScheduleException> {
    const row = await db.insertInto('scheduleExceptions').values({ scheduleId, date: e.date, name: e.name, periods: JSON.stringify(e.periods) })
      .onConflict((oc) => oc.columns(['scheduleId', 'date']).doUpdateSet({ name: e.name, periods: JSON.stringify(e.periods) }))
      .returning([DATE_TEXT, 'name', 'periods']).executeTakeFirstOrThrow();
    return { date: row.date, name: row.name, periods: row.periods as unknown as OpeningPeriod[] };
  }

  async deleteException(db: Executor, scheduleId: string, date: string): Promise<boolean> {
    const r = await db.deleteFrom('scheduleExceptions').where('scheduleId', '=', scheduleId).where('date', '=', sql<Date>`${date}::date`).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async activeQueuesUsing(db: Executor, scheduleId: string): Promise<string[]> {
    return (await db.selectFrom('queues').select('code').where('scheduleId', '=', scheduleId).where('active', '=', true).orderBy('code').execute()).map((r) => r.code);
  }
}
