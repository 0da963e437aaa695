/**
 * Where the hotline may call out to (transfers, consultations, callbacks): the same allow-list
 * as `[hotline-outbound]` in dialplans/extensions-outbound.conf, checked before anything is
 * dialled so a refused number gets a clear error rather than a silent hang-up in the dialplan.
 * A hotline is a toll-fraud target: no international, premium or information-service numbers.
 * Pure.
 */
import { ValidationError } from '../errors.js';

const ALLOWED: readonly RegExp[] = [
  /^(110|119|120|122)$/, // linkage platforms
  /^12\d{3}$/, // 12XXX public-service hotlines (12345 itself is refused below)
  /^95\d{3}$/, /^96\d{3,4}$/, /^100\d{2}$/, // service lines
  /^1[3-57-9]\d{9}$/, /^16[2567]\d{8}$/, // mobiles (not the 160 / 168 information prefixes)
  /^[2-8]\d{6,7}$/, // local fixed lines
  /^0[12]\d[2-8]\d{7}$/, /^0[3-9]\d{2}[2-8]\d{6,7}$/, // fixed lines with an area code
];

/** The number as the dialplan will see it (+86 forms folded), or a ValidationError naming why not. */
export function checkDialable(input: string): string {
  const raw = input.replace(/[\s()-]/g, '');
  let n = raw;
  if (/^\+861[3-9]\d{9}$/.test(n)) n = n.slice(3);
  else if (/^\+86[1-9]\d+$/.test(n)) n = `0${n.slice(3)}`;
  const refuse = (why: string, code: string) => new ValidationError(`Cannot dial ${raw}: ${why}`, { field: 'number' }, code);
  if (/^\+\d{3,15}$/.test(n) || n.startsWith('00')) throw refuse('international numbers are barred', 'destination_barred');
  if (!/^\d{3,15}$/.test(n)) throw refuse('not a number the hotline dials (3-15 digits, +86 allowed)', 'invalid_dial_number');
  if (n.startsWith('160') || n.startsWith('168')) throw refuse('information-service numbers are barred', 'destination_barred');
  if (n === '12345') throw refuse('the hotline does not call itself', 'destination_barred');
  if (!ALLOWED.some((re) => re.test(n))) throw refuse('not on the outbound allow-list', 'destination_barred');
  return n;
}
