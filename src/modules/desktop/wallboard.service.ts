/**
 * Supervisor wallboards. Once a second this instance computes the stats of every queue any of
 * its subscribers watches (one set of queries, however many subscribers), slices each
 * subscriber's view, and sends what changed: at most one wallboard_delta per second per
 * subscriber, coalesced when changes come faster, nothing when nothing changed.
 *
 * The next computation starts a full interval after the previous one's sends, so deltas of one
 * tick are at least an interval after those of the tick before. A subscriber whose full state
 * went out less than an interval before a tick skips that tick (its changes come with the next),
 * and from then on is sent to with everyone else, at the tick.
 */
import type { Logger } from 'pino';
import type { Database } from '../../adapters/db/database.js';
import type { Principal } from '../../domain/auth.js';
import type { Clock } from '../../domain/clock.js';
import { NotFoundError } from '../../domain/errors.js';
import type { AgentStatesService } from '../agents/agent-states.service.js';
import type { DesktopRepository, QueueRow } from './desktop.repository.js';
import {
  diffWallboard, round, serviceLevel, shanghaiDayStart, viewFor,
  type QueueStats, type WallboardAgent, type WallboardDelta, type WallboardScope, type WallboardSnapshot, type WallboardView,
} from './wallboard.delta.js';

export interface WallboardSubscriber {
  readonly principal: Principal;
  sendWallboard(type: 'wallboard', body: WallboardView): void;
  sendWallboard(type: 'wallboard_delta', body: WallboardDelta): void;
}

interface Subscription {
  readonly scope: WallboardScope;
  last: WallboardView;
  lastSentAt: number;
  /** A view held back a few milliseconds so that two messages are never less than an interval apart. */
  pending: WallboardView | undefined;
  timer: NodeJS.Timeout | undefined;
}

/** Timer jitter: a subscriber due within this is sent to a moment later instead of skipping the tick. */
const JITTER_MS = 50;

export interface WallboardDeps {
  readonly db: Database;
  readonly repo: DesktopRepository;
  readonly agentStates: Pick<AgentStatesService, 'list'>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Compute period and the least time between two messages to one subscriber. */
  readonly intervalMs?: number;
}

export class WallboardService {
  private readonly subs = new Map<WallboardSubscriber, Subscription>();
  /** Subscriptions being set up, so a second subscribe from the same socket wins over the first. */
  private readonly generation = new Map<WallboardSubscriber, number>();
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private started = false;
  private ticks = 0;

  constructor(private readonly deps: WallboardDeps) {
    this.intervalMs = deps.intervalMs ?? 1000;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    const loop = () => {
      this.timer = setTimeout(() => void this.tick().finally(() => {
        if (this.started) loop();
      }), this.intervalMs);
      this.timer.unref();
    };
    loop();
  }

