import { Type } from 'typebox';
import { CALLER_FLAGS, OVERFLOW_ACTIONS } from '../../domain/acd/index.js';
import { Uuid } from '../../http/schemas.js';
import { Code, Name } from './skills.schemas.js';

// Numbers are only bounded loosely here: src/domain/acd gives each range its own code.
const Seconds = Type.Integer({ minimum: -1_000_000, maximum: 1_000_000 });
const Language = Type.String({ minLength: 1, maxLength: 35, description: 'zh, yue, en …' });

const RequiredSkillInput = Type.Object({ skillId: Uuid, minLevel: Type.Integer({ description: '1–5' }) }, { additionalProperties: false });
const PriorityRuleSchema = Type.Object({
  flag: Type.String({ maxLength: 64, description: `Caller flag: ${CALLER_FLAGS.join(', ')}` }),
  boost: Type.Integer({ description: '1–100; orders callers within their class (emergency linkage > elderly/assisted > normal)' }),
}, { additionalProperties: false });
const OverflowInput = Type.Object({
  action: Type.String({ maxLength: 32, description: OVERFLOW_ACTIONS.join(' | ') }),
  queueId: Type.Optional(Type.Union([Uuid, Type.Null()])),
}, { additionalProperties: false });

const Fields = {
  name: Name,
  centreId: Type.String({ maxLength: 64 }),
  language: Type.Union([Language, Type.Null()]),
  requiredSkills: Type.Array(RequiredSkillInput, { maxItems: 50 }),
  priorityRules: Type.Array(PriorityRuleSchema, { maxItems: 20 }),
  maxWaitSeconds: Seconds,
  overflow: OverflowInput,
  announcementIntervalSeconds: Type.Integer({ minimum: -1_000_000, maximum: 1_000_000, description: '0 = no periodic position/wait announcement' }),
  callbackOfferSeconds: Type.Union([Seconds, Type.Null()], { description: 'Wait after which "press 1 to be called back" is offered; null = never' }),
  wrapUpSeconds: Seconds,
  ringTimeoutSeconds: Seconds,
  serviceLevelSeconds: Type.Integer({ minimum: -1_000_000, maximum: 1_000_000, description: 'Answered within this many seconds counts towards the service level (default 15)' }),
  scheduleId: Type.Union([Uuid, Type.Null()], { description: 'Opening schedule; null = 7×24' }),
};

export const CreateQueueBody = Type.Object({
  code: Code,
  name: Name,
  centreId: Type.Optional(Fields.centreId),
  language: Type.Optional(Fields.language),
  requiredSkills: Type.Optional(Fields.requiredSkills),
  priorityRules: Type.Optional(Fields.priorityRules),
  maxWaitSeconds: Type.Optional(Fields.maxWaitSeconds),
  overflow: Type.Optional(Fields.overflow),
  announcementIntervalSeconds: Type.Optional(Fields.announcementIntervalSeconds),
  callbackOfferSeconds: Type.Optional(Fields.callbackOfferSeconds),
  wrapUpSeconds: Type.Optional(Fields.wrapUpSeconds),
  ringTimeoutSeconds: Type.Optional(Fields.ringTimeoutSeconds),
  serviceLevelSeconds: Type.Optional(Fields.serviceLevelSeconds),
  scheduleId: Type.Optional(Fields.scheduleId),
}, { additionalProperties: false });

export const UpdateQueueBody = Type.Object({
  name: Type.Optional(Fields.name),
  centreId: Type.Optional(Fields.centreId),
  language: Type.Optional(Fields.language),
  requiredSkills: Type.Optional(Fields.requiredSkills),
  priorityRules: Type.Optional(Fields.priorityRules),
  maxWaitSeconds: Type.Optional(Fields.maxWaitSeconds),
  overflow: Type.Optional(Fields.overflow),
  announcementIntervalSeconds: Type.Optional(Fields.announcementIntervalSeconds),
  callbackOfferSeconds: Type.Optional(Fields.callbackOfferSeconds),
  wrapUpSeconds: Type.Optional(Fields.wrapUpSeconds),
  ringTimeoutSeconds: Type.Optional(Fields.ringTimeoutSeconds),
  serviceLevelSeconds: Type.Optional(Fields.serviceLevelSeconds),
  scheduleId: Type.Optional(Fields.scheduleId),
  active: Type.Optional(Type.Boolean()),
  expectedVersion: Type.Optional(Type.Integer({ minimum: 1, description: 'Refuse the change (409 queue_version_conflict) if the queue is no longer at this version' })),
}, { additionalProperties: false });

export const QueueSchema = Type.Object({
  id: Uuid,
  code: Type.String(),
  name: Type.String(),
  centreId: Type.String(),
  language: Type.Union([Type.String(), Type.Null()]),
  requiredSkills: Type.Array(Type.Object({ skillId: Uuid, skillCode: Type.String(), skillName: Type.String(), minLevel: Type.Integer() })),
  priorityRules: Type.Array(Type.Object({ flag: Type.String(), boost: Type.Integer() })),
  maxWaitSeconds: Type.Integer(),
  overflow: Type.Object({ action: Type.String(), queueId: Type.Union([Uuid, Type.Null()]) }),
  announcementIntervalSeconds: Type.Integer(),
  callbackOfferSeconds: Type.Union([Type.Integer(), Type.Null()]),
  wrapUpSeconds: Type.Integer(),
  ringTimeoutSeconds: Type.Integer(),
  serviceLevelSeconds: Type.Integer(),
  scheduleId: Type.Union([Uuid, Type.Null()]),
  active: Type.Boolean(),
  version: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

export const ListQueuesQuery = Type.Object({
  active: Type.Optional(Type.Boolean()),
  centreId: Type.Optional(Type.String({ maxLength: 64 })),
  after: Type.Optional(Type.String({ maxLength: 64 })),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 100 }),
}, { additionalProperties: false });
export const QueuePage = Type.Object({ items: Type.Array(QueueSchema), next: Type.Union([Type.String(), Type.Null()]) });
