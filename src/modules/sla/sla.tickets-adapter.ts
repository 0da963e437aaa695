/**
 * Adapts the tickets module's exported `TicketsService` to the SLA port: lifecycle state through
 * findForSystem, actions as the system principal, and the in-transaction transition hook.
 * Checked at start-up, so a mismatch fails loudly instead of silently losing timers.
 */
import { SYSTEM_PRINCIPAL, type SystemPrincipal, type TicketsService } from '../tickets/tickets.service.js';
import type { SlaTicketsPort } from './sla.ports.js';

type TicketsContract = Pick<TicketsService, 'findForSystem' | 'applyAction' | 'onTransition'>;

/** The audit names which automation acted. */
export const SLA_TIMER_PRINCIPAL: SystemPrincipal = Object.freeze({ ...SYSTEM_PRINCIPAL, id: 'sla-timer', name: 'SLA timer' });

function isContract(value: unknown): value is TicketsContract {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v['findForSystem'] === 'function' && typeof v['applyAction'] === 'function' && typeof v['onTransition'] === 'function';
}

/** undefined when no tickets module is loaded; throws when it is there but does not fit. */
export function ticketsPortOf(exported: unknown): SlaTicketsPort | undefined {
  if (exported === undefined) return undefined;
  if (!isContract(exported)) throw new Error('the tickets module exports no service with findForSystem, applyAction and onTransition: SLA timers cannot follow tickets');
  return {
    async findState(id) {
      return (await exported.findForSystem(id))?.state ?? null;
    },
    async applySystemAction(id, action, reason) {
      await exported.applyAction(id, action, SLA_TIMER_PRINCIPAL, { reason });
    },
    onTransition(hook) {
      exported.onTransition((tx, before, after, record) => hook(tx, after, record.at, before));
    },
  };
}
