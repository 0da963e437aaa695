/**
 * SLA policy: time limits per request type and urgency for the three stages a hotline measures,
 * with an early warning (预警) and extensions (延期).
 *
 *  - dispatch (派单): from acceptance until the hotline dispatches;
 *  - response (响应): from dispatch until the department signs for it (签收);
 *  - completion (办结): from dispatch until the department's answer is approved.
 */
import { ConflictError, ValidationError } from '../errors.js';
import { SLA_STAGES, type SlaStage } from '../tickets/actions.js';
import { REQUEST_TYPES, URGENCY_LEVELS, type RequestType, type Urgency } from '../tickets/vocabulary.js';
import { addLimit, isWorkingUnit, parseTimeLimit, type TimeLimit } from './limits.js';
import { HOUR_MS } from './local-date.js';
import type { DayEnd, WorkingCalendar } from './working-calendar.js';

export type StageLimits = Readonly<Record<SlaStage, TimeLimit>>;

/** A rule applies when all of its given keys match; see `limitsFor` for the order. */
export interface SlaRule {
  readonly type?: RequestType;
  readonly urgency?: Urgency;
  readonly limits: Partial<StageLimits>;
}

/** Warn at a share of the limit (0.8 = 80 %) or a number of hours before the deadline (working hours for working units). */
export type WarningRule = { readonly fraction: number } | { readonly hoursBefore: number };

export interface SlaPolicy {
  readonly defaults: StageLimits;
  readonly rules: readonly SlaRule[];
  readonly warning: WarningRule;
  /** Where a limit in days ends on its last day. */
  readonly dayEnd: DayEnd;
  readonly extension: { readonly maxCount: number; readonly maxEach: TimeLimit };
}

const wd = (value: number): TimeLimit => ({ value, unit: 'working_days' });
const nh = (value: number): TimeLimit => ({ value, unit: 'natural_hours' });

/**
 * Defaults from the standards README: dispatch within 1 h (特急), 2 h (紧急: water, power, gas,
 * heat, extreme weather) or 24 h; completion in working days, up to 15 for complex matters
 * (举报, 意见建议). Cities override all of it.
 */
export const DEFAULT_SLA_POLICY: SlaPolicy = {
  defaults: { dispatch: nh(24), response: wd(1), completion: wd(5) },
  rules: [
    { type: 'consultation', limits: { completion: wd(3) } },
    { type: 'online_guidance', limits: { completion: wd(3) } },
    { type: 'complaint', limits: { completion: wd(10) } },
    { type: 'report', limits: { completion: wd(15) } },
    { type: 'suggestion', limits: { completion: wd(15) } },
    { urgency: 'urgent', limits: { dispatch: nh(2), response: nh(2), completion: nh(48) } },
    { urgency: 'very_urgent', limits: { dispatch: nh(1), response: nh(1), completion: nh(24) } },
  ],
  warning: { fraction: 0.8 },
  dayEnd: 'end_of_day',
  extension: { maxCount: 2, maxEach: wd(10) },
};

/** Limits for a request: defaults, then type rules, then urgency rules, then rules naming both. */
export function limitsFor(policy: SlaPolicy, type: RequestType, urgency: Urgency): StageLimits {
  const specificity = (r: SlaRule): number => (r.type !== undefined ? 1 : 0) + (r.urgency !== undefined ? 2 : 0);
  const matching = policy.rules
    .filter((r) => (r.type === undefined || r.type === type) && (r.urgency === undefined || r.urgency === urgency))
    .sort((a, b) => specificity(a) - specificity(b)); // stable: equal rules keep their order
  return matching.reduce<StageLimits>((acc, r) => ({ ...acc, ...r.limits }), policy.defaults);
}

export interface Deadline {
  readonly from: Date;
  readonly limit: TimeLimit;
  readonly dueAt: Date;
  readonly warnAt: Date;
}

export type Deadlines = Readonly<Record<SlaStage, Deadline>>;

export interface DeadlineInput {
  readonly type: RequestType;
  readonly urgency: Urgency;
  readonly acceptedAt: Date;
  /** Response and completion count from dispatch; until then, provisionally from acceptance. */
  readonly dispatchedAt?: Date | undefined;
}

