/**
 * The desktop WebSocket protocol, version 1: every client and server message as a TypeBox
 * schema. Client messages are validated against these; GET /api/v1/desktop/schema serves them
 * all as JSON Schema; README.md beside this file explains them.
 */
import { Type, type TSchema } from 'typebox';
import { AGENT_STATES } from '../../domain/agents/index.js';
import { Uuid } from '../../http/schemas.js';
import { AgentStateSchema, ReasonSchema, StateViewSchema } from '../agents/agents.schemas.js';

export const PROTOCOL_VERSION = 1;

const V = Type.Literal(PROTOCOL_VERSION, { description: 'Protocol version' });
const At = Type.String({ format: 'date-time', description: 'When the server sent (or, for log messages, recorded) the message' });
export const Seq = Type.String({ pattern: '^(0|[1-9][0-9]{0,18})$', description: 'Per-user log sequence number, as a decimal string' });
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const strict = { additionalProperties: false } as const;

// ---------------------------------------------------------------- client → server

export const HelloMessage = Type.Object({
  v: V,
  type: Type.Literal('hello'),
  token: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'Session JWT (POST /api/v1/auth/login); not needed when the upgrade carried Authorization: Bearer' })),
  lastSeq: Type.Optional(Seq),
  client: Type.Optional(Type.Object({ name: Type.Optional(Type.String({ maxLength: 64 })), version: Type.Optional(Type.String({ maxLength: 32 })) }, strict)),
}, { ...strict, description: 'First message: authenticates (unless the upgrade did) and asks for the welcome; lastSeq resumes after a reconnect' });

export const CommandId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._:-]+$', description: 'Chosen by the client; the same id on one socket is run once and answered with the same reply' });

const CallId = Type.Optional(Type.String({ format: 'uuid', description: 'The call; defaults to the agent\'s current call' }));
const Target = Type.Union([
  Type.Object({ kind: Type.Literal('queue'), queueId: Uuid }, strict),
  Type.Object({ kind: Type.Literal('agent'), extension: Type.String({ pattern: '^1[0-9]{3}$' }) }, strict),
  Type.Object({ kind: Type.Literal('number'), number: Type.String({ pattern: '^\\+?[0-9]{3,20}$' }), label: Type.Optional(Type.String({ maxLength: 50 })) }, strict),
], { description: 'Where a transfer or consultation goes: a queue, an agent\'s extension, or a partner line / number' });

const PersonalReason = Type.Enum(['break', 'meal', 'training', 'meeting'] as const, { description: 'break 小休, meal 用餐, training 培训, meeting 会议' });
const callCommand = <T extends string>(type: T, description: string) => Type.Object({ type: Type.Literal(type), callId: CallId }, { ...strict, description });

