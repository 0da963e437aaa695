/**
 * What a reader sees of a ticket. Department handlers never see who asked for a confidential
 * (保密) ticket: not the caller, not the channel's identifiers (e-mail, openId, message ids), not
 * the call, not attachment file names, and no phone, e-mail or ID number in its texts.
 * Integrators and lists see masked numbers; hotline staff see the full number on the (audited)
 * detail read.
 */
import type { Principal } from '../../domain/auth.js';
import { maskPhone } from '../../domain/phone.js';
import { redactIdentity } from '../../domain/text/index.js';
import {
  INTAKE_CHANNEL_LABELS, NOT_ACCEPTED_REASON_INFO, REQUEST_TYPE_LABELS, SCOPE_DOMAIN_LABELS, TICKET_STATUS_LABELS, URGENCY_LABELS,
  isNotAcceptedReason, type IntakeChannel, type PendingExtension, type RequestType, type ScopeDomain, type TicketState, type TicketStatus, type Urgency,
  type Evaluation, type NotAcceptedReason,
} from '../../domain/tickets/index.js';
import type { AttachmentKind } from './attachment-types.js';
import type { AttachmentRow } from './attachments.repository.js';
import type { TicketRow } from './tickets.repository.js';

export interface CallerView {
  readonly hidden: boolean;
  readonly phone: string | null;
  readonly name: string | null;
  readonly address: string | null;
}

export interface AttachmentRef { readonly id: string; readonly kind: AttachmentKind; readonly mime: string; readonly sizeBytes: number; readonly fileName: string | null }

export interface TicketView {
  id: string; number: string; channel: IntakeChannel; channelLabel: string; channelMeta: Record<string, unknown>; callId: string | null;
  type: RequestType; typeLabel: string; scopeDomain: ScopeDomain | null; scopeDomainLabel: string | null; categoryId: string | null;
  urgency: Urgency; urgencyLabel: string; title: string; content: string; address: string | null; areaCode: string | null;
  status: TicketStatus; statusLabel: string; mainDepartmentId: string | null; coDepartmentIds: string[];
  supervised: boolean; warned: boolean; overdue: boolean; confidential: boolean;
  extension: { requestedDueAt: string; reason: string; departmentId: string; requestedAt: string } | null;
  counters: { extensions: number; reminders: number; reopens: number; returns: number; revisitAttempts: number };
  evaluation: Evaluation | null;
  notAccepted: { reason: NotAcceptedReason; label: string; reply: string } | null;
  mergedInto: string | null; mergedTicketIds: string[];
  deadlines: { dispatchDueAt: string | null; dispatchWarnAt: string | null; responseDueAt: string | null; responseWarnAt: string | null; dueAt: string | null; dueWarnAt: string | null };
  caller: CallerView;
  attachments?: AttachmentRef[];
  version: number; createdAt: string; updatedAt: string; closedAt: string | null;
}

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

export function rowToState(r: TicketRow): TicketState {
  const ext = r.extension as { requestedDueAt: string; reason: string; departmentId: string; requestedAt: string } | null;
  const extension: PendingExtension | null = ext
    ? { requestedDueAt: new Date(ext.requestedDueAt), reason: ext.reason, departmentId: ext.departmentId, requestedAt: new Date(ext.requestedAt) }
    : null;
  return {
    id: r.id, status: r.status as TicketStatus, type: r.type as RequestType, urgency: r.urgency as Urgency,
    mainDepartmentId: r.mainDepartmentId, coDepartmentIds: r.coDepartmentIds, coOpinionDepartmentIds: r.coOpinionDepartmentIds,
    dispatchDueAt: r.dispatchDueAt, responseDueAt: r.responseDueAt, dueAt: r.dueAt, supervised: r.supervised, warned: r.warned, overdue: r.overdue, extension,
    extensionCount: r.extensionCount, reminderCount: r.reminderCount, reopenCount: r.reopenCount, returnCount: r.returnCount,
    revisitAttempts: r.revisitAttempts, evaluation: r.evaluation as Evaluation | null,
    notAcceptedReason: r.notAcceptedReason as NotAcceptedReason | null, mergedInto: r.mergedInto, mergedTicketIds: r.mergedTicketIds, version: r.version,
  };
}

export interface CallerRecord { phone: string; name: string | null; address: string | null }

