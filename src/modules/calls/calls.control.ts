/**
 * Desktop commands, wherever the call is. The agent's socket may be on one instance while the
 * call's session runs on the instance holding its Asterisk node: a command for a call that is
 * not here is sent to that instance over PostgreSQL NOTIFY and its reply comes back the same
 * way (payloads are small; a lost notification shows as a clear timeout, never a hang).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Database } from '../../adapters/db/database.js';
import { requireRole, type Principal } from '../../domain/auth.js';
import { DomainError, NotFoundError, TimeoutError, ValidationError } from '../../domain/errors.js';
import type { AgentStatesService } from '../agents/agent-states.service.js';
import type { CallsRepository } from './calls.repository.js';
import type { CallsService } from './calls.service.js';
import type { CommandActor, CallSession } from './calls.session.js';

export const CALL_COMMAND_CHANNEL = 'hotline_call_command';
const REMOTE_TIMEOUT_MS = 5000;

export type DesktopCommand = { type: string; [k: string]: unknown };

/** A refusal that happened on another instance, with its code and status intact. */
export class RemoteCommandError extends DomainError {
  readonly code: string;
  readonly status: number;
  constructor(message: string, code: string, status: number, details?: Record<string, unknown>) {
    super(message, details);
    this.code = code;
    this.status = status;
  }
}

interface Request { kind: 'request'; id: string; to: string; from: string; callId: string; op: 'command' | 'supervise' | 'stop_supervising'; actor: CommandActor; command: DesktopCommand }
interface Reply { kind: 'reply'; id: string; to: string; ok: boolean; result?: Record<string, unknown>; error?: { message: string; code: string; status: number; details?: Record<string, unknown> } }

export interface ControlDeps {
  readonly db: Database;
  readonly calls: CallsRepository;
  readonly service: CallsService;
  readonly agentStates: AgentStatesService;
  readonly session: (callId: string) => CallSession | undefined;
  readonly instanceId: string;
  /** Sends a NOTIFY on the command channel. */
  readonly notify: (payload: string) => Promise<void>;
  readonly currentCallView: (agentId: string) => Promise<Record<string, unknown> | null>;
  readonly logger: Logger;
}

const SUPERVISION = ['supervisor', 'admin'] as const;

export class CallControl {
  private readonly pending = new Map<string, { resolve(r: Reply): void; timer: NodeJS.Timeout }>();

  constructor(private readonly deps: ControlDeps) {}

  async command(principal: Principal, command: DesktopCommand): Promise<Record<string, unknown>> {
    if (principal.kind !== 'user') throw new ValidationError('Desktop commands come from users', {}, 'desktop_user_required');
    const actor: CommandActor = { id: principal.id, role: principal.role };
    switch (command.type) {
      case 'end_wrap_up': {
        const view = await this.deps.agentStates.change(principal.id, 'ready', { actor: { type: 'agent', id: principal.id }, expectedState: 'wrap_up' });
        return { state: view.state };
      }
      case 'bind_ticket': {
        const ticketId = stringField(command, 'ticketId');
        const callId = typeof command.callId === 'string' ? command.callId : (await this.currentCallOf(principal.id)).id;
        return this.deps.service.bindTicket(principal, callId, ticketId);
      }
      case 'monitor':
      case 'whisper':
      case 'barge': {
        requireRole(principal, SUPERVISION);
        const call = await this.currentCallOf(stringField(command, 'agentId'));
        return this.route(call.id, call.nodeId, 'supervise', actor, command);
      }
      case 'stop_monitor': {
        const live = await this.deps.calls.liveMonitorOf(this.deps.db, principal.id);
        if (!live) throw new NotFoundError('Monitoring session', principal.id, 'not_monitoring');
        const call = await this.deps.calls.find(this.deps.db, live.callId);
        return this.route(live.callId, call!.nodeId, 'stop_supervising', actor, command);
      }
      default: {
        const call = await this.currentCallOf(principal.id);
        return this.route(call.id, call.nodeId, 'command', actor, command);
      }
    }
  }

