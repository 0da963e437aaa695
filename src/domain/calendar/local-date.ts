/**
 * Local dates of a fixed-offset timezone as day numbers (days since 1970-01-01 local), computed
 * with plain UTC arithmetic so that the machine's TZ never matters. Asia/Shanghai is UTC+8 all
 * year (no DST since 1991), hence a fixed offset is exact for the hotline.
 */

export const SHANGHAI_UTC_OFFSET_MINUTES = 480;
export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;
export const MINUTE_MS = 60_000;

const LOCAL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Day number of a 'YYYY-MM-DD' date, or null when it is not a real calendar date. */
export function parseLocalDate(text: string): number | null {
  const m = LOCAL_DATE.exec(text);
  if (m === null) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(year, month - 1, day);
  const check = new Date(ms);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return null;
  return ms / DAY_MS;
}

export function formatLocalDate(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** 0 = Sunday … 6 = Saturday, like Date#getDay. */
export function dayOfWeek(day: number): number {
  return (((day + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
}

export function yearOfDay(day: number): number {
  return new Date(day * DAY_MS).getUTCFullYear();
}

export function localDayOf(instant: Date, offsetMinutes: number): number {
  return Math.floor((instant.getTime() + offsetMinutes * MINUTE_MS) / DAY_MS);
}

/** Milliseconds since local midnight. */
export function localMsOfDay(instant: Date, offsetMinutes: number): number {
  const local = instant.getTime() + offsetMinutes * MINUTE_MS;
  return local - Math.floor(local / DAY_MS) * DAY_MS;
}

/** The instant of a local day plus milliseconds after its midnight. */
export function instantOf(day: number, msOfDay: number, offsetMinutes: number): Date {
  return new Date(day * DAY_MS + msOfDay - offsetMinutes * MINUTE_MS);
}

/** Minutes after midnight of an 'HH:MM' clock time ('24:00' allowed as an end), or null. */
export function parseClock(text: string): number | null {
  const m = /^(\d{2}):(\d{2})$/.exec(text);
  if (m === null) return null;
  const [h, min] = [Number(m[1]), Number(m[2])];
  if (min > 59 || h > 24 || (h === 24 && min !== 0)) return null;
  return h * 60 + min;
}
