/**
 * The yearly holiday data operators load (from the State Council's annual notice on public
 * holidays): statutory holidays (放假) and make-up working days (调休上班), each with its name.
 */
import { ValidationError } from '../errors.js';
import { dayOfWeek, parseLocalDate, yearOfDay } from './local-date.js';

export interface CalendarDay {
  /** Local date 'YYYY-MM-DD' in the hotline's timezone. */
  readonly date: string;
  /** e.g. 春节, 国庆节. */
  readonly name: string;
}

export interface CalendarYear {
  readonly year: number;
  readonly holidays: readonly CalendarDay[];
  readonly workdays: readonly CalendarDay[];
}

export interface CalendarIssue {
  readonly path: string;
  readonly message: string;
}

export const DEFAULT_WEEKEND_DAYS: readonly number[] = [0, 6];
const MAX_NAME = 50;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks one year's data and returns it normalised (sorted, trimmed). Dates may fall in the
 * December before or the January after `year`, since a notice can reach across the year end.
 * A make-up working day must fall on a weekend, or it would change nothing.
 */
export function parseCalendarYear(input: unknown, weekendDays: readonly number[] = DEFAULT_WEEKEND_DAYS): CalendarYear {
  const issues: CalendarIssue[] = [];
  if (!isRecord(input)) throw new ValidationError('calendar year must be an object', { issues: [{ path: '', message: 'not an object' }] }, 'invalid_calendar');
  const year = input['year'];
  if (typeof year !== 'number' || !Number.isInteger(year) || year < 1990 || year > 2200) {
    issues.push({ path: 'year', message: 'must be an integer year between 1990 and 2200' });
  }
  const seen = new Map<string, string>();
  const lists: Record<'holidays' | 'workdays', CalendarDay[]> = { holidays: [], workdays: [] };
  for (const key of ['holidays', 'workdays'] as const) {
    const raw = input[key];
    if (raw === undefined) continue;
    if (!Array.isArray(raw)) {
      issues.push({ path: key, message: 'must be a list' });
      continue;
    }
    raw.forEach((entry: unknown, i) => {
      const path = `${key}[${i}]`;
      if (!isRecord(entry)) return void issues.push({ path, message: 'must be an object with date and name' });
      const { date, name } = entry;
      const day = typeof date === 'string' ? parseLocalDate(date) : null;
      if (day === null) return void issues.push({ path: `${path}.date`, message: 'must be a real date YYYY-MM-DD' });
      const dateText = date as string;
      if (typeof name !== 'string' || name.trim() === '' || name.trim().length > MAX_NAME) {
        issues.push({ path: `${path}.name`, message: `must be a non-empty name of at most ${MAX_NAME} characters` });
      }
      if (typeof year === 'number' && !withinReach(day, year)) {
        issues.push({ path: `${path}.date`, message: `${dateText} is too far from ${year}` });
      }
      const earlier = seen.get(dateText);
      if (earlier !== undefined) issues.push({ path: `${path}.date`, message: `${dateText} is listed twice (also in ${earlier})` });
      seen.set(dateText, path);
      if (key === 'workdays' && !weekendDays.includes(dayOfWeek(day))) {
        issues.push({ path: `${path}.date`, message: `${dateText} is not a weekend day, so it cannot be a make-up working day` });
      }
      lists[key].push({ date: dateText, name: typeof name === 'string' ? name.trim() : '' });
    });
  }
  if (issues.length > 0) throw new ValidationError('invalid calendar data', { issues }, 'invalid_calendar');
  const byDate = (a: CalendarDay, b: CalendarDay): number => a.date.localeCompare(b.date);
  return { year: year as number, holidays: lists.holidays.sort(byDate), workdays: lists.workdays.sort(byDate) };
}

function withinReach(day: number, year: number): boolean {
  const y = yearOfDay(day);
  if (y === year) return true;
  const month = new Date(day * 86_400_000).getUTCMonth();
  return (y === year - 1 && month === 11) || (y === year + 1 && month === 0);
}
