/**
 * The inbound call's state machine (DESIGN.md call flow, steps 1–8). A call session moves only
 * along these edges; each move is stored (call row, timeline row, event) before the session
 * acts on it, so a restarted service knows where every caller was. Pure.
 */
import { IllegalTransitionError } from '../errors.js';

export const CALL_STATES = ['arrived', 'ivr', 'queued', 'offering', 'connected', 'transferring', 'transferred', 'survey', 'voicemail', 'ended'] as const;
export type CallState = (typeof CALL_STATES)[number];

export const CALL_STATE_LABELS: Readonly<Record<CallState, string>> = {
  arrived: '呼入', ivr: '语音导航', queued: '排队', offering: '振铃坐席',
  connected: '通话中', transferring: '转接中', transferred: '已转出', survey: '满意度评价', voicemail: '留言', ended: '已结束',
};

const EDGES: Readonly<Record<CallState, readonly CallState[]>> = {
  arrived: ['ivr', 'queued', 'ended'],
  ivr: ['queued', 'ended'],
  // queued → queued: an overflow to another queue.
  queued: ['offering', 'queued', 'voicemail', 'ended'],
  // offering → queued: no answer, busy or a failed originate; the caller keeps their place.
  offering: ['connected', 'queued', 'ended'],
  // connected → queued: a blind transfer to a queue; → transferring: to a number.
  connected: ['survey', 'queued', 'transferring', 'ended'],
  // transferring → queued: the far end did not answer; the caller goes back, first in line.
  transferring: ['transferred', 'queued', 'ended'],
  transferred: ['ended'],
  survey: ['ended'],
  voicemail: ['ended'],
  ended: [],
};

export function nextCallStates(from: CallState): readonly CallState[] {
  return EDGES[from];
}

export function canMoveCall(from: CallState, to: CallState): boolean {
  return EDGES[from].includes(to);
}

export function assertCallMove(from: CallState, to: CallState): void {
  if (!canMoveCall(from, to)) throw new IllegalTransitionError('call', from, to, EDGES[from]);
}

/** How a call ended, for reporting (abandon rates by stage, self-service rate, callbacks). */
export const CALL_DISPOSITIONS = [
  'answered', 'abandoned_ivr', 'abandoned_queue', 'abandoned_ringing', 'self_served',
  'callback_requested', 'overflow_callback', 'voicemail', 'rejected', 'failed', 'lost',
] as const;
export type CallDisposition = (typeof CALL_DISPOSITIONS)[number];

export const CALL_DISPOSITION_LABELS: Readonly<Record<CallDisposition, string>> = {
  answered: '已接通', abandoned_ivr: '导航中放弃', abandoned_queue: '排队中放弃', abandoned_ringing: '振铃中放弃',
  self_served: '自助服务', callback_requested: '预约回电', overflow_callback: '溢出回电', voicemail: '留言',
  rejected: '拒绝服务', failed: '系统失败', lost: '通话丢失',
};

/** The disposition of a caller who hung up while in `state` (never connected to an agent). */
export function abandonDisposition(state: CallState, selfServed: boolean): CallDisposition {
  switch (state) {
    case 'queued':
      return 'abandoned_queue';
    case 'offering':
      return 'abandoned_ringing';
    case 'connected':
    case 'transferring':
    case 'transferred':
    case 'survey':
      return 'answered';
    case 'voicemail':
      return 'voicemail';
    default:
      return selfServed ? 'self_served' : 'abandoned_ivr';
  }
}

export const HANGUP_PARTIES = ['caller', 'agent', 'system'] as const;
export type HangupParty = (typeof HANGUP_PARTIES)[number];

/** Timeline entry types (call_events.type). */
export const CALL_EVENT_TYPES = [
  'arrived', 'answered', 'caller_flags', 'ivr_choice', 'progress_query', 'queued', 'overflow', 'priority_raised',
  'announcement', 'offer', 'offer_result', 'connected', 'recording_started', 'recording_finished', 'hold', 'unhold',
  'transfer', 'consult', 'monitor', 'survey', 'callback_requested', 'voicemail', 'ticket_bound', 'recovered', 'ended',
] as const;
export type CallEventType = (typeof CALL_EVENT_TYPES)[number];
