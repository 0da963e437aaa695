/**
 * One desktop connection: authentication (Bearer header on the upgrade, or the hello's token),
 * the welcome with its snapshot and replay, commands, heartbeats, the wallboard stream and
 * backpressure. Transport-free: it talks to a `DesktopSocket`, so unit tests use a fake.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { hasRole, type Principal } from '../../domain/auth.js';
import type { Clock } from '../../domain/clock.js';
import { DomainError, UnauthenticatedError } from '../../domain/errors.js';
import type { AgentStateView, AgentStatesService } from '../agents/agent-states.service.js';
import type { AuthService } from '../auth/auth.service.js';
import type { DesktopHub, HubMember } from './desktop.hub.js';
import type { CallControlPort } from './desktop.ports.js';
import {
  CLOSE, CommandDedupe, DESKTOP_ROLES, WALLBOARD_ROLES, parseClientMessage,
  type ClientMessage, type Command, type CommandMsg, type CommandReply, type HelloMsg, type ProtocolError,
} from './desktop.protocol.js';
import { AGENT_STATE_COMMANDS, PROTOCOL_VERSION } from './desktop.schemas.js';
import type { DesktopService } from './desktop.service.js';
import type { WallboardDelta, WallboardView } from './wallboard.delta.js';
import type { WallboardService, WallboardSubscriber } from './wallboard.service.js';

/** The transport under a session (a `ws` WebSocket in production). */
export interface DesktopSocket {
  send(text: string): void;
  readonly bufferedAmount: number;
  close(code: number, reason: string): void;
  /** A WebSocket protocol ping (keeps proxies and NAT from dropping an idle connection). */
  ping(): void;
  terminate(): void;
}

/** What the upgrade request carried. */
export interface UpgradeAuth {
  readonly bearer: string | undefined;
  readonly apiKey: boolean;
  readonly malformed: boolean;
}

export interface SessionContext {
  readonly auth: Pick<AuthService, 'authenticateToken'>;
  readonly agentStates: Pick<AgentStatesService, 'login' | 'logout' | 'changeBy' | 'get'>;
  readonly callControl: () => CallControlPort | undefined;
  readonly log: Pick<DesktopService, 'lastSeq' | 'resume' | 'opened' | 'closed'>;
  /** Records a log message for a user and delivers it here at once. */
  readonly publish: (agentId: string, type: string, payload: Record<string, unknown>) => Promise<void>;
  readonly hub: DesktopHub;
  readonly wallboard: Pick<WallboardService, 'subscribe' | 'unsubscribe'>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly settings: { readonly heartbeatMs: number; readonly helloTimeoutMs: number; readonly maxBufferedBytes: number };
  readonly instanceId: string;
  /** Desktops seen since then count as open (the presence heartbeat). */
  readonly freshSince: () => Date;
  /** The gateway's bookkeeping: open sessions get heartbeats and session checks. */
  readonly onOpen: (s: DesktopSession) => void;
  readonly onClosed: (s: DesktopSession, work: Promise<void>) => void;
  /** True while the instance shuts down: closing desktops then skip their per-socket writes. */
  readonly shuttingDown: () => boolean;
}

type Phase = 'hello' | 'opening' | 'open' | 'closed';

const ALWAYS_ERROR_CODE = 'internal_error';

export class DesktopSession implements HubMember, WallboardSubscriber {
  readonly id = randomUUID();
  through = 0n;
  private phase: Phase = 'hello';
  private user: Principal | undefined;
  private sessionToken: string | undefined;
  private headerAuth: Promise<Principal | undefined> | undefined;
  private helloTimer: NodeJS.Timeout | undefined;
  private opened: Promise<void> | undefined;
  private unanswered = 0;
  private wasOpen = false;
  private readonly commands = new CommandDedupe();
  private readonly log: Logger;

