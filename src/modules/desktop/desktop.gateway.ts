/**
 * This instance's desktop sockets as a whole: creates a session per connection, drives the
 * heartbeats (one timer for all sockets), re-checks the sessions they signed in with (a revoked
 * or expired session closes its sockets), keeps their presence rows fresh, runs the retention
 * sweep, and closes everything at shutdown.
 */
import type { Logger } from 'pino';
import type { UnauthenticatedError } from '../../domain/errors.js';
import type { AuthService } from '../auth/auth.service.js';
import { CLOSE } from './desktop.protocol.js';
import type { DesktopService } from './desktop.service.js';
import { DesktopSession, type DesktopSocket, type SessionContext, type UpgradeAuth } from './desktop.session.js';

export type GatewayDeps = Omit<SessionContext, 'onOpen' | 'onClosed' | 'shuttingDown' | 'freshSince' | 'log' | 'auth'> & {
  readonly auth: Pick<AuthService, 'authenticateToken' | 'checkTokens'>;
  readonly log: Pick<DesktopService, 'lastSeq' | 'resume' | 'opened' | 'closed' | 'touch' | 'prune' | 'pruneConnections' | 'closeInstance'>;
  readonly sweepMs?: number;
};

const SESSION_CHECK_BATCH = 500;

export class DesktopGateway {
  private readonly sessions = new Set<DesktopSession>();
  private readonly closing = new Set<Promise<void>>();
  private readonly ctx: SessionContext;
  private beatTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private sweeping: Promise<void> | undefined;
  private shutting = false;
  private readonly logger: Logger;

  constructor(private readonly deps: GatewayDeps) {
    this.logger = deps.logger;
    this.ctx = {
      ...deps,
      freshSince: () => new Date(deps.clock.now().getTime() - 3 * deps.settings.heartbeatMs),
      onOpen: (s) => this.sessions.add(s),
      onClosed: (s, work) => {
        this.sessions.delete(s);
        this.closing.add(work);
        void work.finally(() => this.closing.delete(work));
      },
      shuttingDown: () => this.shutting,
    };
  }

  connect(socket: DesktopSocket, upgrade: UpgradeAuth): DesktopSession {
    return new DesktopSession(socket, this.ctx, upgrade);
  }

  /** Open (welcomed) desktops on this instance. */
  get open(): number {
    return this.sessions.size;
  }

  start(): void {
    this.beatTimer ??= setInterval(() => this.beat(), this.deps.settings.heartbeatMs);
    this.beatTimer.unref();
    this.sweepTimer ??= setInterval(() => void this.sweep(), this.deps.sweepMs ?? 60_000);
    this.sweepTimer.unref();
  }

  /** At shutdown, before the HTTP server closes: desktops reconnect to another instance. */
  closeAll(): void {
    this.shutting = true;
    for (const s of [...this.sessions]) s.close(CLOSE.shuttingDown, 'server_shutting_down');
  }

  async stop(): Promise<void> {
    this.closeAll();
    if (this.beatTimer) clearInterval(this.beatTimer);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.beatTimer = undefined;
    this.sweepTimer = undefined;
    await Promise.allSettled([...this.closing, this.checking, this.sweeping]);
    await this.deps.log.closeInstance(this.deps.instanceId).catch((err: unknown) => this.logger.warn({ err }, 'desktop presence rows not removed; they go stale'));
  }

  /** Heartbeat of every socket, presence refresh, then the session re-check. */
  beat(): void {
    for (const s of [...this.sessions]) s.beat();
    if (this.sessions.size > 0) void this.deps.log.touch(this.deps.instanceId).catch((err: unknown) => this.logger.warn({ err }, 'desktop presence not refreshed'));
    this.checking ??= this.checkSessions().finally(() => { this.checking = undefined; });
  }

  /** Each distinct session token once: a revoked, expired or disabled one closes its desktops. */
  async checkSessions(): Promise<void> {
    const byToken = new Map<string, DesktopSession[]>();
    for (const s of this.sessions) {
      if (!s.token) continue;
      const list = byToken.get(s.token);
      if (list) list.push(s);
      else byToken.set(s.token, [s]);
    }
    const tokens = [...byToken.keys()];
    // In batches, one query each: a thousand desktops used to cost a thousand queries a beat.
    for (let i = 0; i < tokens.length; i += SESSION_CHECK_BATCH) {
      let verdicts: Map<string, UnauthenticatedError | null>;
      try {
        verdicts = await this.deps.auth.checkTokens(tokens.slice(i, i + SESSION_CHECK_BATCH));
      } catch (err) {
        // The database is down, say: that ends no session; the next beat checks again.
        this.logger.warn({ err }, 'desktop session check failed');
        return;
      }
      for (const [token, refused] of verdicts) if (refused) for (const s of byToken.get(token) ?? []) s.close(CLOSE.unauthenticated, refused.code);
    }
  }

  sweep(): Promise<void> {
    this.sweeping ??= (async () => {
      try {
        const pruned = await this.deps.log.prune();
        const stale = await this.deps.log.pruneConnections(new Date(this.deps.clock.now().getTime() - 10 * this.deps.settings.heartbeatMs));
        if (pruned || stale) this.logger.info({ pruned, staleDesktops: stale }, 'desktop retention sweep');
      } catch (err) {
        this.logger.warn({ err }, 'desktop retention sweep failed');
      }
    })().finally(() => { this.sweeping = undefined; });
    return this.sweeping;
  }
}