/** Every command, by its type. login, logout, ready and not_ready are run by the desktop module; the rest by call control. */
export const COMMAND_SCHEMAS = {
  login: Type.Object({
    type: Type.Literal('login'),
    extension: Type.Optional(Type.String({ pattern: '^1[0-9]{3}$', description: 'The phone to log in at; the agent\'s own extension by default' })),
    state: Type.Optional(Type.Enum(['ready', 'not_ready'] as const)),
    reason: Type.Optional(PersonalReason),
  }, { ...strict, description: 'Log in at an extension (签入), ready unless state says otherwise' }),
  logout: Type.Object({ type: Type.Literal('logout') }, { ...strict, description: 'Log out (签出); refused while ringing or on a call' }),
  ready: Type.Object({ type: Type.Literal('ready') }, { ...strict, description: 'Ready for calls (示闲)' }),
  not_ready: Type.Object({ type: Type.Literal('not_ready'), reason: PersonalReason }, { ...strict, description: 'Not ready (示忙) with a reason' }),
  answer: callCommand('answer', 'Answer the offered call (phones that wait for the desktop)'),
  hold: callCommand('hold', 'Put the caller on hold (music)'),
  unhold: callCommand('unhold', 'Take the caller off hold'),
  transfer: Type.Object({ type: Type.Literal('transfer'), callId: CallId, target: Target }, { ...strict, description: 'Blind transfer' }),
  consult: Type.Object({ type: Type.Literal('consult'), callId: CallId, target: Target }, { ...strict, description: 'Consult a third party while the caller holds' }),
  conference: callCommand('conference', 'Join the consulted party and the caller (三方通话)'),
  cancel_consult: callCommand('cancel_consult', 'End the consultation and return to the caller'),
  hangup: callCommand('hangup', 'Hang up the agent\'s leg'),
  end_wrap_up: callCommand('end_wrap_up', 'End wrap-up (话后整理) early'),
  bind_ticket: Type.Object({ type: Type.Literal('bind_ticket'), callId: CallId, ticketId: Uuid }, { ...strict, description: 'Bind a ticket (工单) to the call' }),
  monitor: Type.Object({ type: Type.Literal('monitor'), agentId: Uuid, callId: CallId }, { ...strict, description: 'Supervisor: listen to an agent\'s call (监听)' }),
  whisper: Type.Object({ type: Type.Literal('whisper'), agentId: Uuid, callId: CallId }, { ...strict, description: 'Supervisor: talk to the agent only (耳语)' }),
  barge: Type.Object({ type: Type.Literal('barge'), agentId: Uuid, callId: CallId }, { ...strict, description: 'Supervisor: join the call (强插)' }),
  stop_monitor: Type.Object({ type: Type.Literal('stop_monitor'), callId: CallId }, { ...strict, description: 'Supervisor: end monitor, whisper or barge' }),
} as const;
export type CommandType = keyof typeof COMMAND_SCHEMAS;
export const COMMAND_TYPES = Object.keys(COMMAND_SCHEMAS) as CommandType[];
/** Run by the desktop module itself through the agent states; every other command goes to call control. */
export const AGENT_STATE_COMMANDS: readonly CommandType[] = ['login', 'logout', 'ready', 'not_ready'];

export const CommandMessage = Type.Object({
  v: V,
  type: Type.Literal('command'),
  id: CommandId,
  command: Type.Object({ type: Type.Enum(COMMAND_TYPES) }, { additionalProperties: true, description: 'One of the commands; each is validated against its own schema (see commands)' }),
}, { ...strict, description: 'A command; answered with command_result carrying the same id' });

export const ClientPingMessage = Type.Object({ v: V, type: Type.Literal('ping'), id: Type.Optional(Type.String({ maxLength: 64 })) }, { ...strict, description: 'The client checks the connection; answered with pong' });
export const ClientPongMessage = Type.Object({ v: V, type: Type.Literal('pong') }, { ...strict, description: 'Answer to the server\'s ping (any client message also counts)' });
export const SubscribeWallboardMessage = Type.Object({
  v: V,
  type: Type.Literal('subscribe_wallboard'),
  queueIds: Type.Optional(Type.Array(Uuid, { minItems: 1, maxItems: 200, uniqueItems: true, description: 'Queues to show; every active queue of the supervisor\'s centre by default' })),
}, { ...strict, description: 'Supervisor/admin: start (or replace) the wallboard stream: wallboard, then wallboard_delta' });
export const UnsubscribeWallboardMessage = Type.Object({ v: V, type: Type.Literal('unsubscribe_wallboard') }, { ...strict, description: 'Stop the wallboard stream' });

export const CLIENT_SCHEMAS = {
  hello: HelloMessage,
  command: CommandMessage,
  ping: ClientPingMessage,
  pong: ClientPongMessage,
  subscribe_wallboard: SubscribeWallboardMessage,
  unsubscribe_wallboard: UnsubscribeWallboardMessage,
} as const;
export type ClientMessageType = keyof typeof CLIENT_SCHEMAS;

// ---------------------------------------------------------------- server → client

const ErrorBody = Type.Object({
  code: Type.String({ description: 'Stable machine-readable code' }),
  message: Type.String(),
  details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});

