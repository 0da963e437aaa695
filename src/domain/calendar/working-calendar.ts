/**
 * The hotline's working-day calendar: weekends, statutory holidays and make-up working days (调休),
 * and the working hours of a working day. Instants are `Date`s; days are local to a fixed UTC
 * offset (Asia/Shanghai by default).
 */
import { ConflictError, ValidationError } from '../errors.js';
import { DEFAULT_WEEKEND_DAYS, parseCalendarYear, type CalendarYear } from './calendar-data.js';
import {
  DAY_MS,
  HOUR_MS,
  MINUTE_MS,
  SHANGHAI_UTC_OFFSET_MINUTES,
  dayOfWeek,
  formatLocalDate,
  instantOf,
  localDayOf,
  localMsOfDay,
  parseClock,
  parseLocalDate,
  yearOfDay,
} from './local-date.js';

export interface WorkingPeriod {
  /** 'HH:MM' local. */
  readonly start: string;
  /** 'HH:MM' local, after start; '24:00' allowed. */
  readonly end: string;
}

export const DEFAULT_WORKING_HOURS: readonly WorkingPeriod[] = [
  { start: '09:00', end: '12:00' },
  { start: '13:30', end: '17:30' },
];

export interface WorkingCalendarOptions {
  readonly years?: readonly CalendarYear[];
  readonly workingHours?: readonly WorkingPeriod[];
  readonly utcOffsetMinutes?: number;
  readonly weekendDays?: readonly number[];
  /**
   * A year without loaded data: 'weekdays' counts Monday–Friday (holidays unknown), 'throw'
   * refuses, so that deadlines are never silently computed without the official calendar.
   */
  readonly missingYear?: 'weekdays' | 'throw';
}

/** Where a deadline counted in working days falls on its last day. */
export type DayEnd = 'end_of_day' | 'end_of_business' | 'same_time';

export type DayInfo =
  | { readonly date: string; readonly working: true; readonly reason: 'weekday' | 'make_up_workday'; readonly name: string | null }
  | { readonly date: string; readonly working: false; readonly reason: 'weekend' | 'holiday'; readonly name: string | null };

// Safety net for loops over days: a decade without a working day means a broken calendar.
const MAX_SCAN_DAYS = 3660;

function toDay(value: string | Date, offset: number): number {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new ValidationError('invalid date', {}, 'invalid_date');
    return localDayOf(value, offset);
  }
  const day = parseLocalDate(value);
  if (day === null) throw new ValidationError(`'${value}' is not a date YYYY-MM-DD`, { date: value }, 'invalid_date');
  return day;
}

function parsePeriods(periods: readonly WorkingPeriod[]): [number, number][] {
  const parsed: [number, number][] = [];
  for (const p of periods) {
    const start = parseClock(p.start);
    const end = parseClock(p.end);
    if (start === null || end === null || start >= end) {
      throw new ValidationError(`invalid working period ${p.start}-${p.end}`, { period: p }, 'invalid_working_hours');
    }
    parsed.push([start * MINUTE_MS, end * MINUTE_MS]);
  }
  parsed.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < parsed.length; i++) {
    if (parsed[i]![0] < parsed[i - 1]![1]) throw new ValidationError('working periods overlap', { periods }, 'invalid_working_hours');
  }
  if (parsed.length === 0) throw new ValidationError('at least one working period is needed', {}, 'invalid_working_hours');
  return parsed;
}

export class WorkingCalendar {
  readonly offsetMinutes: number;
  readonly workingHours: readonly WorkingPeriod[];
  readonly weekendDays: readonly number[];
  readonly years: readonly CalendarYear[];
  private readonly missingYear: 'weekdays' | 'throw';
  private readonly periods: readonly [number, number][];
  private readonly holidays = new Map<number, string>();
  private readonly workdays = new Map<number, string>();
  private readonly covered = new Set<number>();

