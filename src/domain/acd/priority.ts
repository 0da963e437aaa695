/**
 * Who waits less: fixed priority classes (emergency linkage > elderly/assisted > everyone else)
 * and per-queue boosts by caller flag that order callers within a class, never across classes.
 * Then first come, first served. Pure.
 */
import type { ConfigProblem } from './queue-config.js';

/** Flags the call flow sets on a caller (from the caller lookup or the transfer-in context). */
export const CALLER_FLAGS = ['emergency_linkage', 'elderly', 'assisted', 'repeat_caller'] as const;
export type CallerFlag = (typeof CALLER_FLAGS)[number];

export const CALLER_FLAG_LABELS: Readonly<Record<CallerFlag, string>> = {
  emergency_linkage: '应急联动', elderly: '老年人', assisted: '需协助', repeat_caller: '重复来电',
};

/** Highest first. */
export const PRIORITY_CLASSES = ['emergency', 'assisted', 'normal'] as const;
export type PriorityClass = (typeof PRIORITY_CLASSES)[number];

export interface PriorityRule {
  readonly flag: CallerFlag;
  readonly boost: number;
}

export const PRIORITY_BOOST_MAX = 100;
// Class steps are larger than any boost, so a boost never lifts a caller into the next class.
const CLASS_STEP = 1000;

export const DEFAULT_PRIORITY_RULES: readonly PriorityRule[] = [];

export function priorityClassOf(flags: readonly CallerFlag[]): PriorityClass {
  if (flags.includes('emergency_linkage')) return 'emergency';
  if (flags.includes('elderly') || flags.includes('assisted')) return 'assisted';
  return 'normal';
}

/** A number for the queue entry row: higher is served first. */
export function priorityOf(flags: readonly CallerFlag[], rules: readonly PriorityRule[]): number {
  const cls = priorityClassOf(flags);
  const rank = PRIORITY_CLASSES.length - 1 - PRIORITY_CLASSES.indexOf(cls);
  const boost = rules.filter((r) => flags.includes(r.flag)).reduce((max, r) => Math.max(max, r.boost), 0);
  return rank * CLASS_STEP + boost;
}

export interface WaitingEntry {
  readonly id: string;
  readonly priority: number;
  readonly enqueuedAt: Date;
}

/** Sort order of waiting callers: priority, then longest waiting, then id (stable across instances). */
export function compareWaiting(a: WaitingEntry, b: WaitingEntry): number {
  return b.priority - a.priority || a.enqueuedAt.getTime() - b.enqueuedAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export function checkPriorityRules(rules: readonly PriorityRule[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  for (const r of rules) {
    if (!CALLER_FLAGS.includes(r.flag)) {
      problems.push({ code: 'unknown_caller_flag', field: 'priorityRules', message: `Unknown caller flag '${String(r.flag)}'; known: ${CALLER_FLAGS.join(', ')}` });
      continue;
    }
    if (seen.has(r.flag)) problems.push({ code: 'duplicate_priority_rule', field: 'priorityRules', message: `Flag ${r.flag} has two rules` });
    seen.add(r.flag);
    if (!Number.isInteger(r.boost) || r.boost < 1 || r.boost > PRIORITY_BOOST_MAX) {
      problems.push({ code: 'priority_boost_out_of_range', field: 'priorityRules', message: `boost must be 1-${PRIORITY_BOOST_MAX}, got ${r.boost}` });
    }
  }
  return problems;
}
