/**
 * What the call flow makes of a caller at arrival: flags from the operator-kept profile (elderly,
 * assisted, harassment) and from history (several calls today), and how routing treats them.
 * Pure.
 */
import type { CallerFlag } from '../acd/priority.js';
import { maskPhone } from '../phone.js';

export const PROFILE_FLAGS = ['elderly', 'assisted', 'harassment'] as const;
export type ProfileFlag = (typeof PROFILE_FLAGS)[number];

export const HARASSMENT_ACTIONS = ['warn', 'disconnect'] as const;
export type HarassmentAction = (typeof HARASSMENT_ACTIONS)[number];

export const PROFILE_FLAG_LABELS: Readonly<Record<ProfileFlag, string>> = { elderly: '老年人', assisted: '需协助', harassment: '恶意骚扰' };

/** Calls from one number within this window make a repeat caller (GB/T 44189 7.1.3). */
export const REPEAT_WINDOW_HOURS = 24;
/** Earlier calls in the window from which the caller counts as repeating. */
export const REPEAT_MIN_EARLIER_CALLS = 2;

export interface CallerFacts {
  readonly profileFlags: readonly ProfileFlag[];
  readonly harassmentAction: HarassmentAction;
  readonly earlierCallsInWindow: number;
  readonly openTickets: number;
  /** Transferred in by 110/119/120/122 (emergency linkage, 应急联动). */
  readonly emergencyLinkage: boolean;
}

export interface CallerTreatment {
  /** Flags for the queue entry's priority (src/domain/acd/priority.ts). */
  readonly routingFlags: CallerFlag[];
  /** Elderly and assisted callers, and emergency transfers, skip the menu. */
  readonly skipMenu: boolean;
  readonly harassment: HarassmentAction | null;
  readonly repeatCaller: boolean;
}

export function treatCaller(f: CallerFacts): CallerTreatment {
  const routingFlags: CallerFlag[] = [];
  if (f.emergencyLinkage) routingFlags.push('emergency_linkage');
  if (f.profileFlags.includes('elderly')) routingFlags.push('elderly');
  if (f.profileFlags.includes('assisted')) routingFlags.push('assisted');
  const repeatCaller = f.earlierCallsInWindow >= REPEAT_MIN_EARLIER_CALLS;
  if (repeatCaller) routingFlags.push('repeat_caller');
  return {
    routingFlags,
    skipMenu: f.emergencyLinkage || f.profileFlags.includes('elderly') || f.profileFlags.includes('assisted'),
    harassment: f.profileFlags.includes('harassment') ? f.harassmentAction : null,
    repeatCaller,
  };
}

/**
 * The caller's number on an agent's desktop: whole, so the agent can confirm it and call back,
 * unless the citizen asked for confidentiality (保密) — then only its last four digits.
 */
export function callerNumberForDesktop(number: string, confidential: boolean): string {
  return confidential ? maskPhone(number) : number;
}
