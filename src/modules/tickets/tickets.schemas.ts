import { Type, type TSchema } from 'typebox';
import { Uuid } from '../../http/schemas.js';
import {
  CALL_ID_PATTERN, EMERGENCY_SERVICES, EVALUATIONS, INTAKE_CHANNELS, NOT_ACCEPTED_REASONS, REQUEST_TYPES, REVISIT_CHANNELS, SCOPE_DOMAINS, TICKET_ACTIONS,
  TICKET_STATUSES, URGENCY_LEVELS,
} from '../../domain/tickets/index.js';
import { ATTACHMENT_KINDS } from './attachment-types.js';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const DateTime = Type.String({ format: 'date-time' });
const Text = (max: number) => Type.String({ minLength: 1, maxLength: max });
const AreaCode = Type.String({ pattern: '^[0-9]{2,12}$', description: 'Administrative division code, 2–12 digits' });
const AnyObject = Type.Record(Type.String(), Type.Unknown());

export const ChannelSchema = Type.Enum(INTAKE_CHANNELS, { description: '电话 / 短信 / 信箱 / 网站 / 移动端 / 小程序 / 公众号 (GB/T 44189 6.2.1)' });
export const RequestTypeSchema = Type.Enum(REQUEST_TYPES, { description: '咨询 / 求助 / 投诉 / 举报 / 意见建议 / 在线办理指导 / 表扬' });
export const ScopeDomainSchema = Type.Enum(SCOPE_DOMAINS, { description: '经济调节 / 市场监管 / 社会管理 / 公共服务 / 生态环境保护' });
export const UrgencySchema = Type.Enum(URGENCY_LEVELS, { description: '一般 / 紧急 / 特急' });
export const StatusSchema = Type.Enum(TICKET_STATUSES);
export const NotAcceptedReasonSchema = Type.Enum(NOT_ACCEPTED_REASONS);

const ChannelMeta = Type.Object({
  messageId: Type.Optional(Text(200)),
  submissionId: Type.Optional(Text(200)),
  openId: Type.Optional(Text(200)),
  appId: Type.Optional(Text(200)),
  email: Type.Optional(Text(320)),
  subject: Type.Optional(Text(500)),
  url: Type.Optional(Text(2000)),
  deviceId: Type.Optional(Text(200)),
  appVersion: Type.Optional(Text(50)),
}, { additionalProperties: false, description: 'Where the request came from: sms/mailbox need messageId; website/mobile_app need submissionId; mini_program/official_account need openId' });

export const IntakeBody = Type.Object({
  channel: ChannelSchema,
  callId: Type.Optional(Type.String({ minLength: 1, maxLength: 128, pattern: CALL_ID_PATTERN, description: 'Required for phone: the call the ticket is taken on (a UUID or an Asterisk id)' })),
  channelMeta: Type.Optional(ChannelMeta),
  type: RequestTypeSchema,
  scopeDomain: Type.Optional(ScopeDomainSchema),
  categoryId: Type.Optional(Uuid),
  urgency: Type.Optional(UrgencySchema),
  title: Text(200),
  content: Text(10000),
  address: Type.Optional(Text(500)),
  areaCode: Type.Optional(AreaCode),
  caller: Type.Object({
    phone: Type.String({ minLength: 3, maxLength: 32 }),
    name: Type.Optional(Text(100)),
    address: Type.Optional(Text(500)),
    confidential: Type.Optional(Type.Boolean({ description: '保密: hides the caller from departments' })),
  }, { additionalProperties: false }),
  attachmentIds: Type.Optional(Type.Array(Uuid, { maxItems: 20 })),
  acceptance: Type.Optional(Type.Object({
    findings: Type.Optional(Type.Array(NotAcceptedReasonSchema, { maxItems: 13, description: 'Exclusions the agent established (GB/T 44189 6.1.2)' })),
    inJurisdiction: Type.Optional(Type.Boolean()),
    transferTo: Type.Optional(Type.Array(Type.Enum(EMERGENCY_SERVICES), { maxItems: 4 })),
    note: Type.Optional(Text(1000)),
  }, { additionalProperties: false })),
  directAnswer: Type.Optional(Type.String({ minLength: 1, maxLength: 4000, description: '直办: answered on the call; closes the ticket' })),
}, { additionalProperties: false });

export const IntakeHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '^[\\x21-\\x7e]+$', description: 'Required for API keys: a retry with the same key returns the first result' })),
});

const CallerSchema = Type.Object({ hidden: Type.Boolean(), phone: Nullable(Type.String()), name: Nullable(Type.String()), address: Nullable(Type.String()) });
const AttachmentRef = Type.Object({ id: Uuid, kind: Type.Enum(ATTACHMENT_KINDS), mime: Type.String(), sizeBytes: Type.Integer(), fileName: Nullable(Type.String()) });