export const WelcomeMessage = Type.Object({
  v: V,
  type: Type.Literal('welcome'),
  at: At,
  desktopId: Uuid,
  user: Type.Object({ id: Uuid, name: Type.String(), role: Type.String() }),
  desktops: Type.Integer({ minimum: 1, description: 'Desktops of this user open now, on every instance, this one included' }),
  lastSeq: Seq,
  resync: Type.Boolean({ description: 'true: the messages since the client\'s lastSeq are no longer all kept; rebuild the screen from the snapshot' }),
  missed: Type.Integer({ minimum: 0, description: 'How many log messages follow the welcome (those after the client\'s lastSeq)' }),
  heartbeatMs: Type.Integer({ description: 'The server pings this often; answer each ping' }),
  snapshot: Type.Object({
    agent: Nullable(StateViewSchema),
    currentCall: Nullable(Type.Record(Type.String(), Type.Unknown(), { description: 'The call being offered, connected, held or wrapped up (call control decides its fields)' })),
  }),
});

export const CommandResultMessage = Type.Union([
  Type.Object({ v: V, type: Type.Literal('command_result'), at: At, id: CommandId, ok: Type.Literal(true), result: Type.Record(Type.String(), Type.Unknown()) }),
  Type.Object({ v: V, type: Type.Literal('command_result'), at: At, id: CommandId, ok: Type.Literal(false), error: ErrorBody }),
], { description: 'The reply to a command, sent to the socket that sent it' });

export const ErrorMessage = Type.Object({
  v: V,
  type: Type.Literal('error'),
  at: At,
  code: Type.String({ description: 'invalid_json, invalid_message, unsupported_version, unknown_message_type, message_too_large, binary_not_supported, hello_required, already_authenticated, role_forbidden, queue_not_found, internal_error' }),
  message: Type.String(),
  details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  ref: Type.Optional(Type.Object({ type: Type.Optional(Type.String()), id: Type.Optional(Type.String()) })),
}, { description: 'A client message was refused; the connection stays open' });

export const ServerPingMessage = Type.Object({ v: V, type: Type.Literal('ping'), at: At }, { description: 'Heartbeat: answer with pong' });
export const ServerPongMessage = Type.Object({ v: V, type: Type.Literal('pong'), at: At, id: Type.Optional(Type.String()) }, { description: 'Answer to the client\'s ping' });

/** Fields of a log message: stored per user, sent to every desktop of that user, replayed on resume. */
const logMessage = (type: TSchema, payload: TSchema, description: string) => Type.Object({ v: V, type, seq: Seq, at: At, payload }, { description });

export const AgentStatePayload = Type.Object({
  agentId: Uuid,
  centreId: Type.String(),
  version: Type.Integer({ description: 'The agent state version: strictly increasing in the log' }),
  from: AgentStateSchema,
  fromReason: Nullable(ReasonSchema),
  state: AgentStateSchema,
  reason: Nullable(ReasonSchema),
  at: Type.String({ format: 'date-time' }),
  previousDurationMs: Type.Integer(),
  actor: Type.Object({ type: Type.String(), id: Nullable(Type.String()) }),
  callId: Nullable(Type.String()),
  extension: Nullable(Type.String()),
}, { additionalProperties: true });

export const LOG_SCHEMAS = {
  'agent.state': logMessage(Type.Literal('agent.state'), AgentStatePayload, 'The agent\'s state changed (from agent.state_changed)'),
  'desktop.presence': logMessage(Type.Literal('desktop.presence'), Type.Object({
    desktopId: Uuid, change: Type.Enum(['opened', 'closed'] as const), open: Type.Integer({ minimum: 0, description: 'Desktops of the user open now' }),
  }), 'A desktop of this user opened or closed (another tab, another machine)'),
  other: logMessage(Type.String({ pattern: '^[a-z][a-z0-9_]*(\\.[a-z0-9_]+)+$', description: 'Dotted; recorded by other modules (call control: call.offer, call.connected …)' }), Type.Record(Type.String(), Type.Unknown()), 'Any other log message'),
} as const;