  async stop(): Promise<void> {
    this.started = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const s of this.subs.values()) if (s.timer) clearTimeout(s.timer);
    this.subs.clear();
    await this.running;
  }

  get subscribers(): number {
    return this.subs.size;
  }

  /** Computations done so far (tests and the benchmark watch it). */
  get computed(): number {
    return this.ticks;
  }

  /** Sends the full wallboard, then deltas. Throws queue_not_found for unknown queue ids. */
  async subscribe(sub: WallboardSubscriber, queueIds: readonly string[] | undefined): Promise<void> {
    const gen = (this.generation.get(sub) ?? 0) + 1;
    this.generation.set(sub, gen);
    const scope: WallboardScope = { queueIds: queueIds ? [...queueIds] : undefined, centreId: sub.principal.centreId, allCentres: sub.principal.role === 'admin' };
    const rows = await this.deps.repo.queues(this.deps.db, queueIds);
    if (queueIds) {
      const known = new Set(rows.map((r) => r.id));
      const unknown = queueIds.filter((id) => !known.has(id));
      if (unknown.length) throw new NotFoundError('Queue', unknown.join(', '), 'queue_not_found');
    }
    const view = viewFor(scope, await this.compute(rows));
    if (this.generation.get(sub) !== gen) return; // a newer subscribe from this socket
    this.drop(sub);
    sub.sendWallboard('wallboard', view);
    this.subs.set(sub, { scope, last: view, lastSentAt: performance.now(), pending: undefined, timer: undefined });
  }

  unsubscribe(sub: WallboardSubscriber): void {
    this.generation.set(sub, (this.generation.get(sub) ?? 0) + 1);
    this.drop(sub);
    this.generation.delete(sub);
  }

  /** One computation for all subscribers; skipped while the previous one still runs. */
  tick(): Promise<void> {
    if (this.running || this.subs.size === 0) return this.running ?? Promise.resolve();
    this.running = this.refresh()
      .catch((err: unknown) => this.deps.logger.warn({ err }, 'wallboard refresh failed'))
      .finally(() => { this.running = undefined; });
    return this.running;
  }

  private async refresh(): Promise<void> {
    const scopes = [...this.subs.values()].map((s) => s.scope);
    const explicit = [...new Set(scopes.flatMap((s) => s.queueIds ?? []))];
    const rows = new Map<string, QueueRow>();
    if (scopes.some((s) => !s.queueIds)) for (const r of await this.deps.repo.queues(this.deps.db, undefined)) rows.set(r.id, r);
    const missing = explicit.filter((id) => !rows.has(id));
    if (missing.length) for (const r of await this.deps.repo.queues(this.deps.db, missing)) rows.set(r.id, r);
    const snap = await this.compute([...rows.values()]);
    for (const [sub, s] of this.subs) this.offer(sub, s, viewFor(s.scope, snap));
  }

  private offer(sub: WallboardSubscriber, s: Subscription, view: WallboardView): void {
    const wait = s.lastSentAt + this.intervalMs - performance.now();
    if (wait > JITTER_MS) return; // just subscribed: the next tick carries these changes
    s.pending = view;
    if (wait <= 0) this.flush(sub, s);
    else s.timer ??= setTimeout(() => this.flush(sub, s), wait);
  }

  private flush(sub: WallboardSubscriber, s: Subscription): void {
    if (s.timer) clearTimeout(s.timer);
    s.timer = undefined;
    const view = s.pending;
    s.pending = undefined;
    if (!view || this.subs.get(sub) !== s) return;
    const delta = diffWallboard(s.last, view);
    if (!delta) return;
    s.last = view;
    s.lastSentAt = performance.now();
    sub.sendWallboard('wallboard_delta', delta);
  }

  private drop(sub: WallboardSubscriber): void {
    const s = this.subs.get(sub);
    if (s?.timer) clearTimeout(s.timer);
    this.subs.delete(sub);
  }

  /** The stats of these queues and every agent's state, now. */
  private async compute(queues: readonly QueueRow[]): Promise<WallboardSnapshot> {
    this.ticks += 1;
    const { db, repo } = this.deps;
    const now = this.deps.clock.now();
    const dayStart = shanghaiDayStart(now);
    const ids = queues.map((q) => q.id);
    // One after the other: four light queries a second should not take four pool connections.
    const live = new Map((await repo.live(db, ids)).map((r) => [r.queueId, r]));
    const today = new Map((await repo.today(db, ids, dayStart)).map((r) => [r.queueId, r]));
    const aht = new Map((await repo.handleTimes(db, ids, dayStart)).map((r) => [r.queueId, r.ahtSeconds]));
    const agents = await this.deps.agentStates.list({ limit: 10_000 });

    const out = new Map<string, { centreId: string; stats: QueueStats }>();
    for (const q of queues) {
      const l = live.get(q.id);
      const t = today.get(q.id);
      const h = aht.get(q.id);
      out.set(q.id, {
        centreId: q.centreId,
        stats: {
          code: q.code, name: q.name, serviceLevelSeconds: q.serviceLevelSeconds,
          waiting: l?.waiting ?? 0,
          offering: l?.offering ?? 0,
          longestWaitSeconds: l?.oldest ? Math.max(0, Math.floor((now.getTime() - l.oldest.getTime()) / 1000)) : 0,
          answered: t?.answered ?? 0,
          abandoned: t?.abandoned ?? 0,
          serviceLevel: t ? serviceLevel(t) : null,
          averageSpeedOfAnswerSeconds: t?.asaSeconds != null ? round(t.asaSeconds) : null,
          averageHandleSeconds: h !== undefined ? round(h) : null,
        },
      });
    }
    const agentMap = new Map<string, WallboardAgent>(agents.map((a) => [a.agentId, {
      displayName: a.displayName, centreId: a.centreId, state: a.state, reason: a.reason, since: a.since, extension: a.extension, callId: a.callId,
    }]));
    return { queues: out, agents: agentMap };
  }
}