export const TicketSchema = Type.Object({
  id: Uuid, number: Type.String(), channel: ChannelSchema, channelLabel: Type.String(), channelMeta: AnyObject, callId: Nullable(Type.String()),
  type: RequestTypeSchema, typeLabel: Type.String(), scopeDomain: Nullable(ScopeDomainSchema), scopeDomainLabel: Nullable(Type.String()),
  categoryId: Nullable(Uuid), urgency: UrgencySchema, urgencyLabel: Type.String(), title: Type.String(), content: Type.String(),
  address: Nullable(Type.String()), areaCode: Nullable(Type.String()), status: StatusSchema, statusLabel: Type.String(),
  mainDepartmentId: Nullable(Uuid), coDepartmentIds: Type.Array(Uuid), supervised: Type.Boolean(), warned: Type.Boolean(), overdue: Type.Boolean(),
  confidential: Type.Boolean(),
  extension: Nullable(Type.Object({ requestedDueAt: Type.String(), reason: Type.String(), departmentId: Type.String(), requestedAt: Type.String() })),
  counters: Type.Object({ extensions: Type.Integer(), reminders: Type.Integer(), reopens: Type.Integer(), returns: Type.Integer(), revisitAttempts: Type.Integer() }),
  evaluation: Nullable(Type.Enum(EVALUATIONS)),
  notAccepted: Nullable(Type.Object({ reason: NotAcceptedReasonSchema, label: Type.String(), reply: Type.String() })),
  mergedInto: Nullable(Uuid), mergedTicketIds: Type.Array(Uuid),
  deadlines: Type.Object({
    dispatchDueAt: Nullable(DateTime), dispatchWarnAt: Nullable(DateTime), responseDueAt: Nullable(DateTime),
    responseWarnAt: Nullable(DateTime), dueAt: Nullable(DateTime), dueWarnAt: Nullable(DateTime),
  }),
  caller: CallerSchema,
  attachments: Type.Optional(Type.Array(AttachmentRef)),
  version: Type.Integer(), createdAt: DateTime, updatedAt: DateTime, closedAt: Nullable(DateTime),
});

const Hint = Type.Object({ service: Type.String(), keyword: Type.String(), advice: Type.String() });
export const IntakeResponse = Type.Object({
  ticket: TicketSchema,
  acceptance: Type.Object({
    accepted: Type.Boolean(),
    emergencyHints: Type.Array(Hint),
    exclusionHints: Type.Optional(Type.Array(Type.Object({ reason: NotAcceptedReasonSchema, keyword: Type.String() }))),
    reason: Type.Optional(NotAcceptedReasonSchema),
    label: Type.Optional(Type.String()),
    reply: Type.Optional(Type.String({ description: 'What the caller is told (不予受理 reply)' })),
    reasons: Type.Optional(Type.Array(NotAcceptedReasonSchema)),
    transferTo: Type.Optional(Type.Array(Type.String())),
  }),
  verificationCode: Type.String({ pattern: '^[0-9]{6}$', description: 'For the progress self-query; shown once' }),
});

export const ListTicketsQuery = Type.Object({
  status: Type.Optional(Type.Array(StatusSchema, { maxItems: 12 })),
  type: Type.Optional(RequestTypeSchema),
  channel: Type.Optional(ChannelSchema),
  urgency: Type.Optional(UrgencySchema),
  categoryId: Type.Optional(Uuid),
  departmentId: Type.Optional(Uuid),
  overdue: Type.Optional(Type.Boolean()),
  supervised: Type.Optional(Type.Boolean()),
  createdFrom: Type.Optional(DateTime),
  createdTo: Type.Optional(DateTime),
  phone: Type.Optional(Type.String({ minLength: 3, maxLength: 32, description: "Caller's number, exact" })),
  q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Chinese full text over title and content' })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
}, { additionalProperties: false });
/** The agent writes the request into a call's draft (then accepts it with the lifecycle actions). */
export const DraftEditBody = Type.Object({
  title: Type.Optional(Text(200)),
  content: Type.Optional(Text(10000)),
  type: Type.Optional(RequestTypeSchema),
  scopeDomain: Type.Optional(Nullable(ScopeDomainSchema)),
  categoryId: Type.Optional(Nullable(Uuid)),
  urgency: Type.Optional(UrgencySchema),
  address: Type.Optional(Nullable(Text(500))),
  areaCode: Type.Optional(Nullable(AreaCode)),
  caller: Type.Optional(Type.Object({
    name: Type.Optional(Nullable(Text(100))),
    address: Type.Optional(Nullable(Text(500))),
    confidential: Type.Optional(Type.Boolean({ description: '保密: hides the caller from departments' })),
  }, { additionalProperties: false })),
  expectedVersion: Type.Optional(Type.Integer({ minimum: 1 })),
}, { additionalProperties: false, minProperties: 1 });

