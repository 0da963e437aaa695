/** A caller's number in one canonical form, so 138 0013 8000, +86 13800138000 and 13800138000 are one citizen. */
import { ValidationError } from '../../domain/errors.js';

export function normalizePhone(input: string, field = 'phone'): string {
  let digits = input.trim().replace(/[\s().-]/g, '');
  if (digits.startsWith('+86')) digits = digits.slice(3);
  else if (digits.startsWith('0086')) digits = digits.slice(4);
  if (!/^\+?[0-9]{3,20}$/.test(digits)) {
    throw new ValidationError(`${field} is not a phone number`, { field }, 'invalid_phone');
  }
  return digits;
}

/** A caller id as a citizen's number, or null when it is withheld or not a number ('anonymous'). */
export function callerPhone(callerNumber: string): string | null {
  if (!callerNumber) return null;
  try {
    return normalizePhone(callerNumber);
  } catch {
    return null;
  }
}
