import { Type } from 'typebox';
import { CALL_DISPOSITIONS, CALL_STATES } from '../../domain/calls/states.js';
import { HARASSMENT_ACTIONS, PROFILE_FLAGS } from '../../domain/calls/caller.js';
import { Limit, Uuid } from '../../http/schemas.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const Iso = Type.String({ format: 'date-time' });
const Phone = Type.String({ minLength: 3, maxLength: 32, pattern: '^[+0-9 ()-]+$' });

export const CallSchema = Type.Object({
  id: Uuid,
  nodeId: Type.String(),
  direction: Type.Enum(['inbound', 'transfer_in']),
  callerNumber: Type.String({ description: 'Masked for roles that do not need it' }),
  dialedNumber: Type.String(),
  state: Type.Enum(CALL_STATES),
  stateLabel: Type.String(),
  flags: Type.Array(Type.String()),
  priority: Nullable(Type.Integer()),
  queueId: Nullable(Uuid),
  agentId: Nullable(Uuid),
  arrivedAt: Iso,
  queuedAt: Nullable(Iso),
  connectedAt: Nullable(Iso),
  endedAt: Nullable(Iso),
  waitSeconds: Nullable(Type.Integer()),
  talkSeconds: Nullable(Type.Integer()),
  disposition: Nullable(Type.Enum(CALL_DISPOSITIONS)),
  dispositionLabel: Nullable(Type.String()),
  hangupBy: Nullable(Type.String()),
  hangupCause: Nullable(Type.Integer()),
  surveyResult: Nullable(Type.String()),
  transfer: Nullable(Type.Record(Type.String(), Type.String())),
  ivrPath: Type.Array(Type.Object({ node: Type.String(), digit: Nullable(Type.String()), action: Type.String(), at: Iso })),
});

const CallbackTaskSchema = Type.Object({
  id: Uuid,
  kind: Type.Union([Type.Literal('missed'), Type.Literal('requested'), Type.Literal('overflow'), Type.Literal('voicemail')]),
  phone: Type.String(),
  callId: Uuid,
  lastCallId: Uuid,
  queueId: Nullable(Uuid),
  priority: Nullable(Type.Integer()),
  enqueuedAt: Nullable(Iso),
  waitedSeconds: Type.Integer(),
  recordingName: Nullable(Type.String()),
  day: Type.String({ format: 'date' }),
  attempts: Type.Integer(),
  status: Type.Union([Type.Literal('open'), Type.Literal('done'), Type.Literal('dismissed')]),
  createdAt: Iso,
});
export { CallbackTaskSchema };

export const CallDetailSchema = Type.Intersect([CallSchema, Type.Object({
  timeline: Type.Array(Type.Object({ at: Iso, type: Type.String(), data: Type.Record(Type.String(), Type.Unknown()) })),
  offers: Type.Array(Type.Object({
    id: Uuid, agentId: Uuid, extension: Type.String(), offeredAt: Iso, endedAt: Nullable(Iso),
    outcome: Nullable(Type.String()), outcomeLabel: Nullable(Type.String()), cause: Nullable(Type.Integer()),
  })),
  recordings: Type.Array(Type.Object({
    name: Type.String(), format: Type.String(), startedAt: Iso, endedAt: Nullable(Iso), durationSeconds: Nullable(Type.Integer()), sizeBytes: Nullable(Type.Integer()), state: Type.String(),
  })),
  ticketIds: Type.Array(Uuid),
  callbacks: Type.Array(CallbackTaskSchema),
  transfers: Type.Array(Type.Object({
    id: Uuid, kind: Type.String(), target: Type.String(), label: Nullable(Type.String()), mode: Type.String(), requestedBy: Nullable(Uuid),
    requestedAt: Iso, answeredAt: Nullable(Iso), endedAt: Nullable(Iso), outcome: Nullable(Type.String()), cause: Nullable(Type.Integer()),
  })),
  monitors: Type.Array(Type.Object({ id: Uuid, supervisorId: Uuid, mode: Type.String(), startedAt: Iso, endedAt: Nullable(Iso) })),
})]);

export const ListCallsQuery = Type.Object({
  from: Type.Optional(Iso),
  to: Type.Optional(Iso),
  queueId: Type.Optional(Uuid),
  agentId: Type.Optional(Uuid),
  ticketId: Type.Optional(Uuid),
  callerPhone: Type.Optional(Phone),
  disposition: Type.Optional(Type.Enum(CALL_DISPOSITIONS)),
  state: Type.Optional(Type.Enum(CALL_STATES)),
  direction: Type.Optional(Type.Enum(['inbound', 'transfer_in'])),
  before: Type.Optional(Type.String({ description: 'Cursor: the `next` of the previous page', pattern: '^[0-9TZ:.+-]+_[0-9a-f-]{36}$' })),
  limit: Limit,
}, { additionalProperties: false });

export const CallPage = Type.Object({ items: Type.Array(CallSchema), next: Nullable(Type.String()) });

export const RecordingParams = Type.Object({ id: Uuid, name: Type.String({ pattern: '^[A-Za-z0-9._-]{1,128}$' }) });

export const BindTicketBody = Type.Object({ ticketId: Uuid }, { additionalProperties: false });
export const BoundTickets = Type.Object({ callId: Uuid, ticketIds: Type.Array(Uuid) });

export const RaisePriorityBody = Type.Object({
  priorityClass: Type.Union([Type.Literal('assisted'), Type.Literal('emergency')], { description: 'assisted = 老年人/需协助, emergency = 应急联动' }),
  reason: Type.String({ minLength: 1, maxLength: 500 }),
}, { additionalProperties: false });

export const WaitingSchema = Type.Object({
  callId: Uuid, position: Type.Integer(), priority: Type.Integer(), enqueuedAt: Iso, waitedSeconds: Type.Integer(),
  state: Type.Union([Type.Literal('waiting'), Type.Literal('offered')]), callerNumber: Type.String(),
});
export const WaitingQuery = Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 1000, default: 200 }) }, { additionalProperties: false });

export const ListCallbacksQuery = Type.Object({
  status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('done'), Type.Literal('dismissed')])),
  kind: Type.Optional(Type.Union([Type.Literal('missed'), Type.Literal('requested'), Type.Literal('overflow'), Type.Literal('voicemail')])),
  after: Type.Optional(Uuid),
  limit: Limit,
}, { additionalProperties: false });
export const CallbackPage = Type.Object({ items: Type.Array(CallbackTaskSchema), next: Nullable(Uuid) });
export const CallbackStatusBody = Type.Object({ status: Type.Union([Type.Literal('done'), Type.Literal('dismissed')]) }, { additionalProperties: false });

export const PhoneParams = Type.Object({ phone: Phone });
export const CallerProfileSchema = Type.Object({
  phone: Type.String(),
  flags: Type.Array(Type.Enum(PROFILE_FLAGS)),
  harassmentAction: Type.Enum(HARASSMENT_ACTIONS),
  note: Nullable(Type.String()),
  updatedAt: Iso,
});
export const PutCallerProfileBody = Type.Object({
  flags: Type.Array(Type.Enum(PROFILE_FLAGS), { maxItems: 3, description: 'elderly / assisted skip the menu with priority; harassment applies harassmentAction' }),
  harassmentAction: Type.Optional(Type.Enum(HARASSMENT_ACTIONS)),
  note: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
}, { additionalProperties: false });
