import { describe, expect, it } from 'vitest';
import { ConflictError, IllegalTransitionError, ValidationError } from '../errors.js';
import {
  AGENT_STATES, NOT_READY_REASONS, STATE_ACTORS, allowedMoves, applyStateChange, canChange, initialAgentState, isNoop,
  type AgentState, type AgentStateSnapshot, type NotReadyReason, type StateActor,
} from './states.js';

const T0 = new Date('2026-03-02T01:00:00Z');
const T1 = new Date('2026-03-02T01:05:00Z');

function snapshot(state: AgentState, patch: Partial<AgentStateSnapshot> = {}): AgentStateSnapshot {
  return {
    state,
    reason: state === 'not_ready' ? 'break' : null,
    since: T0,
    version: 7,
    extension: state === 'offline' ? null : '1001',
    idleSince: state === 'ready' || state === 'ringing' ? new Date('2026-03-02T00:30:00Z') : null,
    lastCallEndedAt: null,
    callId: ['ringing', 'on_call', 'wrap_up'].includes(state) ? 'call-1' : null,
    wrapUpUntil: state === 'wrap_up' ? T1 : null,
    ...patch,
  };
}

// The design, written out by hand: every move each actor has from each state (without force).
const PERSONAL = ['not_ready:break', 'not_ready:meal', 'not_ready:training', 'not_ready:meeting'];
const EXPECTED: Record<AgentState, Record<StateActor, string[]>> = {
  offline: { agent: ['ready', ...PERSONAL], supervisor: [], system: [] },
  ready: { agent: [...PERSONAL, 'offline'], supervisor: [...PERSONAL, 'offline'], system: ['ringing', 'offline'] },
  not_ready: { agent: [...PERSONAL, 'ready', 'offline'], supervisor: [...PERSONAL, 'ready', 'offline'], system: ['offline'] },
  ringing: { agent: [], supervisor: [], system: ['on_call', 'not_ready:no_answer', 'ready'] },
  on_call: { agent: [], supervisor: [], system: ['wrap_up'] },
  wrap_up: {
    agent: ['ready', ...PERSONAL, 'not_ready:after_call', 'offline'],
    supervisor: ['ready', ...PERSONAL, 'offline'],
    system: ['ready', 'not_ready:after_call', 'offline'],
  },
};
// With force, a supervisor or the system may also log out an agent who is ringing or on a call.
const FORCED_EXTRA: Record<AgentState, Record<StateActor, string[]>> = {
  offline: { agent: [], supervisor: [], system: [] },
  ready: { agent: [], supervisor: [], system: [] },
  not_ready: { agent: [], supervisor: [], system: [] },
  ringing: { agent: [], supervisor: ['offline'], system: ['offline'] },
  on_call: { agent: [], supervisor: ['offline'], system: ['offline'] },
  wrap_up: { agent: [], supervisor: [], system: [] },
};

const TARGETS = AGENT_STATES.flatMap((to): { to: AgentState; reason: NotReadyReason | null }[] =>
  to === 'not_ready' ? NOT_READY_REASONS.map((reason) => ({ to, reason })) : [{ to, reason: null }]);
const name = (to: AgentState, reason: NotReadyReason | null) => (reason ? `${to}:${reason}` : to);

describe('allowed moves', () => {
  it.each(AGENT_STATES.flatMap((s) => STATE_ACTORS.map((a) => [s, a] as const)))('from %s by %s match the design', (state, actor) => {
    expect(new Set(allowedMoves(state, actor))).toEqual(new Set(EXPECTED[state][actor]));
    const forced = actor === 'agent' ? EXPECTED[state][actor] : [...EXPECTED[state][actor], ...FORCED_EXTRA[state][actor]];
    expect(new Set(allowedMoves(state, actor, true))).toEqual(new Set(forced));
  });
});

