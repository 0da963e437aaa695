/**
 * Hides what identifies a person in free text shown to readers who must not know who asked
 * (保密 tickets read by departments): phone numbers, e-mail addresses, ID card numbers, and the
 * names the caller gave (a name cannot be told from other words, so the caller's own are passed).
 */
import { maskPhone, maskPhonesInText } from '../phone.js';

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g;
// 18-character resident ID (GB 11643): 17 digits and a digit or X, standing alone.
const ID_CARD = /(?<![A-Za-z0-9])\d{17}[\dXx](?![A-Za-z0-9])/g;

export function redactIdentity(text: string, names: readonly (string | null)[] = []): string {
  let out = maskPhonesInText(text.replace(ID_CARD, (m) => maskPhone(m)).replace(EMAIL, (m) => `***@${m.slice(m.indexOf('@') + 1)}`));
  // Longest first, so 张三丰 is not left as **丰 by 张三; one-character names would mask ordinary words.
  for (const name of [...new Set(names)].filter((n): n is string => n !== null && n.trim().length >= 2).sort((a, b) => b.length - a.length)) {
    out = out.split(name.trim()).join('*'.repeat(Math.min(name.trim().length, 3)));
  }
  return out;
}
