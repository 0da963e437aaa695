/** What the SLA timers need from the tickets module, as a port (the module adapts the real service). */
import type { Tx } from '../../adapters/db/database.js';
import type { Actor, TicketAction, TicketState } from '../../domain/tickets/index.js';

/** The actor timers act as in the state machine (its permission table knows `system`). */
export const SLA_SYSTEM_ACTOR: Actor = { role: 'system', id: 'sla-timer' };

export interface SlaTicketsPort {
  /** The ticket's lifecycle state, or null when there is no such ticket. */
  findState(id: string): Promise<TicketState | null>;
  /** Applies a state-machine action as the system actor, in its own transaction. */
  applySystemAction(id: string, action: TicketAction, reason: string): Promise<void>;
  /** Calls `hook` inside every transition's transaction with the stored new state (and the one before). */
  onTransition(hook: (tx: Tx, after: TicketState, at: Date, before: TicketState) => Promise<void>): void;
}
