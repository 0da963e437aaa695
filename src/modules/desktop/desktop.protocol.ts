/**
 * The protocol's pure pieces: turning a client frame into a typed message or a stable error,
 * command-id de-duplication, and the resume decision. No I/O, no transport.
 */
import { Compile, type Validator } from 'typebox/compile';
import type { Static, TSchema } from 'typebox';
import {
  CLIENT_SCHEMAS, COMMAND_SCHEMAS, PROTOCOL_VERSION,
  type ClientMessageType, type CommandType,
} from './desktop.schemas.js';

/** Client frames larger than this are answered with message_too_large (the socket stays open). */
export const MAX_CLIENT_MESSAGE_BYTES = 16 * 1024;
/** A resume replays at most this many messages; beyond it the desktop rebuilds from the snapshot. */
export const MAX_REPLAY = 1000;

export type ClientMessage = { [K in ClientMessageType]: Static<(typeof CLIENT_SCHEMAS)[K]> }[ClientMessageType];
export type HelloMsg = Static<typeof CLIENT_SCHEMAS.hello>;
export type Command = { [K in CommandType]: Static<(typeof COMMAND_SCHEMAS)[K]> }[CommandType];
export type CommandMsg = { v: 1; type: 'command'; id: string; command: Command };

export interface ProtocolError {
  readonly code: string;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

export type ParseResult =
  | { ok: true; msg: Exclude<ClientMessage, { type: 'command' }> | CommandMsg }
  /** `commandId`: the frame was a command whose id could be read, so the reply is a command_result. */
  | { ok: false; error: ProtocolError; type?: string; commandId?: string };

const clientValidators = new Map<string, Validator>(Object.entries(CLIENT_SCHEMAS).map(([k, s]) => [k, Compile(s as TSchema)]));
const commandValidators = new Map<string, Validator>(Object.entries(COMMAND_SCHEMAS).map(([k, s]) => [k, Compile(s as TSchema)]));

function problems(validator: Validator, value: unknown): Array<{ path: string; message: string }> {
  const out: Array<{ path: string; message: string }> = [];
  for (const e of validator.Errors(value)) {
    // The boolean-schema twin of additionalProperties says nothing more.
    if (e.keyword === 'boolean') continue;
    out.push({ path: e.instancePath || '/', message: e.message });
    if (out.length >= 5) break;
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses and validates one text frame. Never throws. */
export function parseClientMessage(text: string): ParseResult {
  if (Buffer.byteLength(text, 'utf8') > MAX_CLIENT_MESSAGE_BYTES) {
    return { ok: false, error: { code: 'message_too_large', message: `Messages are at most ${MAX_CLIENT_MESSAGE_BYTES} bytes`, details: { limit: MAX_CLIENT_MESSAGE_BYTES } } };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, error: { code: 'invalid_json', message: 'The message is not JSON' } };
  }
  if (!isObject(value)) return { ok: false, error: { code: 'invalid_message', message: 'A message is a JSON object with v and type' } };
  const type = typeof value.type === 'string' ? value.type.slice(0, 64) : undefined;
  if (value.v !== PROTOCOL_VERSION) {
    return { ok: false, ...(type ? { type } : {}), error: { code: 'unsupported_version', message: `This server speaks protocol version ${PROTOCOL_VERSION}`, details: { supported: [PROTOCOL_VERSION] } } };
  }
  const validator = type ? clientValidators.get(type) : undefined;
  if (!type || !validator) {
    return { ok: false, ...(type ? { type } : {}), error: { code: 'unknown_message_type', message: `Unknown message type ${JSON.stringify(type ?? null)}`, details: { allowed: Object.keys(CLIENT_SCHEMAS) } } };
  }
  const commandId = type === 'command' && typeof value.id === 'string' && /^[A-Za-z0-9._:-]{1,64}$/.test(value.id) ? value.id : undefined;
  if (!validator.Check(value)) {
    return { ok: false, type, ...(commandId ? { commandId } : {}), error: { code: commandId ? 'invalid_command' : 'invalid_message', message: `The ${type} message does not match its schema`, details: { errors: problems(validator, value) } } };
  }
  if (type === 'command') {
    const command: unknown = (value as { command: unknown }).command;
    const commandType = (command as { type: string }).type;
    const cv = commandValidators.get(commandType)!;
    if (!cv.Check(command)) {
      return { ok: false, type, commandId: commandId!, error: { code: 'invalid_command', message: `The ${commandType} command does not match its schema`, details: { errors: problems(cv, command) } } };
    }
    return { ok: true, msg: value as unknown as CommandMsg };
  }
  return { ok: true, msg: value as unknown as Exclude<ClientMessage, { type: 'command' }> };
}

export type CommandReply =
  | { ok: true; result: Record<string, unknown> }
  | { ok: false; error: ProtocolError };

/**
 * Retries are idempotent per socket: a command id seen before gets the first run's reply (or
 * waits for it while it runs) and is not run again. The newest `max` ids are remembered.
 */
export class CommandDedupe {
  private readonly replies = new Map<string, Promise<CommandReply>>();

  constructor(private readonly max = 500) {}

  run(id: string, execute: () => Promise<CommandReply>): { reply: Promise<CommandReply>; repeated: boolean } {
    const known = this.replies.get(id);
    if (known) return { reply: known, repeated: true };
    const reply = execute();
    this.replies.set(id, reply);
    if (this.replies.size > this.max) this.replies.delete(this.replies.keys().next().value!);
    return { reply, repeated: false };
  }

  get size(): number {
    return this.replies.size;
  }
}

export type ResumePlan =
  /** No lastSeq: a first connection; the snapshot is the whole truth. */
  | { kind: 'fresh' }
  | { kind: 'up_to_date' }
  | { kind: 'replay'; after: bigint; through: bigint }
  /** ahead: the client names a number this server never gave (another database); too_many: more than MAX_REPLAY missed. */
  | { kind: 'resync'; reason: 'ahead' | 'too_many' | 'expired' };

/** What a reconnecting desktop gets, from its lastSeq and the newest number in the log. */
export function planResume(lastSeq: string | undefined, last: bigint, maxReplay = MAX_REPLAY): ResumePlan {
  if (lastSeq === undefined) return { kind: 'fresh' };
  const seen = BigInt(lastSeq);
  if (seen > last) return { kind: 'resync', reason: 'ahead' };
  if (seen === last) return { kind: 'up_to_date' };
  if (last - seen > BigInt(maxReplay)) return { kind: 'resync', reason: 'too_many' };
  return { kind: 'replay', after: seen, through: last };
}

/**
 * The replayed rows must be every number after `after` through `through`, in order: numbers
 * have no gaps, so a missing one was removed by retention and the desktop must resync.
 */
export function replayComplete(plan: { after: bigint; through: bigint }, seqs: readonly bigint[]): boolean {
  if (BigInt(seqs.length) !== plan.through - plan.after) return false;
  return seqs.every((s, i) => s === plan.after + BigInt(i + 1));
}

/** Close codes (4xxx are ours) and the reason text sent with them. */
export const CLOSE = {
  shuttingDown: 1001,
  heartbeat: 4001,
  slowConsumer: 4002,
  unauthenticated: 4401,
  forbidden: 4403,
  helloTimeout: 4408,
} as const;

/** Roles that may open a desktop socket; the wallboard is for supervisors and admins. */
export const DESKTOP_ROLES = ['agent', 'supervisor', 'admin'] as const;
export const WALLBOARD_ROLES = ['supervisor', 'admin'] as const;
