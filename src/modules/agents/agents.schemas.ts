import { Type } from 'typebox';
import { AGENT_STATES, NOT_READY_REASONS } from '../../domain/agents/index.js';
import { Uuid } from '../../http/schemas.js';

// Extensions and levels are checked by the domain so that each mistake has its own code.
const Extension = Type.String({ minLength: 1, maxLength: 16, description: 'Four digits starting with 1 (PJSIP endpoint agent<ext>)' });
const SkillInput = Type.Object({ skillId: Uuid, level: Type.Integer({ description: '1–5' }) }, { additionalProperties: false });
const Languages = Type.Array(Type.String({ minLength: 1, maxLength: 35 }), { maxItems: 20, description: 'zh, yue, en …' });
export const AgentStateSchema = Type.Enum([...AGENT_STATES]);
export const ReasonSchema = Type.Enum([...NOT_READY_REASONS], { description: 'break 小休, meal 用餐, training 培训, meeting 会议, no_answer 未接听 (system), after_call 话后处理' });

export const AgentSchema = Type.Object({
  id: Uuid,
  username: Type.String(),
  displayName: Type.String(),
  role: Type.String(),
  extension: Type.String(),
  endpoint: Type.String({ description: 'ARI endpoint, e.g. PJSIP/agent1001' }),
  centreId: Type.String(),
  languages: Type.Array(Type.String()),
  autoAnswer: Type.Boolean(),
  skills: Type.Array(Type.Object({ skillId: Uuid, skillCode: Type.String(), skillName: Type.String(), level: Type.Integer() })),
  active: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

export const CreateAgentBody = Type.Object({
  userId: Uuid,
  extension: Extension,
  languages: Type.Optional(Languages),
  skills: Type.Optional(Type.Array(SkillInput, { maxItems: 50 })),
  centreId: Type.Optional(Type.String({ maxLength: 64 })),
  autoAnswer: Type.Optional(Type.Boolean({ description: 'The phone answers by itself (SIP auto-answer) when the agent accepts the call on the desktop' })),
}, { additionalProperties: false });

export const UpdateAgentBody = Type.Object({
  extension: Type.Optional(Extension),
  languages: Type.Optional(Languages),
  skills: Type.Optional(Type.Array(SkillInput, { maxItems: 50 })),
  active: Type.Optional(Type.Boolean({ description: 'false deactivates; refused while the agent is logged in' })),
  autoAnswer: Type.Optional(Type.Boolean({ description: 'The phone answers by itself (SIP auto-answer) when the agent accepts the call on the desktop' })),
}, { additionalProperties: false });

export const ListAgentsQuery = Type.Object({
  active: Type.Optional(Type.Boolean()),
  centreId: Type.Optional(Type.String({ maxLength: 64 })),
  skillId: Type.Optional(Uuid),
  after: Type.Optional(Type.String({ maxLength: 16, description: 'Keyset cursor: the last extension of the previous page' })),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 100 }),
}, { additionalProperties: false });
export const AgentPage = Type.Object({ items: Type.Array(AgentSchema), next: Type.Union([Type.String(), Type.Null()]) });

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
export const StateViewSchema = Type.Object({
  agentId: Uuid,
  displayName: Type.String(),
  centreId: Type.String(),
  state: AgentStateSchema,
  stateLabel: Type.String(),
  reason: Nullable(ReasonSchema),
  reasonLabel: Nullable(Type.String()),
  since: Type.String({ format: 'date-time' }),
  version: Type.Integer(),
  extension: Nullable(Type.String()),
  endpoint: Nullable(Type.String()),
  idleSince: Nullable(Type.String({ format: 'date-time' })),
  lastCallEndedAt: Nullable(Type.String({ format: 'date-time' })),
  callId: Nullable(Type.String()),
  wrapUpUntil: Nullable(Type.String({ format: 'date-time' })),
});

export const ChangeStateBody = Type.Object({
  state: AgentStateSchema,
  reason: Type.Optional(ReasonSchema),
  force: Type.Optional(Type.Boolean({ description: 'Supervisor: log out an agent who is ringing or on a call' })),
  expectedState: Type.Optional(AgentStateSchema),
}, { additionalProperties: false });

export const LoginBody = Type.Object({
  extension: Type.Optional(Extension),
  state: Type.Optional(Type.Enum(['ready', 'not_ready'] as const)),
  reason: Type.Optional(ReasonSchema),
}, { additionalProperties: false });

export const ListStatesQuery = Type.Object({
  centreId: Type.Optional(Type.String({ maxLength: 64 })),
  state: Type.Optional(AgentStateSchema),
  includeOffline: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });

export const StateLogQuery = Type.Object({
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
}, { additionalProperties: false });

export const StateLogSchema = Type.Object({
  id: Type.String(),
  fromState: AgentStateSchema,
  fromReason: Nullable(ReasonSchema),
  state: AgentStateSchema,
  reason: Nullable(ReasonSchema),
  at: Type.String({ format: 'date-time' }),
  previousDurationMs: Type.Integer(),
  actorType: Type.Enum(['agent', 'supervisor', 'system'] as const),
  actorId: Nullable(Type.String()),
  callId: Nullable(Type.String()),
  extension: Nullable(Type.String()),
});
