import { describe, expect, it } from 'vitest';
import { announcementMedia, expectedWaitSeconds, surveyResultOf } from './announcements.js';
import { treatCaller } from './caller.js';
import { offerOutcomeFromCause, outcomeBlamesAgent } from './offers.js';
import { digitsOfTicketNumber, ticketNumberFromDigits, ticketStatusPromptId } from './progress.js';
import { abandonDisposition, assertCallMove, CALL_STATES, canMoveCall, nextCallStates } from './states.js';
import { IllegalTransitionError } from '../errors.js';
import { TICKET_STATUSES } from '../tickets/model.js';
import { REQUIRED_PROMPT_IDS } from '../ivr/prompts.js';

describe('call state machine', () => {
  const legal: Record<string, string[]> = {
    arrived: ['ivr', 'queued', 'ended'],
    ivr: ['queued', 'ended'],
    queued: ['offering', 'queued', 'voicemail', 'ended'],
    offering: ['connected', 'queued', 'ended'],
    connected: ['survey', 'ended'],
    survey: ['ended'],
    voicemail: ['ended'],
    ended: [],
  };
  it.each(CALL_STATES.flatMap((from) => CALL_STATES.map((to) => [from, to] as const)))('%s → %s', (from, to) => {
    const ok = legal[from]!.includes(to);
    expect(canMoveCall(from, to)).toBe(ok);
    if (ok) expect(() => assertCallMove(from, to)).not.toThrow();
    else {
      try {
        assertCallMove(from, to);
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(IllegalTransitionError);
        expect((err as IllegalTransitionError).details).toMatchObject({ from, action: to, allowed: legal[from] });
      }
    }
  });
  it('every state is covered and nothing leaves ended', () => {
    expect(Object.keys(legal).sort()).toEqual([...CALL_STATES].sort());
    expect(nextCallStates('ended')).toEqual([]);
  });
  it('names the abandon by where the caller gave up', () => {
    expect(abandonDisposition('arrived', false)).toBe('abandoned_ivr');
    expect(abandonDisposition('ivr', false)).toBe('abandoned_ivr');
    expect(abandonDisposition('ivr', true)).toBe('self_served');
    expect(abandonDisposition('queued', false)).toBe('abandoned_queue');
    expect(abandonDisposition('offering', false)).toBe('abandoned_ringing');
    expect(abandonDisposition('connected', false)).toBe('answered');
    expect(abandonDisposition('survey', false)).toBe('answered');
    expect(abandonDisposition('voicemail', false)).toBe('voicemail');
  });
});

describe('offer outcomes from hangup causes (ari-traces)', () => {
  it.each([[17, 'busy'], [19, 'no_answer'], [18, 'no_answer'], [21, 'rejected'], [34, 'failed'], [undefined, 'failed']] as const)('cause %s → %s', (cause, outcome) => {
    expect(offerOutcomeFromCause(cause)).toBe(outcome);
  });
  it('blames the agent for what their phone did, not for a caller who left or a lost leg', () => {
    expect(['no_answer', 'busy', 'rejected', 'failed'].every((o) => outcomeBlamesAgent(o as never))).toBe(true);
    expect(['answered', 'caller_abandoned', 'cancelled', 'lost'].some((o) => outcomeBlamesAgent(o as never))).toBe(false);
  });
});

describe('announcements', () => {
  it('estimates the wait from the callers ahead, handle time and staffing', () => {
    expect(expectedWaitSeconds({ ahead: 0, averageHandleSeconds: 120, staffedAgents: 4 })).toBe(30);
    expect(expectedWaitSeconds({ ahead: 7, averageHandleSeconds: 120, staffedAgents: 4 })).toBe(240);
    expect(expectedWaitSeconds({ ahead: 3, averageHandleSeconds: 0, staffedAgents: 1 })).toBe(720); // default 180 s
    expect(expectedWaitSeconds({ ahead: 3, averageHandleSeconds: 100, staffedAgents: 0 })).toBeNull();
  });
  it('speaks position and minutes in Mandarin with number prompts, in English with number:', () => {
    expect(announcementMedia('zh', 12, 300)).toEqual([
      'sound:hotline/queue-position-before', 'sound:hotline/num-10', 'sound:hotline/num-2', 'sound:hotline/queue-position-after',
      'sound:hotline/queue-wait-before', 'sound:hotline/num-5', 'sound:hotline/queue-wait-after',
    ]);
    expect(announcementMedia('en', 3, 125)).toEqual(['sound:hotline/queue-position-before', 'number:3', 'sound:hotline/queue-position-after', 'sound:hotline/queue-wait-before', 'number:3', 'sound:hotline/queue-wait-after']);
    expect(announcementMedia('zh', 0, 45)).toEqual(['sound:hotline/queue-position-next', 'sound:hotline/queue-wait-short']);
    expect(announcementMedia('zh', 0, null)).toEqual(['sound:hotline/queue-position-next']);
  });
  it('maps survey keys', () => {
    expect(['1', '2', '3', '4', '', '#'].map(surveyResultOf)).toEqual(['satisfied', 'basically_satisfied', 'dissatisfied', null, null, null]);
  });
});

describe('caller treatment', () => {
  const base = { profileFlags: [], harassmentAction: 'warn', earlierCallsInWindow: 0, openTickets: 0, emergencyLinkage: false } as const;
  it('an ordinary caller goes through the menu', () => {
    expect(treatCaller(base)).toEqual({ routingFlags: [], skipMenu: false, harassment: null, repeatCaller: false });
  });
  it('elderly and assisted callers skip the menu with their priority flags', () => {
    expect(treatCaller({ ...base, profileFlags: ['elderly'] })).toMatchObject({ routingFlags: ['elderly'], skipMenu: true });
    expect(treatCaller({ ...base, profileFlags: ['assisted'] })).toMatchObject({ routingFlags: ['assisted'], skipMenu: true });
  });
  it('emergency transfers skip the menu at the top class; repeat callers are flagged', () => {
    expect(treatCaller({ ...base, emergencyLinkage: true, earlierCallsInWindow: 2 })).toMatchObject({ routingFlags: ['emergency_linkage', 'repeat_caller'], skipMenu: true, repeatCaller: true });
    expect(treatCaller({ ...base, earlierCallsInWindow: 1 }).repeatCaller).toBe(false);
  });
  it('harassment carries its policy', () => {
    expect(treatCaller({ ...base, profileFlags: ['harassment'], harassmentAction: 'disconnect' }).harassment).toBe('disconnect');
  });
});

describe('progress query by keypad', () => {
  it('turns 14 digits into a ticket number and back', () => {
    expect(ticketNumberFromDigits('20261202000123')).toBe('GD20261202000123');
    expect(digitsOfTicketNumber('GD20261202000123')).toBe('20261202000123');
    for (const bad of ['', '2026120200012', '202612020001234', '2026120200012#']) expect(ticketNumberFromDigits(bad)).toBeNull();
  });
  it('has a catalogue prompt for every ticket status', () => {
    for (const s of TICKET_STATUSES) expect(REQUIRED_PROMPT_IDS as readonly string[]).toContain(ticketStatusPromptId(s));
  });
});