describe('every state × target × reason × actor', () => {
  const cases = AGENT_STATES.flatMap((from) => TARGETS.flatMap(({ to, reason }) => STATE_ACTORS.flatMap((actor) => [false, true].map((force) => ({ from, to, reason, actor, force })))));

  it.each(cases)('$from → $to ($reason) by $actor, force=$force', ({ from, to, reason, actor, force }) => {
    const current = snapshot(from);
    const req = { to, actor, force, ...(reason ? { reason } : {}), extension: '1002', callId: 'call-2' };
    const legal = (actor === 'agent' ? EXPECTED[from][actor] : [...EXPECTED[from][actor], ...(force ? FORCED_EXTRA[from][actor] : [])]).includes(name(to, reason));
    expect(canChange(from, to, reason, actor, force && actor !== 'agent')).toBe(legal);
    if (force && actor === 'agent') {
      expect(() => applyStateChange(current, req, T1)).toThrow(ValidationError);
      return;
    }
    if (legal) {
      const { next, log } = applyStateChange(current, req, T1);
      expect(next).toMatchObject({ state: to, reason, since: T1, version: 8 });
      expect(log).toMatchObject({ fromState: from, fromReason: current.reason, state: to, reason, at: T1, previousDurationMs: 300_000, actor });
      return;
    }
    let error: unknown;
    try {
      applyStateChange(current, req, T1);
    } catch (err) {
      error = err;
    }
    const supervisedLogout = to === 'offline' && !force && FORCED_EXTRA[from][actor].includes('offline');
    if (supervisedLogout) {
      expect(error).toBeInstanceOf(ConflictError);
      expect(error).toMatchObject({ code: 'agent_on_call' });
    } else {
      expect(error).toBeInstanceOf(IllegalTransitionError);
      expect((error as IllegalTransitionError).details).toMatchObject({ from, action: name(to, reason), allowed: allowedMoves(from, actor, force) });
    }
  });
});

describe('request checks', () => {
  it('asks for a reason for not_ready and refuses one elsewhere', () => {
    expect(() => applyStateChange(snapshot('ready'), { to: 'not_ready', actor: 'agent' }, T1)).toThrow(expect.objectContaining({ code: 'not_ready_reason_required' }));
    expect(() => applyStateChange(snapshot('not_ready'), { to: 'ready', reason: 'break', actor: 'agent' }, T1)).toThrow(expect.objectContaining({ code: 'reason_not_applicable' }));
  });

  it('refuses unknown states, reasons and actors with their own codes', () => {
    expect(() => applyStateChange(snapshot('ready'), { to: 'away' as AgentState, actor: 'agent' }, T1)).toThrow(expect.objectContaining({ code: 'unknown_agent_state' }));
    expect(() => applyStateChange(snapshot('ready'), { to: 'not_ready', reason: 'nap' as NotReadyReason, actor: 'agent' }, T1)).toThrow(expect.objectContaining({ code: 'unknown_not_ready_reason' }));
    expect(() => applyStateChange(snapshot('ready'), { to: 'offline', actor: 'robot' as StateActor }, T1)).toThrow(expect.objectContaining({ code: 'unknown_state_actor' }));
    expect(() => applyStateChange(snapshot('ready'), { to: 'offline', actor: 'agent' }, new Date(Number.NaN))).toThrow(expect.objectContaining({ code: 'invalid_date' }));
  });

  it('needs an extension to log in and a call id to offer', () => {
    expect(() => applyStateChange(snapshot('offline'), { to: 'ready', actor: 'agent' }, T1)).toThrow(expect.objectContaining({ code: 'extension_required' }));
    expect(() => applyStateChange(snapshot('ready'), { to: 'ringing', actor: 'system' }, T1)).toThrow(expect.objectContaining({ code: 'call_id_required' }));
  });
});

