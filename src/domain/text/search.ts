/**
 * Tokens for PostgreSQL full-text search. PostgreSQL cannot segment Chinese, so we segment here
 * and store the space-joined tokens: `to_tsvector('simple', :document)`; queries go through
 * `to_tsquery('simple', :tsquery)` built from `queryTokens`. Tokens hold only letters and digits,
 * so they pass through the 'simple' parser unchanged and never form tsquery operators.
 */
import { normalizeToken } from './normalize.js';
import { segment, type SegmentMode } from './segmenter.js';
import { isStopWord } from './stopwords.js';

/** Meaningful tokens of a text, in order, repeats kept (term frequency matters). */
export function tokenize(text: string, mode: SegmentMode = 'precise'): string[] {
  const tokens: string[] = [];
  for (const raw of segment(text, mode)) {
    const token = normalizeToken(raw);
    if (token !== '' && !isStopWord(token)) tokens.push(token);
  }
  return tokens;
}

/** Tokens to index a ticket's text: search mode, so long words are also found by their parts. */
export function tokensForSearch(text: string): string[] {
  return tokenize(text, 'search');
}

/** The string to store for `to_tsvector('simple', …)`. */
export function searchDocument(...texts: readonly (string | null | undefined)[]): string {
  return texts.flatMap((t) => (t === null || t === undefined ? [] : tokensForSearch(t))).join(' ');
}

/**
 * Distinct tokens of a search query. A compound is dropped when its parts are present too
 * (拖欠工资 → 拖欠, 工资), so 拖欠了我的工资 still matches.
 */
export function queryTokens(query: string): string[] {
  const tokens = [...new Set(tokenize(query, 'search'))];
  return tokens.filter((t) => {
    const parts = tokens.filter((p) => p !== t && p.length < t.length && t.includes(p));
    return parts.reduce((n, p) => n + p.length, 0) < t.length;
  });
}

/** A `to_tsquery('simple', …)` string: all tokens ('and') or any token ('or'); '' for no tokens. */
export function tsQuery(tokens: readonly string[], mode: 'and' | 'or' = 'and'): string {
  const safe = tokens.map(normalizeToken).filter((t) => t !== '');
  return safe.join(mode === 'and' ? ' & ' : ' | ');
}