  constructor(options: WorkingCalendarOptions = {}) {
    this.offsetMinutes = options.utcOffsetMinutes ?? SHANGHAI_UTC_OFFSET_MINUTES;
    if (!Number.isInteger(this.offsetMinutes) || Math.abs(this.offsetMinutes) > 14 * 60) {
      throw new ValidationError('invalid UTC offset', { utcOffsetMinutes: this.offsetMinutes }, 'invalid_utc_offset');
    }
    this.weekendDays = [...new Set(options.weekendDays ?? DEFAULT_WEEKEND_DAYS)];
    if (this.weekendDays.some((d) => !Number.isInteger(d) || d < 0 || d > 6) || this.weekendDays.length > 6) {
      throw new ValidationError('weekend days must be 0–6 and leave a working day', { weekendDays: this.weekendDays }, 'invalid_weekend_days');
    }
    this.workingHours = options.workingHours ?? DEFAULT_WORKING_HOURS;
    this.periods = parsePeriods(this.workingHours);
    this.missingYear = options.missingYear ?? 'weekdays';
    const years = (options.years ?? []).map((y) => parseCalendarYear(y, this.weekendDays));
    this.years = years;
    for (const y of years) {
      if (this.covered.has(y.year)) throw new ValidationError(`calendar year ${y.year} is loaded twice`, { year: y.year }, 'calendar_conflict');
      this.covered.add(y.year);
      for (const [list, other, map] of [
        [y.holidays, this.workdays, this.holidays],
        [y.workdays, this.holidays, this.workdays],
      ] as const) {
        for (const d of list) {
          const day = parseLocalDate(d.date)!;
          if (other.has(day)) throw new ValidationError(`${d.date} is both a holiday and a working day`, { date: d.date }, 'calendar_conflict');
          map.set(day, d.name);
        }
      }
    }
  }

  /** A copy with these years added or replaced (operators load one year at a time). */
  withYears(years: readonly CalendarYear[]): WorkingCalendar {
    const replaced = new Set(years.map((y) => y.year));
    return new WorkingCalendar({
      years: [...this.years.filter((y) => !replaced.has(y.year)), ...years],
      workingHours: this.workingHours,
      utcOffsetMinutes: this.offsetMinutes,
      weekendDays: this.weekendDays,
      missingYear: this.missingYear,
    });
  }

  coversYear(year: number): boolean {
    return this.covered.has(year);
  }

  /** Years in [from, to] without loaded data: the service can warn operators in time. */
  missingYears(from: number, to: number): number[] {
    const missing: number[] = [];
    for (let y = from; y <= to; y++) if (!this.covered.has(y)) missing.push(y);
    return missing;
  }

  dayInfo(value: string | Date): DayInfo {
    const day = toDay(value, this.offsetMinutes);
    const date = formatLocalDate(day);
    const holiday = this.holidays.get(day);
    if (holiday !== undefined) return { date, working: false, reason: 'holiday', name: holiday };
    const workday = this.workdays.get(day);
    if (workday !== undefined) return { date, working: true, reason: 'make_up_workday', name: workday };
    return this.isWorkingDayNumber(day)
      ? { date, working: true, reason: 'weekday', name: null }
      : { date, working: false, reason: 'weekend', name: null };
  }

  isWorkingDay(value: string | Date): boolean {
    return this.isWorkingDayNumber(toDay(value, this.offsetMinutes));
  }

  private isWorkingDayNumber(day: number): boolean {
    if (this.holidays.has(day)) return false;
    if (this.workdays.has(day)) return true;
    if (this.missingYear === 'throw') {
      const year = yearOfDay(day);
      if (!this.covered.has(year)) throw new ConflictError(`the working calendar for ${year} is not loaded`, 'calendar_year_missing', { year });
    }
    return !this.weekendDays.includes(dayOfWeek(day));
  }

  /** The first working day after the given day, as 'YYYY-MM-DD'. */
  nextWorkingDay(value: string | Date): string {
    let day = toDay(value, this.offsetMinutes);
    for (let i = 0; i < MAX_SCAN_DAYS; i++) {
      day += 1;
      if (this.isWorkingDayNumber(day)) return formatLocalDate(day);
    }
    throw new ConflictError('no working day found within ten years', 'calendar_without_working_days');
  }

