/** Payload checks shared by the transition handlers; each failure has a stable code. */
import { ValidationError } from '../errors.js';
import { isValidDepartmentId } from './events.js';

const MAX_TEXT = 4000;

export function requireText(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ValidationError(`${field} is required`, { field }, `${field}_required`);
  }
  const text = value.trim();
  if (text.length > MAX_TEXT) {
    throw new ValidationError(`${field} is longer than ${MAX_TEXT} characters`, { field, max: MAX_TEXT }, 'text_too_long');
  }
  return text;
}

export function optionalText(value: unknown, field: string): string | null {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return null;
  return requireText(value, field);
}

export function requireDate(value: unknown, field: string): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new ValidationError(`${field} must be a valid date`, { field }, 'invalid_date');
  }
  return value;
}

export function optionalDate(value: unknown, field: string): Date | null {
  return value === undefined || value === null ? null : requireDate(value, field);
}

export function requireLater(value: Date, than: Date | null, field: string, code: string): void {
  if (than !== null && value.getTime() <= than.getTime()) {
    throw new ValidationError(`${field} must be later than ${than.toISOString()}`, { field, after: than.toISOString() }, code);
  }
}

export function requireId(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > 128) {
    throw new ValidationError(`${field} must be a non-empty id`, { field }, 'invalid_id');
  }
  return value;
}

export function idList(value: unknown, field: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ValidationError(`${field} must be a list of ids`, { field }, 'invalid_id');
  return [...new Set(value.map((v) => requireId(v, field)))];
}

export interface Assignment {
  readonly main: string;
  readonly co: string[];
}

/** Main department and co-handlers: valid subject tokens, main not among co-handlers. */
export function requireAssignment(main: unknown, co: unknown): Assignment {
  const mainId = requireId(main, 'mainDepartmentId');
  const coIds = idList(co, 'coDepartmentIds');
  for (const id of [mainId, ...coIds]) {
    if (!isValidDepartmentId(id)) {
      throw new ValidationError(`department id '${id}' may only use letters, digits, '_' and '-'`, { departmentId: id }, 'invalid_department_id');
    }
  }
  if (coIds.includes(mainId)) {
    throw new ValidationError('the main department cannot also be a co-handler', { departmentId: mainId }, 'main_department_in_co_handlers');
  }
  return { main: mainId, co: coIds };
}
