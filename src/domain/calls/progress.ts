/**
 * The IVR progress query (DESIGN.md step 2): the caller keys the digits of a ticket number
 * (GD + 8-digit date + 6-digit sequence) and hears its status as recorded prompts. Pure.
 */
import type { TicketStatus } from '../tickets/model.js';

export const TICKET_NUMBER_PREFIX = 'GD';
export const TICKET_NUMBER_DIGITS = 14;

/** The ticket number for what the caller keyed, or null when it cannot be one. */
export function ticketNumberFromDigits(digits: string): string | null {
  return new RegExp(`^[0-9]{${TICKET_NUMBER_DIGITS}}$`).test(digits) ? `${TICKET_NUMBER_PREFIX}${digits}` : null;
}

/** The digits read back to the caller. */
export function digitsOfTicketNumber(number: string): string {
  return number.startsWith(TICKET_NUMBER_PREFIX) ? number.slice(TICKET_NUMBER_PREFIX.length) : number;
}

const STATUS_PROMPTS: Readonly<Record<TicketStatus, string>> = {
  draft: 'ticket-status-accepted',
  accepted: 'ticket-status-accepted',
  dispatched: 'ticket-status-dispatched',
  returned: 'ticket-status-reassigning',
  in_progress: 'ticket-status-in-progress',
  replied: 'ticket-status-replied',
  closed: 'ticket-status-closed',
  revisited: 'ticket-status-closed',
  evaluated: 'ticket-status-closed',
  not_accepted: 'ticket-status-not-accepted',
  merged: 'ticket-status-merged',
  cancelled: 'ticket-status-cancelled',
};

export function ticketStatusPromptId(status: TicketStatus): string {
  return STATUS_PROMPTS[status];
}