  /**
   * The deadline N working days after `from`: the day of `from` does not count (as for legal
   * periods); the deadline is on the Nth working day after it, at its end, at the end of business
   * hours, or at the same local time.
   */
  addWorkingDays(from: Date, days: number, end: DayEnd = 'end_of_day'): Date {
    assertCount(days, 'days');
    let day = toDay(from, this.offsetMinutes);
    let left = days;
    for (let i = 0; left > 0; i++) {
      if (i >= MAX_SCAN_DAYS) throw new ConflictError('no working day found within ten years', 'calendar_without_working_days');
      day += 1;
      if (this.isWorkingDayNumber(day)) left -= 1;
    }
    return this.dayEnd(day, from, end);
  }

  /** N calendar days after `from`, the day of `from` not counted. */
  addNaturalDays(from: Date, days: number, end: Exclude<DayEnd, 'end_of_business'> = 'end_of_day'): Date {
    assertCount(days, 'days');
    return this.dayEnd(toDay(from, this.offsetMinutes) + days, from, end);
  }

  addNaturalHours(from: Date, hours: number): Date {
    assertAmount(hours, 'hours');
    return new Date(from.getTime() + hours * HOUR_MS);
  }

  private dayEnd(day: number, from: Date, end: DayEnd): Date {
    if (end === 'same_time') return instantOf(day, localMsOfDay(from, this.offsetMinutes), this.offsetMinutes);
    if (end === 'end_of_business') return instantOf(day, this.periods[this.periods.length - 1]![1], this.offsetMinutes);
    return instantOf(day, DAY_MS - 1, this.offsetMinutes);
  }

  /** The instant when `ms` of working time have passed after `from` (time outside working hours does not count). */
  addWorkingTime(from: Date, ms: number): Date {
    assertAmount(ms, 'ms');
    let remaining = ms;
    const start = from.getTime();
    let day = localDayOf(from, this.offsetMinutes);
    for (let i = 0; i < MAX_SCAN_DAYS; i++, day++) {
      if (!this.isWorkingDayNumber(day)) continue;
      for (const [ps, pe] of this.periods) {
        const segStart = Math.max(instantOf(day, ps, this.offsetMinutes).getTime(), start);
        const segEnd = instantOf(day, pe, this.offsetMinutes).getTime();
        if (segEnd <= segStart) continue;
        if (remaining <= segEnd - segStart) return new Date(segStart + remaining);
        remaining -= segEnd - segStart;
      }
    }
    throw new ConflictError('no working time found within ten years', 'calendar_without_working_days');
  }

  addWorkingHours(from: Date, hours: number): Date {
    assertAmount(hours, 'hours');
    return this.addWorkingTime(from, hours * HOUR_MS);
  }

  /** Working time in milliseconds between two instants (0 when `to` is not after `from`). */
  workingMsBetween(from: Date, to: Date): number {
    const a = from.getTime();
    const b = to.getTime();
    if (!(b > a)) return 0;
    let total = 0;
    const last = localDayOf(to, this.offsetMinutes);
    for (let day = localDayOf(from, this.offsetMinutes); day <= last; day++) {
      if (!this.isWorkingDayNumber(day)) continue;
      for (const [ps, pe] of this.periods) {
        const s = Math.max(instantOf(day, ps, this.offsetMinutes).getTime(), a);
        const e = Math.min(instantOf(day, pe, this.offsetMinutes).getTime(), b);
        if (e > s) total += e - s;
      }
    }
    return total;
  }

  workingHoursBetween(from: Date, to: Date): number {
    return this.workingMsBetween(from, to) / HOUR_MS;
  }

  /** Working days strictly after the day of `from` up to and including the day of `to`. */
  workingDaysBetween(from: Date, to: Date): number {
    let count = 0;
    const last = localDayOf(to, this.offsetMinutes);
    for (let day = localDayOf(from, this.offsetMinutes) + 1; day <= last; day++) if (this.isWorkingDayNumber(day)) count++;
    return count;
  }
}

function assertCount(value: number, field: string): void {
  if (!Number.isInteger(value) || value < 0) throw new ValidationError(`${field} must be a whole number ≥ 0`, { [field]: value }, 'invalid_time_limit');
}

function assertAmount(value: number, field: string): void {
  if (!Number.isFinite(value) || value < 0) throw new ValidationError(`${field} must be a finite number ≥ 0`, { [field]: value }, 'invalid_time_limit');
}