/** `full`: the detail read (audited); `list`: masked number only; department handlers lose confidential callers entirely. */
export function callerView(reader: Principal, confidential: boolean, caller: CallerRecord | null, mode: 'full' | 'list'): CallerView {
  if (caller === null) return { hidden: false, phone: null, name: null, address: null };
  if (reader.role === 'dept_handler' && confidential) return { hidden: true, phone: null, name: null, address: null };
  if (reader.role === 'integrator') return { hidden: false, phone: maskPhone(caller.phone), name: null, address: null };
  if (mode === 'list') return { hidden: false, phone: maskPhone(caller.phone), name: null, address: null };
  return { hidden: false, phone: caller.phone, name: caller.name, address: caller.address };
}

/** Whether this reader must not learn who asked: a department handler reading a confidential ticket. */
export function hidesIdentity(reader: { readonly role: string }, confidential: boolean): boolean {
  return confidential && reader.role === 'dept_handler';
}

/** `names`: the callers' names, masked in the texts when the reader must not learn who asked. */
export function ticketView(r: TicketRow, caller: CallerView, reader: { readonly role: string }, names: readonly (string | null)[] = []): TicketView {
  const ext = r.extension as TicketView['extension'];
  const reason = r.notAcceptedReason;
  const hide = caller.hidden || hidesIdentity(reader, r.confidential);
  // A hidden caller's number must not leak through the text the agent typed either.
  const text = (s: string): string => (hide ? redactIdentity(s, names) : s);
  return {
    id: r.id, number: r.number, channel: r.channel as IntakeChannel, channelLabel: INTAKE_CHANNEL_LABELS[r.channel as IntakeChannel],
    // The channel's identifiers (e-mail, openId, message ids) and the call (its recording has the voice and number) name the caller.
    channelMeta: hide ? {} : (r.channelMeta ?? {}) as Record<string, unknown>, callId: hide ? null : r.callId,
    type: r.type as RequestType, typeLabel: REQUEST_TYPE_LABELS[r.type as RequestType],
    scopeDomain: r.scopeDomain as ScopeDomain | null, scopeDomainLabel: r.scopeDomain ? SCOPE_DOMAIN_LABELS[r.scopeDomain as ScopeDomain] : null,
    categoryId: r.categoryId, urgency: r.urgency as Urgency, urgencyLabel: URGENCY_LABELS[r.urgency as Urgency],
    title: text(r.title), content: text(r.content), address: r.address === null ? null : text(r.address), areaCode: r.areaCode,
    status: r.status as TicketStatus, statusLabel: TICKET_STATUS_LABELS[r.status as TicketStatus],
    mainDepartmentId: r.mainDepartmentId, coDepartmentIds: r.coDepartmentIds,
    supervised: r.supervised, warned: r.warned, overdue: r.overdue, confidential: r.confidential,
    extension: ext ? { requestedDueAt: ext.requestedDueAt, reason: ext.reason, departmentId: ext.departmentId, requestedAt: ext.requestedAt } : null,
    counters: { extensions: r.extensionCount, reminders: r.reminderCount, reopens: r.reopenCount, returns: r.returnCount, revisitAttempts: r.revisitAttempts },
    evaluation: r.evaluation as Evaluation | null,
    notAccepted: reason && isNotAcceptedReason(reason)
      ? { reason, label: NOT_ACCEPTED_REASON_INFO[reason].label, reply: r.notAcceptedReply ?? NOT_ACCEPTED_REASON_INFO[reason].reply }
      : null,
    mergedInto: r.mergedInto, mergedTicketIds: r.mergedTicketIds,
    deadlines: {
      dispatchDueAt: iso(r.dispatchDueAt), dispatchWarnAt: iso(r.dispatchWarnAt), responseDueAt: iso(r.responseDueAt),
      responseWarnAt: iso(r.responseWarnAt), dueAt: iso(r.dueAt), dueWarnAt: iso(r.dueWarnAt),
    },
    caller,
    version: r.version, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString(), closedAt: iso(r.closedAt),
  };
}

/** An attachment as a ticket lists it; a reader who must not learn who asked gets no file name (张三身份证.jpg). */
export function attachmentRef(a: AttachmentRow, hideName = false): AttachmentRef {
  return { id: a.id, kind: a.kind as AttachmentKind, mime: a.mime, sizeBytes: Number(a.sizeBytes), fileName: hideName ? null : a.fileName };
}