export const TicketPage = Type.Object({ items: Type.Array(TicketSchema), next: Nullable(Type.String()) });

export const ActionBody = Type.Object({
  action: Type.Enum(TICKET_ACTIONS),
  expectedVersion: Type.Optional(Type.Integer({ minimum: 0, description: 'Optimistic lock: 409 version_conflict if the ticket moved on' })),
  reason: Type.Optional(Text(4000)),
  note: Type.Optional(Text(4000)),
  content: Type.Optional(Text(4000)),
  comment: Type.Optional(Text(4000)),
  mainDepartmentId: Type.Optional(Uuid),
  coDepartmentIds: Type.Optional(Type.Array(Uuid, { maxItems: 20 })),
  attachmentIds: Type.Optional(Type.Array(Uuid, { maxItems: 20 })),
  resolved: Type.Optional(Type.Boolean()),
  reached: Type.Optional(Type.Boolean()),
  revisitChannel: Type.Optional(Type.Enum(REVISIT_CHANNELS)),
  evaluation: Type.Optional(Type.Enum(EVALUATIONS)),
  notAcceptedReason: Type.Optional(NotAcceptedReasonSchema),
  requestType: Type.Optional(RequestTypeSchema),
  urgency: Type.Optional(UrgencySchema),
  requestedDueAt: Type.Optional(DateTime),
  dueAt: Type.Optional(Type.String({ format: 'date-time', description: 'approve_extension: a deadline other than the requested one' })),
  masterTicketId: Type.Optional(Uuid),
  duplicateTicketId: Type.Optional(Uuid),
}, {
  additionalProperties: false,
  description: 'One lifecycle step. Payload per action: accept (requestType?, urgency?); not_accept (notAcceptedReason, note?); direct_answer (content); dispatch (mainDepartmentId, coDepartmentIds?, note?); sign (note?); return (reason); redispatch (mainDepartmentId, coDepartmentIds?, reason); uphold_dispatch (reason); co_opinion (content, attachmentIds?); reply (content, attachmentIds?, resolved?); approve_reply (note?); reject_reply (reason); revisit (reached, revisitChannel?, note?); evaluate (evaluation, comment?); reopen (reason); supervise / lift_supervision (reason); remind (note?); request_extension (requestedDueAt, reason); approve_extension (dueAt?, note?); reject_extension (reason); merge (masterTicketId, reason?); absorb_duplicate (duplicateTicketId); cancel (reason). Deadlines are computed by the server.',
});

export const AllowedActionsSchema = Type.Object({
  status: StatusSchema, statusLabel: Type.String(), version: Type.Integer(),
  allowed: Type.Array(Type.Object({ action: Type.Enum(TICKET_ACTIONS), label: Type.String() })),
});

export const HistorySchema = Type.Object({
  items: Type.Array(Type.Object({
    id: Type.String(), version: Type.Integer(), action: Type.String(), actionLabel: Type.String(), from: Type.String(), to: Type.String(),
    actor: Type.Object({ type: Type.String(), id: Type.String(), role: Type.String(), departmentId: Nullable(Type.String()) }),
    reason: Nullable(Type.String()), data: AnyObject, at: DateTime,
  })),
  next: Nullable(Type.String()),
});
export const HistoryQuery = Type.Object({ after: Type.Optional(Type.String({ maxLength: 20 })), limit: Type.Integer({ minimum: 1, maximum: 200, default: 100 }) }, { additionalProperties: false });

export const ProgressQueryBody = Type.Object({
  number: Type.String({ pattern: '^GD[0-9]{14,}$', maxLength: 30 }),
  phone: Type.Optional(Type.String({ minLength: 3, maxLength: 32 })),
  code: Type.Optional(Type.String({ pattern: '^[0-9]{6}$' })),
}, { additionalProperties: false });
export const ProgressSchema = Type.Object({
  number: Type.String(), status: StatusSchema, statusLabel: Type.String(), lastUpdate: DateTime, mergedIntoNumber: Nullable(Type.String()),
  steps: Type.Array(Type.Object({ action: Type.String(), label: Type.String(), status: StatusSchema, statusLabel: Type.String(), at: DateTime })),
});

export const LinkAttachmentsBody = Type.Object({ attachmentIds: Type.Array(Uuid, { minItems: 1, maxItems: 20 }) }, { additionalProperties: false });
export const AttachmentSchema = Type.Object({
  id: Uuid, kind: Type.Enum(ATTACHMENT_KINDS), mime: Type.String(), sizeBytes: Type.Integer(), fileName: Nullable(Type.String()), sha256: Type.String(), deduplicated: Type.Boolean(),
});
export const UploadQuery = Type.Object({ kind: Type.Optional(Type.Enum(ATTACHMENT_KINDS, { description: 'Expected kind; refused if the content is another' })) }, { additionalProperties: false });
