/**
 * The 6-digit self-query code (办理进度自助查询, GB/T 44189 7.1.3): told to the caller once at intake,
 * stored only as a digest salted with the ticket id. Six digits are guessable offline, so the
 * online guard is what protects it: the progress query is rate-limited and answers a wrong code
 * exactly like an unknown ticket number.
 */
import { createHash, randomInt, timingSafeEqual } from 'node:crypto';

export function newVerificationCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

export function hashVerificationCode(ticketId: string, code: string): string {
  return createHash('sha256').update(`${ticketId}:${code}`).digest('hex');
}

export function verifyCode(ticketId: string, code: string, stored: string | null): boolean {
  if (stored === null || !/^[0-9]{6}$/.test(code)) return false;
  const given = Buffer.from(hashVerificationCode(ticketId, code), 'hex');
  const expected = Buffer.from(stored, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