  currentCall(agentId: string): Promise<Record<string, unknown> | null> {
    return this.deps.currentCallView(agentId);
  }

  /** A request from another instance (or a reply to ours), from the NOTIFY channel. */
  onNotification(payload: string | undefined): void {
    if (!payload) return;
    let msg: Request | Reply;
    try {
      msg = JSON.parse(payload) as Request | Reply;
    } catch {
      this.deps.logger.warn('malformed call command notification');
      return;
    }
    if (msg.to !== this.deps.instanceId) return;
    if (msg.kind === 'reply') {
      const p = this.pending.get(msg.id);
      if (!p) return;
      clearTimeout(p.timer);
      this.pending.delete(msg.id);
      p.resolve(msg);
      return;
    }
    void this.runHere(msg.callId, msg.op, msg.actor, msg.command)
      .then((result) => ({ kind: 'reply', id: msg.id, to: msg.from, ok: true, result }) satisfies Reply, (err: unknown) => ({ kind: 'reply', id: msg.id, to: msg.from, ok: false, error: errorOf(err) }) satisfies Reply)
      .then((reply) => this.deps.notify(JSON.stringify(reply)))
      .catch((err: unknown) => this.deps.logger.error({ err }, 'could not reply to a call command'));
  }

  private async currentCallOf(agentId: string): Promise<{ id: string; nodeId: string }> {
    const row = await this.deps.calls.currentOfAgent(this.deps.db, agentId);
    if (!row) throw new NotFoundError('Call of agent', agentId, 'no_current_call');
    return row;
  }

  private async route(callId: string, nodeId: string, op: Request['op'], actor: CommandActor, command: DesktopCommand): Promise<Record<string, unknown>> {
    if (this.deps.session(callId)) return this.runHere(callId, op, actor, command);
    const to = await this.deps.calls.instanceOfNode(this.deps.db, nodeId);
    if (!to || to === this.deps.instanceId) throw new NotFoundError('Call session', callId, 'call_session_unavailable');
    const id = randomUUID();
    const reply = await new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new TimeoutError('The instance handling this call did not answer in time; try again', 'call_command_timeout'));
      }, REMOTE_TIMEOUT_MS);
      this.pending.set(id, { resolve, timer });
      const req: Request = { kind: 'request', id, to, from: this.deps.instanceId, callId, op, actor, command };
      this.deps.notify(JSON.stringify(req)).catch((err: unknown) => {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(err instanceof Error ? err : new Error(String(err)));
      });
    });
    if (reply.ok) return reply.result ?? {};
    const e = reply.error!;
    throw new RemoteCommandError(e.message, e.code, e.status, e.details);
  }

  private runHere(callId: string, op: Request['op'], actor: CommandActor, command: DesktopCommand): Promise<Record<string, unknown>> {
    const s = this.deps.session(callId);
    if (!s) return Promise.reject(new NotFoundError('Call session', callId, 'call_session_unavailable'));
    switch (op) {
      case 'supervise':
        return s.supervise(actor, command.type as 'monitor' | 'whisper' | 'barge');
      case 'stop_supervising':
        return s.stopSupervising(actor.id);
      default:
        return s.command(command, actor);
    }
  }

  close(): void {
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
  }
}

function stringField(c: DesktopCommand, field: string): string {
  const v = c[field];
  if (typeof v !== 'string' || v.length === 0 || v.length > 100) throw new ValidationError(`The ${c.type} command needs ${field}`, { field }, 'command_field_required');
  return v;
}

function errorOf(err: unknown): NonNullable<Reply['error']> {
  if (err instanceof DomainError) return { message: err.message, code: err.code, status: err.status, ...(err.details ? { details: err.details } : {}) };
  return { message: 'The command failed on the instance handling the call', code: 'call_command_failed', status: 500 };
}
