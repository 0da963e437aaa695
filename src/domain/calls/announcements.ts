/**
 * What a waiting caller hears between stretches of music: their position and the expected wait,
 * as prompt ids (Mandarin numbers are built from num-* prompts; English uses ARI `number:`).
 * Pure.
 */
import { mandarinNumberPromptIds, promptMediaUri } from '../ivr/prompts.js';

export interface WaitEstimateInput {
  /** Callers ahead of this one (0 = next). */
  readonly ahead: number;
  /** Mean handle time of recent calls of the queue, seconds (talk + wrap-up). */
  readonly averageHandleSeconds: number;
  /** Agents logged in who could take the call (ready, ringing, on call or in wrap-up). */
  readonly staffedAgents: number;
}

/** When nothing is known yet about a queue's handle time. */
export const DEFAULT_HANDLE_SECONDS = 180;

/**
 * Expected seconds until an agent takes the call: the callers ahead plus this one, served by
 * the staffed agents in parallel, each taking the average handle time. Null when nobody is
 * staffed (no honest estimate exists).
 */
export function expectedWaitSeconds(i: WaitEstimateInput): number | null {
  if (i.staffedAgents <= 0) return null;
  const aht = i.averageHandleSeconds > 0 ? i.averageHandleSeconds : DEFAULT_HANDLE_SECONDS;
  return Math.round(((i.ahead + 1) * aht) / i.staffedAgents);
}

/** Media URIs of one announcement in the channel's language. */
export function announcementMedia(language: string, ahead: number, waitSeconds: number | null): string[] {
  const uri = promptMediaUri;
  const number = (n: number): string[] => (language === 'zh' ? mandarinNumberPromptIds(n).map(uri) : [`number:${n}`]);
  const out: string[] = [];
  if (ahead === 0) out.push(uri('queue-position-next'));
  else out.push(uri('queue-position-before'), ...number(Math.min(ahead, 9999)), uri('queue-position-after'));
  if (waitSeconds !== null) {
    const minutes = Math.ceil(waitSeconds / 60);
    if (minutes <= 1) out.push(uri('queue-wait-short'));
    else out.push(uri('queue-wait-before'), ...number(Math.min(minutes, 999)), uri('queue-wait-after'));
  }
  return out;
}

/** Survey keys (DESIGN.md step 7): 1 满意, 2 基本满意, 3 不满意. */
export const SURVEY_RESULTS = ['satisfied', 'basically_satisfied', 'dissatisfied'] as const;
export type SurveyResult = (typeof SURVEY_RESULTS)[number];

export const SURVEY_RESULT_LABELS: Readonly<Record<SurveyResult, string>> = {
  satisfied: '满意', basically_satisfied: '基本满意', dissatisfied: '不满意',
};

export function surveyResultOf(digit: string): SurveyResult | null {
  return digit === '1' ? 'satisfied' : digit === '2' ? 'basically_satisfied' : digit === '3' ? 'dissatisfied' : null;
}
