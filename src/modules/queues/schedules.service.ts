/**
 * Opening schedules of specialist queues: weekly hours plus holidays and special days. A queue
 * without a schedule is open 7×24, like 12345 itself.
 */
import type { Database } from '../../adapters/db/database.js';
import { requireRole, type Principal } from '../../domain/auth.js';
import { formatLocalDate, localDayOf } from '../../domain/calendar/local-date.js';
import type { Clock } from '../../domain/clock.js';
import { ConflictError, NotFoundError, ValidationError } from '../../domain/errors.js';
import {
  DEFAULT_UTC_OFFSET_MINUTES, openingStatus, validateExceptionDate, validatePeriods, validateWeekly,
  type OpeningPeriod, type OpeningStatus, type Schedule, type ScheduleException, type ScheduleProblem,
} from '../../domain/schedules/index.js';
import type { OutboxRepository } from '../events/outbox.repository.js';
import type { ScheduleRow, SchedulesRepository } from './schedules.repository.js';
import { CONFIG_MANAGERS, CONFIG_READERS } from './skills.service.js';

export interface PublicSchedule {
  id: string;
  code: string;
  name: string;
  utcOffsetMinutes: number;
  weekly: Record<string, OpeningPeriod[]>;
  exceptions: { date: string; name: string; periods: OpeningPeriod[] }[];
  active: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface PublicOpeningStatus { open: boolean; alwaysOpen: boolean; closesAt?: string; opensAt?: string | null }

function throwFirst(problems: readonly ScheduleProblem[]): void {
  const first = problems[0];
  if (first) throw new ValidationError(first.message, { field: first.field, problems }, first.code);
}

export class SchedulesService {
  constructor(private readonly db: Database, private readonly repo: SchedulesRepository, private readonly outbox: OutboxRepository, private readonly clock: Clock) {}

  async create(input: { code: string; name: string; utcOffsetMinutes?: number; weekly: Record<string, OpeningPeriod[]> }, actor: Principal): Promise<PublicSchedule> {
    requireRole(actor, CONFIG_MANAGERS);
    throwFirst(validateWeekly(input.weekly));
    return this.db.transaction().execute(async (tx) => {
      if (await this.repo.findByCode(tx, input.code)) throw new ConflictError(`Schedule code ${input.code} is taken`, 'schedule_code_taken');
      const row = await this.repo.insert(tx, { code: input.code, name: input.name, utcOffsetMinutes: input.utcOffsetMinutes ?? DEFAULT_UTC_OFFSET_MINUTES, weekly: input.weekly });
      const schedule = toPublic(row, []);
      await this.outbox.append(tx, [{ type: 'schedule.created', payload: { scheduleId: row.id, code: row.code, by: actor.id } }]);
      return schedule;
    });
  }

  async update(id: string, patch: { name?: string; utcOffsetMinutes?: number; weekly?: Record<string, OpeningPeriod[]>; active?: boolean }, actor: Principal): Promise<PublicSchedule> {
    requireRole(actor, CONFIG_MANAGERS);
    if (patch.weekly) throwFirst(validateWeekly(patch.weekly));
    return this.db.transaction().execute(async (tx) => {
      const current = await this.repo.findById(tx, id);
      if (!current) throw new NotFoundError('Schedule', id, 'schedule_not_found');
      if (patch.active === false && current.active) {
        const queues = await this.repo.activeQueuesUsing(tx, id);
        if (queues.length > 0) throw new ConflictError(`Active queues follow this schedule: ${queues.join(', ')}`, 'schedule_in_use', { queues });
      }
      const row = (await this.repo.update(tx, id, patch))!;
      await this.outbox.append(tx, [{ type: 'schedule.updated', payload: { scheduleId: id, code: row.code, by: actor.id } }]);
      return toPublic(row, await this.repo.exceptions(tx, id, this.today(row)));
    });
  }

  async get(id: string, actor: Principal): Promise<PublicSchedule> {
    requireRole(actor, CONFIG_READERS);
    const row = await this.requireExisting(id);
    return toPublic(row, await this.repo.exceptions(this.db, id, this.today(row)));
  }

