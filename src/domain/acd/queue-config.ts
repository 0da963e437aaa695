/**
 * Queue configuration rules: sane ranges for every limit and how they relate. Each problem has a
 * stable code so the operator console can point at the field. Pure.
 */
import { checkPriorityRules, type PriorityRule } from './priority.js';

export const SKILL_LEVEL_MIN = 1;
export const SKILL_LEVEL_MAX = 5;
export const MAX_REQUIRED_SKILLS = 10;

/** Inclusive ranges, in seconds. `announcementIntervalSeconds` 0 = no periodic announcement. */
export const QUEUE_LIMITS = {
  maxWaitSeconds: { min: 30, max: 3600 },
  announcementIntervalSeconds: { min: 15, max: 600 },
  callbackOfferSeconds: { min: 0, max: 3600 },
  wrapUpSeconds: { min: 0, max: 600 },
  ringTimeoutSeconds: { min: 5, max: 120 },
  serviceLevelSeconds: { min: 1, max: 600 },
} as const;

export const QUEUE_DEFAULTS = {
  maxWaitSeconds: 300,
  announcementIntervalSeconds: 60,
  callbackOfferSeconds: 120,
  wrapUpSeconds: 30,
  ringTimeoutSeconds: 20,
  /** 80/15 is the usual hotline target: 80 % of calls answered within 15 s. */
  serviceLevelSeconds: 15,
} as const;

export const OVERFLOW_ACTIONS = ['none', 'queue', 'voicemail', 'callback'] as const;
export type OverflowAction = (typeof OVERFLOW_ACTIONS)[number];

export interface RequiredSkill {
  readonly skillId: string;
  readonly minLevel: number;
}

export interface QueueSettings {
  readonly maxWaitSeconds: number;
  readonly announcementIntervalSeconds: number;
  /** null = never offer a callback. */
  readonly callbackOfferSeconds: number | null;
  readonly wrapUpSeconds: number;
  readonly ringTimeoutSeconds: number;
  readonly serviceLevelSeconds: number;
  readonly overflowAction: OverflowAction;
  readonly overflowQueueId: string | null;
  readonly requiredSkills: readonly RequiredSkill[];
  readonly priorityRules: readonly PriorityRule[];
  readonly language: string | null;
}

export interface ConfigProblem {
  readonly code: string;
  readonly field: string;
  readonly message: string;
}

/** BCP 47-like: zh, yue, en, zh-Hant … */
export const LANGUAGE_PATTERN = /^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$/;

function range(problems: ConfigProblem[], field: keyof typeof QUEUE_LIMITS, value: number): void {
  const { min, max } = QUEUE_LIMITS[field];
  if (!Number.isInteger(value) || value < min || value > max) {
    problems.push({ code: 'queue_limit_out_of_range', field, message: `${field} must be a whole number from ${min} to ${max}, got ${value}` });
  }
}

/** Every problem with the settings, in field order; empty when they are valid. */
export function validateQueueSettings(s: QueueSettings): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  range(problems, 'maxWaitSeconds', s.maxWaitSeconds);
  if (s.announcementIntervalSeconds !== 0) range(problems, 'announcementIntervalSeconds', s.announcementIntervalSeconds);
  if (s.callbackOfferSeconds !== null) range(problems, 'callbackOfferSeconds', s.callbackOfferSeconds);
  range(problems, 'wrapUpSeconds', s.wrapUpSeconds);
  range(problems, 'ringTimeoutSeconds', s.ringTimeoutSeconds);
  range(problems, 'serviceLevelSeconds', s.serviceLevelSeconds);

  if (s.callbackOfferSeconds !== null && s.callbackOfferSeconds >= s.maxWaitSeconds) {
    problems.push({ code: 'callback_offer_after_max_wait', field: 'callbackOfferSeconds', message: 'The callback offer must come before the maximum wait is reached' });
  }
  if (s.serviceLevelSeconds > s.maxWaitSeconds) {
    problems.push({ code: 'service_level_exceeds_max_wait', field: 'serviceLevelSeconds', message: 'The service-level threshold cannot be longer than the maximum wait' });
  }
  if (s.ringTimeoutSeconds >= s.maxWaitSeconds) {
    problems.push({ code: 'ring_timeout_exceeds_max_wait', field: 'ringTimeoutSeconds', message: 'The ring timeout must be shorter than the maximum wait' });
  }

  if (!OVERFLOW_ACTIONS.includes(s.overflowAction)) {
    problems.push({ code: 'invalid_overflow_action', field: 'overflow.action', message: `overflow action must be one of ${OVERFLOW_ACTIONS.join(', ')}` });
  } else if (s.overflowAction === 'queue' && !s.overflowQueueId) {
    problems.push({ code: 'overflow_queue_required', field: 'overflow.queueId', message: 'An overflow to a queue names the queue' });
  } else if (s.overflowAction !== 'queue' && s.overflowQueueId) {
    problems.push({ code: 'overflow_queue_not_applicable', field: 'overflow.queueId', message: `overflow action ${s.overflowAction} takes no queue` });
  }

  if (s.requiredSkills.length > MAX_REQUIRED_SKILLS) {
    problems.push({ code: 'too_many_required_skills', field: 'requiredSkills', message: `At most ${MAX_REQUIRED_SKILLS} required skills` });
  }
  const seen = new Set<string>();
  for (const r of s.requiredSkills) {
    if (seen.has(r.skillId)) problems.push({ code: 'duplicate_skill', field: 'requiredSkills', message: `Skill ${r.skillId} is listed twice` });
    seen.add(r.skillId);
    if (!Number.isInteger(r.minLevel) || r.minLevel < SKILL_LEVEL_MIN || r.minLevel > SKILL_LEVEL_MAX) {
      problems.push({ code: 'skill_level_out_of_range', field: 'requiredSkills', message: `minLevel must be ${SKILL_LEVEL_MIN}-${SKILL_LEVEL_MAX}, got ${r.minLevel}` });
    }
  }
  if (s.language !== null && !LANGUAGE_PATTERN.test(s.language)) {
    problems.push({ code: 'invalid_language', field: 'language', message: `'${s.language}' is not a language code such as zh, yue or en` });
  }
  problems.push(...checkPriorityRules(s.priorityRules));
  return problems;
}
