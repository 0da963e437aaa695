/**
 * How alike two requests are: cosine similarity of TF-IDF vectors over search-mode tokens, with
 * jieba's IDF table (rare words such as 路灯 weigh more than 小区 or 晚上), plus a few hotline
 * synonyms so 欠薪 meets 拖欠工资. Addresses are compared on character bigrams instead, since
 * segmentation of place names is unreliable and digits (3号楼 vs 5号楼) matter.
 */
import { createRequire } from 'node:module';
import type * as JiebaDictModule from '@node-rs/jieba/dict.js';
import { normalizeText } from './normalize.js';
import { tokenize } from './search.js';
import { warmUpSegmenter } from './segmenter.js';

/** Colloquial forms mapped to the tokens the standard wording produces. */
export const SYNONYMS: Readonly<Record<string, readonly string[]>> = {
  欠薪: ['拖欠', '工资'],
  讨薪: ['拖欠', '工资'],
  没电: ['停电'],
  断电: ['停电'],
  没水: ['停水'],
  断水: ['停水'],
  吵: ['噪音'],
  吵闹: ['噪音'],
  太吵: ['噪音'],
  坏了: ['故障'],
  坏: ['故障'],
  损坏: ['故障'],
  不亮: ['不亮', '故障'],
};

// Bare numbers (3, 15) say little about the subject; addresses are compared separately.
const NUMBER_WEIGHT = 1;

const require = createRequire(import.meta.url);
let idfTable: Map<string, number> | undefined;
let medianIdf = 12;

/** jieba's IDF table, parsed once (~270,000 words). */
function idf(): Map<string, number> {
  if (idfTable === undefined) {
    const { idf: bytes } = require('@node-rs/jieba/dict.js') as typeof JiebaDictModule;
    const text = new TextDecoder().decode(bytes);
    const table = new Map<string, number>();
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      const space = text.lastIndexOf(' ', end);
      if (space > start) table.set(text.slice(start, space), Number(text.slice(space + 1, end)));
      start = end + 1;
    }
    const values = [...table.values()].sort((a, b) => a - b);
    medianIdf = values[Math.floor(values.length / 2)] ?? medianIdf;
    idfTable = table;
  }
  return idfTable;
}

/** Weight of a token: its IDF, or the median IDF for words the table does not know (as jieba does). */
export function tokenWeight(token: string): number {
  if (/^\p{N}+$/u.test(token)) return NUMBER_WEIGHT;
  return idf().get(token) ?? medianIdf;
}

/** Loads the dictionary and the IDF table now (about a second) rather than on the first request. */
export function warmUpText(): void {
  warmUpSegmenter();
  idf();
}

/** A text prepared for repeated comparison. */
export interface TextProfile {
  readonly vector: ReadonlyMap<string, number>;
  readonly norm: number;
}

export function profile(text: string): TextProfile {
  const counts = new Map<string, number>();
  for (const token of tokenize(text, 'search')) {
    for (const t of SYNONYMS[token] ?? [token]) counts.set(t, (counts.get(t) ?? 0) + 1);
  }
  const vector = new Map<string, number>();
  let sum = 0;
  for (const [token, count] of counts) {
    // Sublinear TF: a word said five times is not five times the subject.
    const w = (1 + Math.log(count)) * tokenWeight(token);
    vector.set(token, w);
    sum += w * w;
  }
  return { vector, norm: Math.sqrt(sum) };
}

export function cosine(a: TextProfile, b: TextProfile): number {
  if (a.norm === 0 || b.norm === 0) return 0;
  const [small, large] = a.vector.size <= b.vector.size ? [a, b] : [b, a];
  let dot = 0;
  for (const [token, w] of small.vector) dot += w * (large.vector.get(token) ?? 0);
  return Math.min(1, dot / (a.norm * b.norm));
}

/** 0 (nothing in common) … 1 (same words with the same weights). */
export function textSimilarity(a: string, b: string): number {
  return cosine(profile(a), profile(b));
}

/** The most characteristic words of a text (or of its profile), heaviest first. */
export function keywords(text: string | TextProfile, limit = 8): string[] {
  return [...(typeof text === 'string' ? profile(text) : text).vector.entries()]
    .sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]))
    .slice(0, limit)
    .map(([token]) => token);
}

function bigrams(text: string): Set<string> {
  const chars = [...normalizeText(text).replace(/[^\p{L}\p{N}]+/gu, '')];
  const grams = new Set<string>();
  if (chars.length === 1) grams.add(chars[0]!);
  for (let i = 0; i + 1 < chars.length; i++) grams.add(chars[i]! + chars[i + 1]!);
  return grams;
}

/** Dice coefficient of character bigrams: 幸福小区3号楼2单元 vs 幸福小区3号楼 ≈ 0.8, vs 5号楼 ≈ 0.67. */
export function addressSimilarity(a: string, b: string): number {
  const x = bigrams(a);
  const y = bigrams(b);
  if (x.size === 0 || y.size === 0) return 0;
  let shared = 0;
  for (const g of x) if (y.has(g)) shared++;
  return (2 * shared) / (x.size + y.size);
}
