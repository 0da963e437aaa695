/**
 * Opening hours of specialist queues (企业服务专席, 外语坐席 …): weekly periods plus dated exceptions
 * (holidays closed, special hours). 12345 itself runs 7×24, so a queue without a schedule is
 * always open. Days are local to the schedule's fixed UTC offset (Asia/Shanghai by default).
 */
import { DAY_MS, MINUTE_MS, SHANGHAI_UTC_OFFSET_MINUTES, dayOfWeek, instantOf, localDayOf, localMsOfDay, parseClock, parseLocalDate } from '../calendar/local-date.js';

/** Indexed like Date#getDay: 0 = Sunday. */
export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface OpeningPeriod {
  /** 'HH:MM' local. */
  readonly start: string;
  /** 'HH:MM' local, after start; '24:00' closes at midnight. */
  readonly end: string;
}

export type WeeklyHours = Partial<Readonly<Record<Weekday, readonly OpeningPeriod[]>>>;

export interface ScheduleException {
  /** 'YYYY-MM-DD' local. */
  readonly date: string;
  readonly name: string;
  /** Empty = closed all day; otherwise these periods replace the weekly hours. */
  readonly periods: readonly OpeningPeriod[];
}

export interface Schedule {
  readonly utcOffsetMinutes: number;
  readonly weekly: WeeklyHours;
  readonly exceptions: readonly ScheduleException[];
}

export interface ScheduleProblem {
  readonly code: string;
  readonly field: string;
  readonly message: string;
}

export const DEFAULT_UTC_OFFSET_MINUTES = SHANGHAI_UTC_OFFSET_MINUTES;
const MAX_PERIODS_PER_DAY = 6;
/** How far ahead `openingStatus` looks for the next opening (a month of holidays fits). */
const LOOKAHEAD_DAYS = 45;

export function validatePeriods(periods: readonly OpeningPeriod[], field: string): ScheduleProblem[] {
  const problems: ScheduleProblem[] = [];
  if (periods.length > MAX_PERIODS_PER_DAY) problems.push({ code: 'too_many_opening_periods', field, message: `At most ${MAX_PERIODS_PER_DAY} periods a day` });
  const parsed: [number, number][] = [];
  for (const p of periods) {
    const start = parseClock(p.start);
    const end = parseClock(p.end);
    if (start === null || end === null || start >= end || start === 24 * 60) {
      problems.push({ code: 'invalid_opening_period', field, message: `${p.start}-${p.end} is not a period HH:MM-HH:MM within one day` });
      continue;
    }
    parsed.push([start, end]);
  }
  parsed.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < parsed.length; i++) {
    if (parsed[i]![0] < parsed[i - 1]![1]) {
      problems.push({ code: 'opening_periods_overlap', field, message: 'Opening periods of one day overlap' });
      break;
    }
  }
  return problems;
}

export function validateWeekly(weekly: Readonly<Record<string, readonly OpeningPeriod[]>>): ScheduleProblem[] {
  const problems: ScheduleProblem[] = [];
  for (const [day, periods] of Object.entries(weekly)) {
    if (!(WEEKDAYS as readonly string[]).includes(day)) {
      problems.push({ code: 'unknown_weekday', field: `weekly.${day}`, message: `'${day}' is not one of ${WEEKDAYS.join(', ')}` });
      continue;
    }
    problems.push(...validatePeriods(periods, `weekly.${day}`));
  }
  return problems;
}

export function validateExceptionDate(date: string): ScheduleProblem[] {
  return parseLocalDate(date) === null ? [{ code: 'invalid_date', field: 'date', message: `'${date}' is not a date YYYY-MM-DD` }] : [];
}

/** Open periods of a local day as [startMs, endMs) after local midnight, sorted. */
function periodsOn(schedule: Schedule, day: number): [number, number][] {
  const date = new Date(day * DAY_MS).toISOString().slice(0, 10);
  const exception = schedule.exceptions.find((e) => e.date === date);
  const periods = exception ? exception.periods : (schedule.weekly[WEEKDAYS[dayOfWeek(day)]!] ?? []);
  return periods
    .map((p) => [parseClock(p.start), parseClock(p.end)] as const)
    .filter((p): p is readonly [number, number] => p[0] !== null && p[1] !== null)
    .map(([s, e]): [number, number] => [s * MINUTE_MS, e * MINUTE_MS])
    .sort((a, b) => a[0] - b[0]);
}

export type OpeningStatus =
  | { readonly open: true; readonly alwaysOpen: true }
  | { readonly open: true; readonly alwaysOpen: false; readonly closesAt: Date }
  | { readonly open: false; readonly alwaysOpen: false; readonly opensAt: Date | null };

/**
 * Whether the schedule is open at `at`, and when that changes. null = 7×24. `opensAt` is null
 * when nothing opens within the look-ahead (a schedule with no hours at all).
 */
export function openingStatus(schedule: Schedule | null, at: Date): OpeningStatus {
  if (schedule === null) return { open: true, alwaysOpen: true };
  const offset = schedule.utcOffsetMinutes;
  const today = localDayOf(at, offset);
  const ms = localMsOfDay(at, offset);
  const current = periodsOn(schedule, today).find(([s, e]) => s <= ms && ms < e);
  if (current) {
    // A period ending at 24:00 continues into one starting at 00:00 the next day.
    let day = today;
    let end = current[1];
    while (end === DAY_MS && day - today < LOOKAHEAD_DAYS) {
      const next = periodsOn(schedule, day + 1).find(([s]) => s === 0);
      if (!next) break;
      day += 1;
      end = next[1];
    }
    return { open: true, alwaysOpen: false, closesAt: instantOf(day, end, offset) };
  }
  for (let day = today; day <= today + LOOKAHEAD_DAYS; day++) {
    const start = periodsOn(schedule, day).find(([s]) => day > today || s > ms);
    if (start) return { open: false, alwaysOpen: false, opensAt: instantOf(day, start[0], offset) };
  }
  return { open: false, alwaysOpen: false, opensAt: null };
}

export function isOpen(schedule: Schedule | null, at: Date): boolean {
  return openingStatus(schedule, at).open;
}