export function deadline(policy: SlaPolicy, calendar: WorkingCalendar, from: Date, limit: TimeLimit): Deadline {
  const dueAt = addLimit(calendar, from, limit, policy.dayEnd);
  return { from, limit, dueAt, warnAt: warnAt(policy.warning, calendar, from, dueAt, limit) };
}

export function computeDeadlines(policy: SlaPolicy, calendar: WorkingCalendar, input: DeadlineInput): Deadlines {
  const limits = limitsFor(policy, input.type, input.urgency);
  const handlingFrom = input.dispatchedAt ?? input.acceptedAt;
  return {
    dispatch: deadline(policy, calendar, input.acceptedAt, limits.dispatch),
    response: deadline(policy, calendar, handlingFrom, limits.response),
    completion: deadline(policy, calendar, handlingFrom, limits.completion),
  };
}

/**
 * When to warn. For working units the share is taken of the working time inside the limit, so
 * the warning falls in working hours rather than at night before a morning deadline.
 */
export function warnAt(rule: WarningRule, calendar: WorkingCalendar, from: Date, dueAt: Date, limit: TimeLimit): Date {
  const natural = dueAt.getTime() - from.getTime();
  const working = isWorkingUnit(limit.unit) ? calendar.workingMsBetween(from, dueAt) : 0;
  if (working > 0) {
    const lead = 'fraction' in rule ? working * (1 - rule.fraction) : rule.hoursBefore * HOUR_MS;
    return calendar.addWorkingTime(from, Math.max(0, working - lead));
  }
  const lead = 'fraction' in rule ? natural * (1 - rule.fraction) : rule.hoursBefore * HOUR_MS;
  return new Date(from.getTime() + Math.max(0, natural - lead));
}

export type SlaStatus = 'ok' | 'warning' | 'overdue';

/** Overdue strictly after the deadline; warning from the warning instant on. */
export function slaStatus(now: Date, dueAt: Date | null, warnAtInstant: Date | null = null): SlaStatus {
  if (dueAt === null) return 'ok';
  if (now.getTime() > dueAt.getTime()) return 'overdue';
  if (warnAtInstant !== null && now.getTime() >= warnAtInstant.getTime()) return 'warning';
  return 'ok';
}

export interface ExtensionInput {
  readonly currentDueAt: Date;
  readonly extensionCount: number;
}

/** The latest deadline one more extension may reach; throws when no extension is left. */
export function maxExtendedDueAt(policy: SlaPolicy, calendar: WorkingCalendar, input: ExtensionInput): Date {
  if (input.extensionCount >= policy.extension.maxCount) {
    throw new ConflictError(
      `at most ${policy.extension.maxCount} extension(s) allowed`,
      'extension_limit_reached',
      { maxCount: policy.extension.maxCount },
    );
  }
  return addLimit(calendar, input.currentDueAt, policy.extension.maxEach, policy.dayEnd);
}

/** Checks a requested extended deadline against the policy (before the state machine records it). */
export function checkExtension(policy: SlaPolicy, calendar: WorkingCalendar, input: ExtensionInput & { readonly requestedDueAt: Date }): void {
  const max = maxExtendedDueAt(policy, calendar, input);
  if (input.requestedDueAt.getTime() <= input.currentDueAt.getTime()) {
    throw new ValidationError('the extended deadline must be later than the current one', {}, 'extension_not_later_than_deadline');
  }
  if (input.requestedDueAt.getTime() > max.getTime()) {
    throw new ValidationError('the extension is longer than the policy allows', { maxDueAt: max.toISOString() }, 'extension_too_long');
  }
}

/** The deadline moved by `by` (e.g. 5 working days from the current deadline). */
export function extendDeadline(policy: SlaPolicy, calendar: WorkingCalendar, currentDueAt: Date, by: TimeLimit): Date {
  return addLimit(calendar, currentDueAt, by, policy.dayEnd);
}

// --- Validation of operator-supplied policies.

function record(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(`${path} must be an object`, { issues: [{ path, message: 'must be an object' }] }, 'invalid_sla_policy');
  }
  return value as Record<string, unknown>;
}

