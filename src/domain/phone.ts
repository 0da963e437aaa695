/** Phone-number rules shared by logging, masking for roles, and dialing policy. */

/** Keeps the last four digits: enough to tell calls apart in a log, not enough to call back. */
export function maskPhone(value: string): string {
  if (value.includes('*')) return value; // already masked (redaction may visit a value twice)
  const digits = value.replace(/\D/g, '');
  if (digits.length <= 4) return '*'.repeat(digits.length);
  return `${'*'.repeat(Math.min(digits.length - 4, 7))}${digits.slice(-4)}`;
}

// Runs of 7+ digits (optionally with +, spaces or dashes) standing alone look like phone numbers
// in free text; ids glued to letters or dots (GD2026..., channel 1795458559.1) are left alone.
const PHONE_IN_TEXT = /(?<![\w.])\+?\d[\d -]{5,}\d(?![\w.])/g;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function maskPhonesInText(text: string): string {
  return text.replace(PHONE_IN_TEXT, (m) => (DATE.test(m) || m.replace(/\D/g, '').length < 7 ? m : maskPhone(m)));
}