const QueueStats = Type.Object({
  code: Type.String(),
  name: Type.String(),
  serviceLevelSeconds: Type.Integer(),
  waiting: Type.Integer({ description: 'Callers in the queue now (including those being offered to an agent)' }),
  offering: Type.Integer({ description: 'Of those, being offered to an agent' }),
  longestWaitSeconds: Type.Integer({ description: 'Wait of the longest-waiting caller now; 0 when nobody waits' }),
  answered: Type.Integer({ description: 'Today (Asia/Shanghai): calls of the queue connected to an agent' }),
  abandoned: Type.Integer({ description: 'Today: callers who hung up waiting or while an agent was rung' }),
  serviceLevel: Nullable(Type.Number({ description: 'Today: answered within serviceLevelSeconds / (answered + abandoned after serviceLevelSeconds); null with no such calls' })),
  averageSpeedOfAnswerSeconds: Nullable(Type.Number({ description: 'Today: mean of queued → connected over answered calls' })),
  averageHandleSeconds: Nullable(Type.Number({ description: 'Today: mean talk + wrap-up over calls whose wrap-up ended today' })),
});
const WallboardAgent = Type.Object({
  displayName: Type.String(),
  centreId: Type.String(),
  state: AgentStateSchema,
  reason: Nullable(ReasonSchema),
  since: Type.String({ format: 'date-time', description: 'In this state since; duration = now - since' }),
  extension: Nullable(Type.String()),
  callId: Nullable(Type.String()),
});
const ByState = Type.Object(Object.fromEntries(AGENT_STATES.filter((s) => s !== 'offline').map((s) => [s, Type.Integer()])), { description: 'Logged-in agents per state' });

export const WallboardMessage = Type.Object({
  v: V, type: Type.Literal('wallboard'), at: At,
  queues: Type.Record(Uuid, QueueStats),
  agents: Type.Record(Uuid, WallboardAgent, { description: 'Logged-in agents by id' }),
  agentsByState: ByState,
}, { description: 'The full wallboard, first after subscribe_wallboard' });

export const WallboardDeltaMessage = Type.Object({
  v: V, type: Type.Literal('wallboard_delta'), at: At,
  queues: Type.Optional(Type.Record(Uuid, Type.Partial(QueueStats), { description: 'Changed fields per queue; a new queue comes whole' })),
  removedQueues: Type.Optional(Type.Array(Uuid)),
  agents: Type.Optional(Type.Record(Uuid, Type.Partial(WallboardAgent), { description: 'Changed fields per agent; a newly logged-in agent comes whole' })),
  removedAgents: Type.Optional(Type.Array(Uuid, { description: 'Agents who logged out' })),
  agentsByState: Type.Optional(Type.Partial(ByState)),
}, { description: 'What changed since the previous wallboard message; at most one per second' });

export const SERVER_SCHEMAS = {
  welcome: WelcomeMessage,
  command_result: CommandResultMessage,
  error: ErrorMessage,
  ping: ServerPingMessage,
  pong: ServerPongMessage,
  wallboard: WallboardMessage,
  wallboard_delta: WallboardDeltaMessage,
} as const;

export const CLOSE_CODES = {
  1001: 'server_shutting_down',
  4001: 'heartbeat_timeout',
  4002: 'slow_consumer',
  4401: 'unauthenticated: token_required, token_malformed, token_invalid, token_expired, session_revoked, authorization_malformed',
  4403: 'forbidden: api_key_not_allowed, role_forbidden',
  4408: 'hello_timeout',
} as const;

/** The document GET /api/v1/desktop/schema serves. */
export function schemaDocument(): { version: number; [k: string]: unknown } {
  return {
    version: PROTOCOL_VERSION,
    endpoint: '/api/v1/desktop/ws',
    client: CLIENT_SCHEMAS,
    commands: COMMAND_SCHEMAS,
    server: SERVER_SCHEMAS,
    log: LOG_SCHEMAS,
    closeCodes: CLOSE_CODES,
  };
}
