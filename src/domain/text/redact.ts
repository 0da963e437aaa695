/**
 * Hides what identifies a person in free text shown to readers who must not know who asked
 * (保密 tickets read by departments): phone numbers, e-mail addresses, ID card numbers.
 */
import { maskPhone, maskPhonesInText } from '../phone.js';

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g;
// 18-character resident ID (GB 11643): 17 digits and a digit or X, standing alone.
const ID_CARD = /(?<![A-Za-z0-9])\d{17}[\dXx](?![A-Za-z0-9])/g;

export function redactIdentity(text: string): string {
  return maskPhonesInText(text.replace(ID_CARD, (m) => maskPhone(m)).replace(EMAIL, (m) => `***@${m.slice(m.indexOf('@') + 1)}`));
}