  constructor(private readonly socket: DesktopSocket, private readonly ctx: SessionContext, upgrade: UpgradeAuth) {
    this.log = ctx.logger.child({ desktopId: this.id });
    if (upgrade.malformed) {
      this.close(CLOSE.unauthenticated, 'authorization_malformed');
      return;
    }
    if (upgrade.bearer === undefined && upgrade.apiKey) {
      this.close(CLOSE.forbidden, 'api_key_not_allowed');
      return;
    }
    if (upgrade.bearer !== undefined) {
      const token = upgrade.bearer;
      this.headerAuth = this.authenticate(token);
    }
    this.helloTimer = setTimeout(() => this.close(CLOSE.helloTimeout, 'hello_timeout'), ctx.settings.helloTimeoutMs);
    this.helloTimer.unref();
  }

  get userId(): string {
    return this.user?.id ?? '';
  }

  get principal(): Principal {
    return this.user!;
  }

  /** The session token this desktop authenticated with (re-checked by the gateway; never logged). */
  get token(): string | undefined {
    return this.sessionToken;
  }

  get isOpen(): boolean {
    return this.phase === 'open';
  }

  /** A method, not a field read: the phase changes across awaits. */
  private isClosed(): boolean {
    return this.phase === 'closed';
  }

  // ---------------------------------------------------------------- transport events

  onMessage(text: string): void {
    if (this.phase === 'closed') return;
    this.unanswered = 0; // any message proves the desktop is alive
    const parsed = parseClientMessage(text);
    if (!parsed.ok) {
      if (parsed.commandId) this.reply(parsed.commandId, { ok: false, error: parsed.error });
      else this.sendError(parsed.error, parsed.type ? { type: parsed.type } : undefined);
      return;
    }
    const msg = parsed.msg;
    if (this.phase === 'hello') {
      if (msg.type !== 'hello') {
        this.sendError({ code: 'hello_required', message: 'Send hello first' }, { type: msg.type });
        return;
      }
      this.phase = 'opening';
      this.opened = this.hello(msg);
      return;
    }
    // Messages sent right after hello wait for the welcome.
    if (this.phase === 'opening') void this.opened!.then(() => this.handle(msg));
    else this.handle(msg);
  }

  onBinary(): void {
    this.unanswered = 0;
    this.sendError({ code: 'binary_not_supported', message: 'Messages are JSON text frames' });
  }

  /** The socket closed (either side). */
  onClose(): void {
    this.cleanup();
  }

  // ---------------------------------------------------------------- gateway duties

  /** One heartbeat: close after two unanswered pings, else ping again. */
  beat(): void {
    if (this.phase !== 'open') return;
    if (this.unanswered >= 2) {
      this.close(CLOSE.heartbeat, 'heartbeat_timeout');
      return;
    }
    this.unanswered += 1;
    this.send({ type: 'ping' });
    try {
      this.socket.ping();
    } catch {
      // the socket is closing; its close event cleans up
    }
  }

  close(code: number, reason: string): void {
    if (this.phase === 'closed') return;
    this.log.info({ userId: this.user?.id, code, reason }, 'desktop closed by the server');
    this.cleanup();
    try {
      this.socket.close(code, reason);
    } catch {
      this.socket.terminate();
    }
    // A peer that never completes the closing handshake is cut off.
    setTimeout(() => this.socket.terminate(), 2000).unref();
  }

  // ---------------------------------------------------------------- sending

  /** Every frame goes through here: a socket that cannot keep up is closed, not buffered without bound. */
  sendText(text: string): void {
    if (this.phase === 'closed') return;
    if (this.socket.bufferedAmount > this.ctx.settings.maxBufferedBytes) {
      this.close(CLOSE.slowConsumer, 'slow_consumer');
      return;
    }
    try {
      this.socket.send(text);
    } catch (err) {
      this.log.debug({ err }, 'desktop send failed');
    }
  }

  sendWallboard(type: 'wallboard' | 'wallboard_delta', body: WallboardView | WallboardDelta): void {
    this.send({ type, ...body });
  }

  private send(body: { type: string; [k: string]: unknown }): void {
    const { type, ...rest } = body;
    this.sendText(JSON.stringify({ v: PROTOCOL_VERSION, type, at: this.ctx.clock.now().toISOString(), ...rest }));
  }

