/** Events the ticket state machine asks the service to publish (through the outbox). */

export const TICKET_EVENT_NAMES = [
  'ticket.accepted',
  'ticket.not_accepted',
  'ticket.dispatched',
  'ticket.withdrawn',
  'ticket.signed',
  'ticket.returned',
  'ticket.dispatch_upheld',
  'ticket.co_opinion_submitted',
  'ticket.replied',
  'ticket.reply_rejected',
  'ticket.closed',
  'ticket.revisited',
  'ticket.evaluated',
  'ticket.reopened',
  'ticket.supervised',
  'ticket.supervision_lifted',
  'ticket.reminded',
  'ticket.extension_requested',
  'ticket.extension_approved',
  'ticket.extension_rejected',
  'ticket.merged',
  'ticket.duplicate_linked',
  'ticket.cancelled',
  'ticket.sla_warning',
  'ticket.overdue',
] as const;
export type TicketEventName = (typeof TICKET_EVENT_NAMES)[number];

export interface TicketEvent {
  readonly name: TicketEventName;
  readonly ticketId: string;
  /** Departments that must hear about it on `hotline.dept.<id>.<name>`. */
  readonly departmentIds: readonly string[];
  readonly data: Readonly<Record<string, unknown>>;
}

// A department id becomes one NATS subject token: no separators, wildcards or whitespace.
const SUBJECT_TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

export function isValidDepartmentId(id: string): boolean {
  return SUBJECT_TOKEN.test(id);
}

/** NATS subjects for an event: the hotline-wide one, then one per notified department. */
export function eventSubjects(event: TicketEvent, prefix = 'hotline'): string[] {
  return [`${prefix}.${event.name}`, ...event.departmentIds.map((id) => `${prefix}.dept.${id}.${event.name}`)];
}
