/**
 * Chinese full-text search over tickets, on top of src/domain/text: jieba tokens in a tsvector
 * ('simple' parser), jieba's IDF as token weights, and the hotline synonyms (没水 → 停水, 坏了 → 故障).
 *
 * A ticket matches a query when the weights of the query words it contains reach MIN_SHARE of the
 * query's total and it contains one of the key (heaviest) words: rare, specific words (路灯, 停水)
 * decide; common ones (小区, 晚上) only help, so 小区突然停水 does not find 小区突然停电. A word
 * found only through a synonym counts half, so 路灯不亮 finds 路灯坏了 while 电梯坏了 stays out.
 * Queries without usable tokens fall back to substring and trigram matching (pg_trgm).
 */
import { SYNONYMS, normalizeText, queryTokens, tokenWeight, tokensForSearch } from '../../domain/text/index.js';

export const MIN_SHARE = 0.45;
/** Words at least this share of the heaviest word's weight are key words: one of them must match. */
export const KEY_SHARE = 0.8;

export interface SearchGroup {
  readonly token: string;
  readonly weight: number;
  /** tsquery matching the word itself (weight A: it is in the ticket's own text). */
  readonly direct: string;
  /** tsquery matching it only through a synonym or an expansion; null when it has none. */
  readonly related: string | null;
  /** One of the key words must be in the ticket (2 of 3 common words are not enough). */
  readonly key: boolean;
}

export type SearchPlan =
  | {
    readonly kind: 'tokens'; readonly groups: readonly SearchGroup[]; readonly minScore: number; readonly any: string; readonly text: string;
    /**
     * A tsquery every match satisfies (the index narrows with it): one of the smallest sets of
     * words, a key word among them, whose weights can reach `minScore`. Far more selective than
     * `any`, so a query nothing matches is answered from the GIN index instead of by reading the
     * table newest first looking for rows that never come.
     */
    readonly need: string;
  }
  | { readonly kind: 'substring'; readonly text: string };

/** What to store for a ticket: its own tokens (weight A) and synonym expansions (weight D). */
export function indexDocument(...texts: readonly (string | null | undefined)[]): { own: string; expanded: string } {
  const own = texts.flatMap((t) => (t ? tokensForSearch(t) : []));
  const expanded = new Set<string>();
  for (const token of own) for (const s of SYNONYMS[token] ?? []) if (!own.includes(s)) expanded.add(s);
  return { own: own.join(' '), expanded: [...expanded].join(' ') };
}

export function planSearch(query: string): SearchPlan {
  const text = normalizeText(query).trim();
  const tokens = queryTokens(query);
  if (tokens.length === 0) return { kind: 'substring', text };
  const max = Math.max(...tokens.map(tokenWeight));
  const groups = tokens.map((token): SearchGroup => {
    const synonyms = (SYNONYMS[token] ?? []).filter((s) => s !== token);
    const related = [`${token}:D`, ...(synonyms.length ? [`(${synonyms.join(' & ')})`] : [])].join(' | ');
    const weight = tokenWeight(token);
    return { token, weight, direct: `${token}:A`, related, key: weight >= max * KEY_SHARE };
  });
  const total = groups.reduce((n, g) => n + g.weight, 0);
  const any = [...new Set(tokens.flatMap((t) => [t, ...(SYNONYMS[t] ?? [])]))].join(' | ');
  const minScore = total * MIN_SHARE;
  return { kind: 'tokens', groups, minScore, any, text, need: needQuery(groups, minScore) ?? any };
}

const MAX_NEED_GROUPS = 12;
const MAX_NEED_CLAUSES = 32;

/** The sets of groups that are necessary for a match, as a tsquery in disjunctive form; null when there are too many. */
export function needSets(groups: readonly SearchGroup[], minScore: number): number[][] | null {
  if (groups.length > MAX_NEED_GROUPS) return null;
  const sets: number[][] = [];
  // Every subset, smallest first; a set counts when it has a key word, reaches the score with
  // every word fully hit (the most a match can score), and contains no smaller such set.
  const subsets = Array.from({ length: 2 ** groups.length - 1 }, (_, i) => i + 1).sort((a, b) => popcount(a) - popcount(b) || a - b);
  const minimal: number[] = [];
  for (const mask of subsets) {
    if (minimal.some((m) => (m & mask) === m)) continue;
    const members = groups.flatMap((g, i) => ((mask >> i) & 1 ? [i] : []));
    if (!members.some((i) => groups[i]!.key)) continue;
    if (members.reduce((n, i) => n + groups[i]!.weight, 0) < minScore) continue;
    minimal.push(mask);
    sets.push(members);
    if (sets.length > MAX_NEED_CLAUSES) return null;
  }
  return sets;
}

function needQuery(groups: readonly SearchGroup[], minScore: number): string | null {
  const sets = needSets(groups, minScore);
  if (sets === null || sets.length === 0) return null;
  // A word is hit directly or through all of its synonyms, at any weight.
  const word = (g: SearchGroup): string => {
    const synonyms = (SYNONYMS[g.token] ?? []).filter((s) => s !== g.token);
    return synonyms.length ? `(${g.token} | (${synonyms.join(' & ')}))` : g.token;
  };
  return sets.map((set) => `(${set.map((i) => word(groups[i]!)).join(' & ')})`).join(' | ');
}

function popcount(n: number): number {
  let c = 0;
  for (let x = n; x; x &= x - 1) c++;
  return c;
}

/** Whether a ticket with these own and expanded tokens matches; the SQL in the repository does the same. */
export function matchesTokens(plan: Extract<SearchPlan, { kind: 'tokens' }>, own: ReadonlySet<string>, expanded: ReadonlySet<string>): boolean {
  let score = 0;
  let key = false;
  for (const g of plan.groups) {
    const synonyms = (SYNONYMS[g.token] ?? []).filter((s) => s !== g.token);
    const viaSynonym = synonyms.length > 0 && synonyms.every((s) => own.has(s) || expanded.has(s));
    const hit = own.has(g.token) ? 1 : expanded.has(g.token) || viaSynonym ? 0.5 : 0;
    score += g.weight * hit;
    if (hit > 0 && g.key) key = true;
  }
  return key && score >= plan.minScore;
}