  private sendError(error: ProtocolError, ref?: { type?: string; id?: string }): void {
    this.send({ type: 'error', code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}), ...(ref ? { ref } : {}) });
  }

  private reply(id: string, r: CommandReply): void {
    this.send(r.ok ? { type: 'command_result', id, ok: true, result: r.result } : { type: 'command_result', id, ok: false, error: r.error });
  }

  // ---------------------------------------------------------------- hello and welcome

  private async authenticate(token: string): Promise<Principal | undefined> {
    if (/^hk_/.test(token)) {
      this.close(CLOSE.forbidden, 'api_key_not_allowed');
      return undefined;
    }
    try {
      const principal = await this.ctx.auth.authenticateToken(token);
      if (!hasRole(principal, DESKTOP_ROLES)) {
        this.close(CLOSE.forbidden, 'role_forbidden');
        return undefined;
      }
      this.sessionToken = token;
      return principal;
    } catch (err) {
      if (err instanceof UnauthenticatedError) this.close(CLOSE.unauthenticated, err.code);
      else {
        this.log.error({ err }, 'desktop authentication failed');
        this.close(1011, 'internal_error');
      }
      return undefined;
    }
  }

  private async hello(msg: HelloMsg): Promise<void> {
    let principal: Principal | undefined;
    if (this.headerAuth) principal = await this.headerAuth;
    else if (msg.token) principal = await this.authenticate(msg.token);
    else {
      this.close(CLOSE.unauthenticated, 'token_required');
      return;
    }
    if (!principal || this.phase === 'closed') return;
    this.user = principal;
    if (this.helloTimer) clearTimeout(this.helloTimer);
    this.helloTimer = undefined;
    try {
      const desktops = await this.ctx.log.opened({ id: this.id, userId: principal.id, instanceId: this.ctx.instanceId }, this.ctx.freshSince());
      if (this.isClosed()) {
        // Gone while registering: cleanup() ran before there was a row to remove.
        await this.ctx.log.closed(this.id, principal.id, this.ctx.freshSince());
        return;
      }
      this.wasOpen = true;
      await this.ctx.hub.join(principal.id, () => this.welcome(principal, msg.lastSeq, desktops));
      if (this.phase !== 'open') return;
      this.ctx.onOpen(this);
      this.log.info({ userId: principal.id, role: principal.role, desktops }, 'desktop open');
      await this.ctx.publish(principal.id, 'desktop.presence', { desktopId: this.id, change: 'opened', open: desktops });
    } catch (err) {
      this.log.error({ err, userId: principal.id }, 'desktop welcome failed');
      this.close(1011, 'internal_error');
    }
  }

  /** Runs in the user's delivery queue: nothing for this user is delivered between these reads and the welcome. */
  private async welcome(principal: Principal, lastSeq: string | undefined, desktops: number): Promise<HubMember | null> {
    // The number first: every message after it reaches this desktop live, so a state read after it is never older than the log.
    const last = await this.ctx.log.lastSeq(principal.id);
    const agent = await this.agentView(principal);
    const currentCall = await this.currentCall(principal.id);
    const { resync, messages } = await this.ctx.log.resume(principal.id, lastSeq, last);
    if (this.phase === 'closed') return null;
    this.phase = 'open';
    this.through = last;
    this.send({
      type: 'welcome', desktopId: this.id, user: { id: principal.id, name: principal.name, role: principal.role },
      desktops, lastSeq: last.toString(), resync, missed: messages.length, heartbeatMs: this.ctx.settings.heartbeatMs,
      snapshot: { agent, currentCall },
    });
    for (const m of messages) this.sendText(JSON.stringify({ v: PROTOCOL_VERSION, type: m.type, seq: m.seq, at: m.at, payload: m.payload }));
    return this;
  }

  private async agentView(principal: Principal): Promise<AgentStateView | null> {
    try {
      return await this.ctx.agentStates.get(principal, principal.id);
    } catch (err) {
      if ((err as { code?: string }).code === 'not_an_agent') return null; // a supervisor or admin without a phone
      throw err;
    }
  }

  private async currentCall(agentId: string): Promise<Record<string, unknown> | null> {
    const port = this.ctx.callControl();
    if (!port) return null;
    try {
      return await port.currentCall(agentId);
    } catch (err) {
      this.log.warn({ err, agentId }, 'current call unavailable for the desktop snapshot');
      return null;
    }
  }

  // ---------------------------------------------------------------- messages after the welcome

  private handle(msg: Exclude<ClientMessage, { type: 'command' }> | CommandMsg): void {
    if (this.phase !== 'open') return;
    switch (msg.type) {
      case 'hello':
        this.sendError({ code: 'already_authenticated', message: 'This desktop has said hello already' }, { type: 'hello' });
        return;
      case 'ping':
        this.send({ type: 'pong', ...(msg.id !== undefined ? { id: msg.id } : {}) });
        return;
      case 'pong':
        return;
      case 'command': {
        const { reply } = this.commands.run(msg.id, () => this.execute(msg.command));
        void reply.then((r) => this.reply(msg.id, r));
        return;
      }
      case 'subscribe_wallboard':
        if (!hasRole(this.principal, WALLBOARD_ROLES)) {
          this.sendError({ code: 'role_forbidden', message: 'The wallboard is for supervisors and admins', details: { allowed: [...WALLBOARD_ROLES] } }, { type: msg.type });
          return;
        }
        this.ctx.wallboard.subscribe(this, msg.queueIds).catch((err: unknown) => {
          if (this.phase === 'open') this.sendError(toProtocolError(err, this.log), { type: 'subscribe_wallboard' });
        });
        return;
      case 'unsubscribe_wallboard':
        this.ctx.wallboard.unsubscribe(this);
        return;
    }
  }

  private async execute(command: Command): Promise<CommandReply> {
    try {
      const principal = this.principal;
      if (AGENT_STATE_COMMANDS.includes(command.type)) return { ok: true, result: { agent: await this.agentCommand(principal, command) } };
      const port = this.ctx.callControl();
      if (!port) return { ok: false, error: { code: 'call_control_unavailable', message: 'Call control is not available on this server yet' } };
      return { ok: true, result: await port.command(principal, command) };
    } catch (err) {
      return { ok: false, error: toProtocolError(err, this.log) };
    }
  }

  private agentCommand(principal: Principal, command: Command): Promise<AgentStateView> {
    const states = this.ctx.agentStates;
    switch (command.type) {
      case 'login':
        return states.login(principal, {
          ...(command.extension ? { extension: command.extension } : {}), ...(command.state ? { state: command.state } : {}), ...(command.reason ? { reason: command.reason } : {}),
        });
      case 'logout':
        return states.logout(principal);
      case 'ready':
        return states.changeBy(principal, principal.id, { state: 'ready' });
      case 'not_ready':
        return states.changeBy(principal, principal.id, { state: 'not_ready', reason: command.reason });
      default:
        throw new Error(`not an agent state command: ${command.type}`);
    }
  }

  // ---------------------------------------------------------------- closing

  private cleanup(): void {
    const wasOpen = this.wasOpen;
    this.phase = 'closed';
    this.wasOpen = false;
    if (this.helloTimer) clearTimeout(this.helloTimer);
    this.helloTimer = undefined;
    if (!wasOpen || !this.user) return;
    const user = this.user;
    this.ctx.hub.leave(this);
    this.ctx.wallboard.unsubscribe(this);
    const work = this.ctx.shuttingDown() ? Promise.resolve() : (async () => {
      try {
        const open = await this.ctx.log.closed(this.id, user.id, this.ctx.freshSince());
        await this.ctx.publish(user.id, 'desktop.presence', { desktopId: this.id, change: 'closed', open });
      } catch (err) {
        this.log.warn({ err, userId: user.id }, 'desktop close not recorded');
      }
    })();
    this.ctx.onClosed(this, work);
  }
}

/** A refusal as the client sees it: domain errors keep their code; anything else is internal. */
export function toProtocolError(err: unknown, log: Logger): ProtocolError {
  if (err instanceof DomainError) return { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) };
  log.error({ err }, 'desktop command failed');
  return { code: ALWAYS_ERROR_CODE, message: 'The command failed; try again' };
}
