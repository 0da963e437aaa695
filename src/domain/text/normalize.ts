/** Text and token normalisation shared by search, similarity and duplicate detection. */

/**
 * NFKC folds full-width letters, digits and punctuation to half-width (Ａ１，→ A1,) and the
 * ideographic space to a space; then lowercase and collapse whitespace.
 */
export function normalizeText(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/gu, ' ').trim();
}

/**
 * A token reduced to letters and digits (any script), or '' when nothing is left. What remains
 * is safe inside a PostgreSQL tsvector/tsquery: no operators, quotes or separators.
 */
export function normalizeToken(token: string): string {
  return normalizeText(token).replace(/[^\p{L}\p{N}]+/gu, '');
}

/** Digits of a phone number without the country prefix, for comparing callers. */
export function normalizePhone(phone: string): string {
  const digits = phone.normalize('NFKC').replace(/\D/g, '');
  const national = digits.replace(/^(?:0086|86)(?=1\d{10}$)/, '');
  return national;
}
