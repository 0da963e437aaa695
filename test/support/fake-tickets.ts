/**
 * A small stand-in for the tickets module, behind the SLA module's `SlaTicketsPort`: ticket
 * states in memory (shared by every app instance of a test, like the tickets table would be),
 * transitions through the real domain state machine, hooks run inside a real PostgreSQL
 * transaction of the acting instance, one transition per ticket at a time (like a row lock).
 */
import type { Database, Tx } from '../../src/adapters/db/database.js';
import type { Clock } from '../../src/domain/clock.js';
import { newTicketState, transition, type Actor, type RequestType, type TicketAction, type TicketState, type TransitionRecord, type Urgency } from '../../src/domain/tickets/index.js';
import { SLA_SYSTEM_ACTOR, type SlaTicketsPort } from '../../src/modules/sla/sla.ports.js';

type Hook = (tx: Tx, after: TicketState, at: Date, before: TicketState) => Promise<void>;

export interface FakeTicketsPort extends SlaTicketsPort {
  act(id: string, action: TicketAction, actor: Actor): Promise<TicketState>;
}

export class FakeTicketStore {
  readonly states = new Map<string, TicketState>();
  readonly transitions: TransitionRecord[] = [];
  private readonly locks = new Map<string, Promise<unknown>>();

  create(id: string, type: RequestType, urgency: Urgency): TicketState {
    const state = newTicketState({ id, type, urgency });
    this.states.set(id, state);
    return state;
  }

  count(action: string, ticketId?: string): number {
    return this.transitions.filter((t) => t.action === action && (ticketId === undefined || t.ticketId === ticketId)).length;
  }

  /** The port one app instance sees: its own database pool and hooks, the shared tickets. */
  portFor(db: Database, clock: Clock): FakeTicketsPort {
    const hooks: Hook[] = [];
    const act = async (id: string, action: TicketAction, actor: Actor): Promise<TicketState> => this.serial(id, () =>
      db.transaction().execute(async (tx) => {
        const before = this.states.get(id);
        if (!before) throw new Error(`no ticket ${id}`);
        const r = transition(before, action, { actor, now: clock.now() });
        for (const hook of hooks) await hook(tx, r.state, r.record.at, before);
        this.states.set(id, r.state);
        this.transitions.push(r.record);
        return r.state;
      }));
    const states = this.states;
    return {
      act,
      async findState(id) {
        return states.get(id) ?? null;
      },
      async applySystemAction(id, action) {
        await act(id, action, SLA_SYSTEM_ACTOR);
      },
      onTransition(hook) {
        hooks.push(hook);
      },
    };
  }

  private async serial<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(id) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(fn);
    this.locks.set(id, run);
    return run;
  }
}