describe('what a change records', () => {
  it('login takes the extension; logout clears it', () => {
    const login = applyStateChange(initialAgentState(T0), { to: 'ready', actor: 'agent', extension: '1007' }, T1);
    expect(login.next).toMatchObject({ state: 'ready', extension: '1007', idleSince: T1, version: 2 });
    const logout = applyStateChange(login.next, { to: 'offline', actor: 'agent' }, new Date(T1.getTime() + 1000));
    expect(logout.next).toMatchObject({ extension: null, idleSince: null });
    expect(logout.log).toMatchObject({ extension: '1007', previousDurationMs: 1000 });
  });

  it('keeps the idle rank through a withdrawn offer, resets it after a call', () => {
    const idle = new Date('2026-03-02T00:10:00Z');
    const offered = applyStateChange(snapshot('ready', { idleSince: idle }), { to: 'ringing', actor: 'system', callId: 'c9' }, T1);
    expect(offered.next).toMatchObject({ callId: 'c9', idleSince: idle });
    const withdrawn = applyStateChange(offered.next, { to: 'ready', actor: 'system' }, T1);
    expect(withdrawn.next).toMatchObject({ idleSince: idle, callId: null });
    expect(withdrawn.log.callId).toBe('c9');

    const answered = applyStateChange(offered.next, { to: 'on_call', actor: 'system' }, T1);
    expect(answered.next).toMatchObject({ callId: 'c9', idleSince: null });
    const ended = applyStateChange(answered.next, { to: 'wrap_up', actor: 'system', wrapUpSeconds: 30 }, new Date(T1.getTime() + 60_000));
    expect(ended.next).toMatchObject({ callId: 'c9', lastCallEndedAt: new Date(T1.getTime() + 60_000), wrapUpUntil: new Date(T1.getTime() + 90_000) });
    const ready = applyStateChange(ended.next, { to: 'ready', actor: 'system' }, new Date(T1.getTime() + 90_000));
    expect(ready.next).toMatchObject({ idleSince: new Date(T1.getTime() + 90_000), callId: null, wrapUpUntil: null });
  });

  it('wrap-up without seconds lasts until the agent ends it; bad seconds are refused', () => {
    expect(applyStateChange(snapshot('on_call'), { to: 'wrap_up', actor: 'system' }, T1).next.wrapUpUntil).toBeNull();
    expect(applyStateChange(snapshot('on_call'), { to: 'wrap_up', actor: 'system', wrapUpSeconds: 0 }, T1).next.wrapUpUntil).toBeNull();
    expect(() => applyStateChange(snapshot('on_call'), { to: 'wrap_up', actor: 'system', wrapUpSeconds: -1 }, T1)).toThrow(expect.objectContaining({ code: 'invalid_wrap_up_seconds' }));
  });

  it('no answer puts the agent not ready and releases the call', () => {
    const r = applyStateChange(snapshot('ringing'), { to: 'not_ready', reason: 'no_answer', actor: 'system' }, T1);
    expect(r.next).toMatchObject({ state: 'not_ready', reason: 'no_answer', callId: null, idleSince: null });
  });

  it('a forced logout on a call records the end of the call', () => {
    const r = applyStateChange(snapshot('on_call'), { to: 'offline', actor: 'supervisor', force: true }, T1);
    expect(r.next).toMatchObject({ state: 'offline', lastCallEndedAt: T1, extension: null, callId: null });
  });

  it('never reports a negative duration when clocks disagree', () => {
    const r = applyStateChange(snapshot('ready', { since: T1 }), { to: 'offline', actor: 'agent' }, T0);
    expect(r.log.previousDurationMs).toBe(0);
  });

  it('recognises a repeated request', () => {
    expect(isNoop(snapshot('not_ready'), 'not_ready', 'break', 'agent')).toBe(true);
    expect(isNoop(snapshot('not_ready'), 'not_ready', 'meal', 'agent')).toBe(false);
    expect(isNoop(snapshot('ready'), 'ready', null, 'supervisor')).toBe(true);
    expect(isNoop(snapshot('on_call'), 'on_call', null, 'system')).toBe(true);
    // Only moves the actor may make at all: an agent never asks for ringing.
    expect(isNoop(snapshot('ringing'), 'ringing', null, 'agent')).toBe(false);
    expect(isNoop(snapshot('offline'), 'offline', null, 'agent')).toBe(true);
  });
});