function stageLimits(value: unknown, path: string, partial: boolean): Partial<StageLimits> {
  const input = record(value, path);
  const out: Partial<Record<SlaStage, TimeLimit>> = {};
  for (const key of Object.keys(input)) {
    if (!SLA_STAGES.includes(key as SlaStage)) {
      throw new ValidationError(`${path}.${key} is not a stage`, { issues: [{ path: `${path}.${key}`, message: 'unknown stage' }] }, 'invalid_sla_policy');
    }
  }
  for (const stage of SLA_STAGES) {
    if (input[stage] === undefined) {
      if (partial) continue;
      throw new ValidationError(`${path}.${stage} is required`, { issues: [{ path: `${path}.${stage}`, message: 'required' }] }, 'invalid_sla_policy');
    }
    out[stage] = parseTimeLimit(input[stage], `${path}.${stage}`);
  }
  return out;
}

/** Validates an SLA policy as configured by operators; missing parts take the defaults. */
export function parseSlaPolicy(input: unknown): SlaPolicy {
  const p = record(input, 'policy');
  const bad = (path: string, message: string): never => {
    throw new ValidationError(`${path}: ${message}`, { issues: [{ path, message }] }, 'invalid_sla_policy');
  };
  const defaults = p['defaults'] === undefined ? DEFAULT_SLA_POLICY.defaults : (stageLimits(p['defaults'], 'defaults', false) as StageLimits);
  const rawRules = p['rules'] ?? DEFAULT_SLA_POLICY.rules;
  if (!Array.isArray(rawRules)) return bad('rules', 'must be a list');
  const rules = rawRules.map((raw: unknown, i): SlaRule => {
    const r = record(raw, `rules[${i}]`);
    const type = r['type'];
    const urgency = r['urgency'];
    if (type !== undefined && !REQUEST_TYPES.includes(type as RequestType)) bad(`rules[${i}].type`, 'unknown request type');
    if (urgency !== undefined && !URGENCY_LEVELS.includes(urgency as Urgency)) bad(`rules[${i}].urgency`, 'unknown urgency');
    return {
      ...(type === undefined ? {} : { type: type as RequestType }),
      ...(urgency === undefined ? {} : { urgency: urgency as Urgency }),
      limits: stageLimits(r['limits'], `rules[${i}].limits`, true),
    };
  });
  let warning: WarningRule = DEFAULT_SLA_POLICY.warning;
  if (p['warning'] !== undefined) {
    const w = record(p['warning'], 'warning');
    if (typeof w['fraction'] === 'number' && w['hoursBefore'] === undefined) {
      if (!(w['fraction'] > 0 && w['fraction'] < 1)) bad('warning.fraction', 'must be between 0 and 1');
      warning = { fraction: w['fraction'] };
    } else if (typeof w['hoursBefore'] === 'number' && w['fraction'] === undefined) {
      if (!(w['hoursBefore'] > 0 && Number.isFinite(w['hoursBefore']))) bad('warning.hoursBefore', 'must be a positive number');
      warning = { hoursBefore: w['hoursBefore'] };
    } else {
      bad('warning', 'give either fraction or hoursBefore');
    }
  }
  const dayEnd = p['dayEnd'] ?? DEFAULT_SLA_POLICY.dayEnd;
  if (dayEnd !== 'end_of_day' && dayEnd !== 'end_of_business' && dayEnd !== 'same_time') bad('dayEnd', 'must be end_of_day, end_of_business or same_time');
  let extension = DEFAULT_SLA_POLICY.extension;
  if (p['extension'] !== undefined) {
    const e = record(p['extension'], 'extension');
    const maxCount = e['maxCount'];
    if (typeof maxCount !== 'number' || !Number.isInteger(maxCount) || maxCount < 0 || maxCount > 10) bad('extension.maxCount', 'must be a whole number 0–10');
    extension = { maxCount: maxCount as number, maxEach: parseTimeLimit(e['maxEach'], 'extension.maxEach') };
  }
  return { defaults, rules, warning, dayEnd: dayEnd as DayEnd, extension };
}