  async list(filter: { active?: boolean; after?: string; limit: number }, actor: Principal): Promise<PublicSchedule[]> {
    requireRole(actor, CONFIG_READERS);
    const rows = await this.repo.list(this.db, filter);
    return Promise.all(rows.map(async (r) => toPublic(r, await this.repo.exceptions(this.db, r.id, this.today(r)))));
  }

  async putException(id: string, date: string, input: { name: string; periods?: OpeningPeriod[] }, actor: Principal): Promise<{ date: string; name: string; periods: OpeningPeriod[] }> {
    requireRole(actor, CONFIG_MANAGERS);
    const periods = input.periods ?? [];
    throwFirst([...validateExceptionDate(date), ...validatePeriods(periods, 'periods')]);
    return this.db.transaction().execute(async (tx) => {
      const row = await this.repo.findById(tx, id);
      if (!row) throw new NotFoundError('Schedule', id, 'schedule_not_found');
      const saved = await this.repo.upsertException(tx, id, { date, name: input.name, periods });
      await this.outbox.append(tx, [{ type: 'schedule.updated', payload: { scheduleId: id, code: row.code, exception: saved, by: actor.id } }]);
      return { ...saved, periods: [...saved.periods] };
    });
  }

  async deleteException(id: string, date: string, actor: Principal): Promise<void> {
    requireRole(actor, CONFIG_MANAGERS);
    throwFirst(validateExceptionDate(date));
    await this.db.transaction().execute(async (tx) => {
      const row = await this.repo.findById(tx, id);
      if (!row) throw new NotFoundError('Schedule', id, 'schedule_not_found');
      if (!(await this.repo.deleteException(tx, id, date))) throw new NotFoundError('Schedule exception', date, 'schedule_exception_not_found');
      await this.outbox.append(tx, [{ type: 'schedule.updated', payload: { scheduleId: id, code: row.code, removedException: date, by: actor.id } }]);
    });
  }

  async status(id: string, at: Date | undefined, actor: Principal): Promise<PublicOpeningStatus> {
    requireRole(actor, CONFIG_READERS);
    const when = at ?? this.clock.now();
    return toPublicStatus(openingStatus(await this.schedule(id, when), when));
  }

  /** The schedule as the domain sees it around `at` (default now): exceptions from the day before on. */
  async schedule(id: string, at?: Date): Promise<Schedule> {
    const row = await this.requireExisting(id);
    const yesterday = formatLocalDate(localDayOf(at ?? this.clock.now(), row.utcOffsetMinutes) - 1);
    return { utcOffsetMinutes: row.utcOffsetMinutes, weekly: row.weekly, exceptions: await this.repo.exceptions(this.db, id, yesterday) };
  }

  private today(row: ScheduleRow): string {
    return formatLocalDate(localDayOf(this.clock.now(), row.utcOffsetMinutes));
  }

  private async requireExisting(id: string): Promise<ScheduleRow> {
    const row = await this.repo.findById(this.db, id);
    if (!row) throw new NotFoundError('Schedule', id, 'schedule_not_found');
    return row;
  }
}

export function toPublicStatus(s: OpeningStatus): PublicOpeningStatus {
  if (s.alwaysOpen) return { open: true, alwaysOpen: true };
  if (s.open) return { open: true, alwaysOpen: false, closesAt: s.closesAt.toISOString() };
  return { open: false, alwaysOpen: false, opensAt: s.opensAt ? s.opensAt.toISOString() : null };
}

function toPublic(r: ScheduleRow, exceptions: ScheduleException[]): PublicSchedule {
  return {
    id: r.id, code: r.code, name: r.name, utcOffsetMinutes: r.utcOffsetMinutes,
    weekly: Object.fromEntries(Object.entries(r.weekly).map(([day, periods]) => [day, [...(periods ?? [])]])),
    exceptions: exceptions.map((e) => ({ date: e.date, name: e.name, periods: [...e.periods] })), active: r.active,
    createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString(),
  };
}
