import { describe, expect, it } from 'vitest';
import { announcementMedia, expectedWaitSeconds, surveyResultOf } from './announcements.js';
import { treatCaller } from './caller.js';
import { offerOutcomeFromCause, outcomeBlamesAgent } from './offers.js';
import { digitsOfTicketNumber, ticketNumberFromDigits, ticketStatusPromptId } from './progress.js';
import { abandonDisposition, assertCallMove, CALL_STATES, canMoveCall, nextCallStates } from './states.js';
import { IllegalTransitionError } from '../errors.js';
import { TICKET_STATUSES } from '../tickets/model.js';
import { REQUIRED_PROMPT_IDS } from '../ivr/prompts.js';
import { allowedCommands, assertCommand, type ControlView } from './control.js';
import { checkDialable } from './dialing.js';

describe('call state machine', () => {
  const legal: Record<string, string[]> = {
    arrived: ['ivr', 'queued', 'ended'],
    ivr: ['queued', 'ended'],
    queued: ['offering', 'queued', 'voicemail', 'ended'],
    offering: ['connected', 'queued', 'ended'],
    connected: ['survey', 'queued', 'transferring', 'ended'],
    transferring: ['transferred', 'queued', 'ended'],
    transferred: ['ended'],
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
    expect(abandonDisposition('transferring', false)).toBe('answered');
    expect(abandonDisposition('transferred', false)).toBe('answered');
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

describe('outbound allow-list (mirrors [hotline-outbound])', () => {
  it.each([
    ['110', '110'], ['119', '119'], ['12315', '12315'], ['95598', '95598'], ['96119', '96119'], ['961234', '961234'], ['10086', '10086'],
    ['13800138000', '13800138000'], ['+8613800138000', '13800138000'], ['16712345678', '16712345678'],
    ['86688123', '86688123'], ['075586688123', '075586688123'], ['+8675586688123', '075586688123'], ['01088886666', '01088886666'], ['138 0013 8000', '13800138000'],
  ])('allows %s', (input, dialled) => {
    expect(checkDialable(input)).toBe(dialled);
  });
  it.each([
    ['12345', 'destination_barred'], ['0085212345678', 'destination_barred'], ['+85212345678', 'destination_barred'], ['+14155550123', 'destination_barred'],
    ['16012345678', 'destination_barred'], ['16812345678', 'destination_barred'], ['911', 'destination_barred'], ['1234', 'destination_barred'],
    ['12', 'invalid_dial_number'], ['13800138000#', 'invalid_dial_number'], ['abc', 'invalid_dial_number'],
  ])('refuses %s (%s)', (input, code) => {
    expect(() => checkDialable(input)).toThrow(expect.objectContaining({ code }));
  });
});

describe('desktop call control', () => {
  const v = (o: Partial<ControlView>): ControlView => ({ call: 'connected', held: false, consult: 'none', awaitingAnswer: false, ...o });
  it('lists what can be done in each situation', () => {
    expect(allowedCommands(v({}))).toEqual(['hold', 'transfer', 'consult', 'hangup']);
    expect(allowedCommands(v({ held: true }))).toEqual(['unhold', 'transfer', 'consult', 'hangup']);
    expect(allowedCommands(v({ consult: 'dialing', held: true }))).toEqual(['cancel_consult', 'hangup']);
    expect(allowedCommands(v({ consult: 'talking', held: true }))).toEqual(['conference', 'cancel_consult', 'hangup']);
    expect(allowedCommands(v({ consult: 'conference' }))).toEqual(['cancel_consult', 'hangup']);
    expect(allowedCommands(v({ call: 'offering', awaitingAnswer: true }))).toEqual(['answer', 'hangup']);
    expect(allowedCommands(v({ call: 'offering' }))).toEqual([]);
    for (const call of ['arrived', 'ivr', 'queued', 'survey', 'voicemail', 'ended'] as const) expect(allowedCommands(v({ call }))).toEqual([]);
  });
  it('refuses with the reason and the allowed commands', () => {
    expect(() => assertCommand(v({}), 'unhold')).toThrow(expect.objectContaining({ code: 'call_command_refused', details: expect.objectContaining({ allowed: ['hold', 'transfer', 'consult', 'hangup'] }) }));
    expect(() => assertCommand(v({ call: 'survey' }), 'hold')).toThrow(/the call is survey/);
    expect(() => assertCommand(v({}), 'explode')).toThrow(expect.objectContaining({ code: 'unknown_call_command' }));
    expect(assertCommand(v({ held: true }), 'unhold')).toBe('unhold');
  });
});
