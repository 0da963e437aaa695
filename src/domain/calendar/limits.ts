/** Time limits in the four units hotlines use, counted on a working calendar. */
import { ValidationError } from '../errors.js';
import type { DayEnd, WorkingCalendar } from './working-calendar.js';

export const LIMIT_UNITS = ['natural_hours', 'working_hours', 'working_days', 'natural_days'] as const;
export type LimitUnit = (typeof LIMIT_UNITS)[number];

export const LIMIT_UNIT_LABELS: Readonly<Record<LimitUnit, string>> = {
  natural_hours: '自然小时',
  working_hours: '工作小时',
  working_days: '工作日',
  natural_days: '自然日',
};

export interface TimeLimit {
  readonly value: number;
  readonly unit: LimitUnit;
}

export function isWorkingUnit(unit: LimitUnit): boolean {
  return unit === 'working_hours' || unit === 'working_days';
}

/** The deadline `limit` after `from`; day units end on their last day as `dayEnd` says. */
export function addLimit(calendar: WorkingCalendar, from: Date, limit: TimeLimit, dayEnd: DayEnd = 'end_of_day'): Date {
  switch (limit.unit) {
    case 'natural_hours':
      return calendar.addNaturalHours(from, limit.value);
    case 'working_hours':
      return calendar.addWorkingHours(from, limit.value);
    case 'working_days':
      return calendar.addWorkingDays(from, limit.value, dayEnd);
    case 'natural_days':
      return calendar.addNaturalDays(from, limit.value, dayEnd === 'end_of_business' ? 'end_of_day' : dayEnd);
  }
}

/** Validates operator input for a limit; day units take whole days, hours may be fractional. */
export function parseTimeLimit(input: unknown, path = 'limit'): TimeLimit {
  const fail = (message: string): never => {
    throw new ValidationError(`${path}: ${message}`, { issues: [{ path, message }] }, 'invalid_time_limit');
  };
  if (typeof input !== 'object' || input === null) return fail('must be an object { value, unit }');
  const { value, unit } = input as Record<string, unknown>;
  if (!LIMIT_UNITS.includes(unit as LimitUnit)) return fail(`unit must be one of ${LIMIT_UNITS.join(', ')}`);
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return fail('value must be a positive number');
  const u = unit as LimitUnit;
  if ((u === 'working_days' || u === 'natural_days') && !Number.isInteger(value)) return fail('days must be whole');
  if (value > (u.endsWith('days') ? 366 : 24 * 366)) return fail('value is longer than a year');
  return { value, unit: u };
}

export function formatLimit(limit: TimeLimit): string {
  return `${limit.value}${LIMIT_UNIT_LABELS[limit.unit]}`;
}
