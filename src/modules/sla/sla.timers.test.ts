import { describe, expect, it } from 'vitest';
import { IllegalTransitionError } from '../../domain/errors.js';
import { newTicketState, transition, type TicketAction, type TicketState } from '../../domain/tickets/index.js';
import type { SlaTicketsPort } from './sla.ports.js';
import type { FiringRow } from './sla.repository.js';
import { fireTimer, parseTimerPayload, type TimerPayload } from './sla.timers.js';

const ID = '5b0c1c52-8d0a-4c57-9a53-1f6a4a1f0b11';
const T0 = new Date('2025-03-03T01:00:00Z');
const DUE = new Date('2025-03-03T02:00:00Z');
const WARN = new Date('2025-03-03T01:48:00Z');

function accepted(over: Partial<TicketState> = {}): TicketState {
  const r = transition(newTicketState({ id: ID, type: 'help', urgency: 'very_urgent' }), { type: 'accept', dispatchDueAt: DUE }, { actor: { role: 'agent', id: 'a' }, now: T0 });
  return { ...r.state, ...over };
}

function fakePort(initial: TicketState | null): SlaTicketsPort & { applied: string[]; state: TicketState | null } {
  const port = {
    applied: [] as string[],
    state: initial,
    async findState() {
      return port.state;
    },
    async applySystemAction(_id: string, action: TicketAction) {
      port.state = transition(port.state!, action, { actor: { role: 'system', id: 'sla-timer' }, now: new Date() }).state;
      port.applied.push(action.type);
    },
    onTransition() {},
  };
  return port;
}

async function fire(kind: 'warning' | 'overdue', port: SlaTicketsPort, now: Date, payload: TimerPayload = { ticketId: ID, stage: 'dispatch', dueAt: DUE, warnAt: WARN }) {
  const logged: Omit<FiringRow, 'firedAt'>[] = [];
  const rescheduled: number[] = [];
  const outcome = await fireTimer({
    kind, payload, job: { id: '1', attempt: 1 }, tickets: port, now, instance: 'test',
    log: async (f) => void logged.push(f),
    reschedule: async (ms) => void rescheduled.push(ms),
  });
  return { outcome, logged, rescheduled };
}

describe('SLA timer firing', () => {
  it('reads its payload strictly', () => {
    expect(parseTimerPayload({ ticketId: ID, stage: 'dispatch', dueAt: DUE.toISOString(), warnAt: WARN.toISOString() })).toEqual({ ticketId: ID, stage: 'dispatch', dueAt: DUE, warnAt: WARN });
    expect(parseTimerPayload({ ticketId: 'x', stage: 'dispatch', dueAt: DUE.toISOString(), warnAt: WARN.toISOString() })).toBeNull();
    expect(parseTimerPayload({ ticketId: ID, stage: 'lunch', dueAt: DUE.toISOString(), warnAt: WARN.toISOString() })).toBeNull();
    expect(parseTimerPayload({ ticketId: ID, stage: 'dispatch', dueAt: 'soon', warnAt: WARN.toISOString() })).toBeNull();
    expect(parseTimerPayload(null)).toBeNull();
  });

  it('warns (预警) once the warning instant has come', async () => {
    const port = fakePort(accepted());
    const r = await fire('warning', port, WARN);
    expect(r.outcome).toBe('applied');
    expect(port.applied).toEqual(['sla_warning']);
    expect(r.logged[0]).toMatchObject({ kind: 'warning', outcome: 'applied', actions: ['sla_warning'], stage: 'dispatch' });
  });

  it('marks overdue and escalates to supervision (督办) after the deadline', async () => {
    const port = fakePort(accepted());
    const r = await fire('overdue', port, new Date(DUE.getTime() + 1));
    expect(port.applied).toEqual(['mark_overdue', 'supervise']);
    expect(port.state).toMatchObject({ overdue: true, supervised: true });
    expect(r.logged[0]).toMatchObject({ outcome: 'applied', actions: ['mark_overdue', 'supervise'] });
  });

  it('does not supervise a ticket a supervisor already supervises, and a retry applies nothing twice', async () => {
    const port = fakePort(accepted({ supervised: true }));
    await fire('overdue', port, new Date(DUE.getTime() + 1));
    expect(port.applied).toEqual(['mark_overdue']);
    const again = await fire('overdue', port, new Date(DUE.getTime() + 1));
    expect(again.outcome).toBe('not_applicable');
    expect(port.applied).toEqual(['mark_overdue']);
  });

  it('puts itself back when it fires before its moment (database clock ahead)', async () => {
    const port = fakePort(accepted());
    const r = await fire('overdue', port, new Date(DUE.getTime() - 5000));
    expect(r.outcome).toBe('early');
    expect(r.rescheduled).toEqual([5001]);
    expect(port.applied).toEqual([]);
  });

  it('a ticket closed between reading and acting: the refusal is not an error, the timer is stale', async () => {
    const port = fakePort(accepted());
    port.applySystemAction = async () => {
      port.state = { ...port.state!, status: 'closed' }; // a supervisor closed it meanwhile
      throw new IllegalTransitionError('ticket', 'closed', 'mark_overdue', []);
    };
    const r = await fire('overdue', port, new Date(DUE.getTime() + 1));
    expect(r.outcome).toBe('stale');
    expect(r.logged[0]).toMatchObject({ outcome: 'stale', actions: [] });
  });

  it('does nothing when the deadline no longer runs: ticket gone, closed, or given a new deadline', async () => {
    expect((await fire('warning', fakePort(null), WARN)).outcome).toBe('stale');
    const closed = fakePort(accepted({ status: 'closed' }));
    expect((await fire('overdue', closed, new Date(DUE.getTime() + 1))).outcome).toBe('stale');
    const moved = fakePort(accepted({ dispatchDueAt: new Date(DUE.getTime() + 3_600_000) }));
    expect((await fire('overdue', moved, new Date(DUE.getTime() + 1))).outcome).toBe('stale');
    expect(closed.applied).toEqual([]);
    expect(moved.applied).toEqual([]);
  });
});
