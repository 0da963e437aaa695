/**
 * Our own ACD. Every decision is one PostgreSQL transaction under an advisory lock shared by
 * all instances: pick the caller (priority class, then longest waiting) and the agent (best skill
 * fit, then longest idle), move the agent ready → ringing, mark the queue entry offered and
 * write the offer row. Only then does the instance holding the caller's Asterisk node originate
 * to the agent's phone. An agent is never offered two calls; a caller is never offered to two
 * agents (also guarded by unique indexes).
 *
 * Work arrives as kicks (an agent turned ready, a caller was queued or re-queued) that are
 * coalesced into passes, plus a periodic sweep that repairs anything a lost kick left behind.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Database, Executor, Tx } from '../../adapters/db/database.js';
import { rankAgents, type AgentCandidate } from '../../domain/acd/index.js';
import type { Clock } from '../../domain/clock.js';
import type { AgentStatesService } from '../agents/agent-states.service.js';
import type { AgentStateRow } from '../agents/agents.repository.js';
import type { OutboxRepository } from '../events/outbox.repository.js';
import type { AcdRepository, AgentSkill, EntryRow, ReadyAgentWithState } from './acd.repository.js';
import { requirementOf, type QueueDirectory } from './queue-directory.js';

export interface AcdOffer {
  readonly offerId: string;
  readonly callId: string;
  readonly agentId: string;
  readonly extension: string;
  readonly nodeId: string;
  /** Our id for the agent leg (given to Asterisk at originate). */
  readonly channelId: string;
  readonly queueId: string;
  readonly ringTimeoutSeconds: number;
  readonly offeredAt: Date;
  /** The agent's phone answers by itself when told: the desktop's answer rings it. */
  readonly autoAnswer: boolean;
}

/** Where a kicked caller waits, as the kicker knows it. */
export interface EntryHint {
  readonly queueId: string;
  readonly nodeId: string;
}

export interface AcdSettings {
  /** A node whose instance has not beaten for this long is treated as gone. */
  readonly liveWithinSeconds: number;
  /** Period of the repair sweep and the node heartbeat. */
  readonly sweepMs: number;
  /** Ready agents considered in one pass. */
  readonly maxAgentsPerPass: number;
  /**
   * Best-caller searches in one pass before it commits and the rest of its work goes to the
   * next pass: offers are rung only after their pass commits, and the pass holds the ACD lock
   * and the offered callers' rows, so a pass over a backlog (a sweep of 1,000 callers) must
   * not run for seconds.
   */
  readonly maxSearchesPerPass: number;
  /** Open offers on a dead node older than this are settled as lost (frees the agent). */
  readonly orphanOfferSeconds: number;
}

export const DEFAULT_ACD_SETTINGS: AcdSettings = { liveWithinSeconds: 6, sweepMs: 1000, maxAgentsPerPass: 500, maxSearchesPerPass: 16, orphanOfferSeconds: 180 };

export interface AcdDeps {
  readonly db: Database;
  readonly repo: AcdRepository;
  readonly agentStates: AgentStatesService;
  readonly queues: QueueDirectory;
  readonly outbox: OutboxRepository;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly instanceId: string;
  /** Nodes this instance holds a live ARI connection to. */
  readonly localNodes: () => readonly { nodeId: string; connected: boolean }[];
  /** Hands a committed offer to the caller's session (same instance). */
  readonly dispatch: (offer: AcdOffer) => void;
  /** Settles an offer nobody will carry out (its node's instance died). */
  readonly settleOrphan: (offerId: string) => Promise<void>;
  readonly settings?: Partial<AcdSettings>;
}

/** Measured per decision, for the benchmark and /readyz. */
export interface AcdStats {
  passes: number;
  offers: number;
  failures: number;
}

/** What a pass left for the next one when it ran out of searches. */
interface Leftover {
  readonly agents: string[];
  readonly entries: Map<string, EntryHint | undefined>;
  sweep: boolean;
}

interface Candidate extends AgentCandidate {
  readonly extension: string;
  readonly autoAnswer: boolean;
  /** The agent's state row as read at the start of the pass. */
  readonly state: AgentStateRow;
}

/** Agents whose skills the ACD keeps; far above any centre's headcount. */
const MAX_CACHED_SKILLS = 20_000;

export class AcdService {
  private readonly settings: AcdSettings;
  private readonly agents = new Set<string>();
  /** Kicked callers, with where they wait when the kicker knew it (saves reading the entry). */
  private readonly entries = new Map<string, EntryHint | undefined>();
  private sweepWanted = false;
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private failureStreak = 0;
  readonly stats: AcdStats = { passes: 0, offers: 0, failures: 0 };
  /** Agents' skills as last read, with the stamp of the agent row they were read at. */
  private readonly skills = new Map<string, { stamp: string; skills: readonly AgentSkill[] }>();

  constructor(private readonly deps: AcdDeps) {
    this.settings = { ...DEFAULT_ACD_SETTINGS, ...deps.settings };
  }

  /** An agent turned ready: offer them the best caller they can serve. */
  kickAgent(agentId: string): void {
    this.agents.add(agentId);
    this.schedule();
  }

  /** A caller was queued or re-queued: find them the best agent. */
  kickEntry(callId: string, hint?: EntryHint): void {
    this.entries.set(callId, hint ?? this.entries.get(callId));
    this.schedule();
  }

  start(): void {
    this.stopped = false;
    const tick = () => {
      void this.tick().finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.settings.sweepMs).unref();
      });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    const nodes = this.deps.localNodes().map((n) => n.nodeId);
    await this.deps.repo.release(this.deps.db, this.deps.instanceId, nodes).catch((err: unknown) => this.deps.logger.warn({ err }, 'could not release telephony nodes'));
  }

  /** Resolves when no pass is running or queued (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Heartbeat of our nodes, then a repair sweep if callers wait on them. */
  async tick(): Promise<void> {
    const { repo, db, logger } = this.deps;
    try {
      const nodes = this.deps.localNodes();
      await repo.heartbeat(db, this.deps.instanceId, nodes);
      const orphans = await repo.orphanedOffers(db, new Date(this.deps.clock.now().getTime() - this.settings.orphanOfferSeconds * 1000), this.settings.liveWithinSeconds * 5);
      for (const o of orphans) await this.deps.settleOrphan(o.id);
      if (await this.sweepMayOffer(nodes.filter((n) => n.connected).map((n) => n.nodeId))) {
        this.sweepWanted = true;
        this.schedule();
      }
    } catch (err) {
      logger.warn({ err }, 'ACD tick failed');
    }
  }

  private schedule(): void {
    if (this.running || this.stopped) return;
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (!this.stopped && (this.agents.size > 0 || this.entries.size > 0 || this.sweepWanted)) this.schedule();
    });
  }

  private async drain(): Promise<void> {
    while (!this.stopped && (this.agents.size > 0 || this.entries.size > 0 || this.sweepWanted)) {
      const agents = [...this.agents];
      const entries = new Map(this.entries);
      const sweep = this.sweepWanted;
      this.agents.clear();
      this.entries.clear();
      this.sweepWanted = false;
      let offers: AcdOffer[] = [];
      try {
        const left: Leftover = { agents: [], entries: new Map(), sweep: false };
        offers = await this.pass(agents, entries, sweep, left);
        this.failureStreak = 0;
        // Unfinished work goes ahead of what was kicked meanwhile (it waited longer). Only after
        // a pass that offered something: searches that found only callers another instance
        // serves would find them again at once, so then the next sweep takes the rest.
        if (offers.length > 0) this.carryOver(left);
      } catch (err) {
        this.stats.failures++;
        this.failureStreak++;
        this.deps.logger.error({ err }, 'ACD pass failed; retrying');
        // Nothing was committed: put the work back and retry after a pause.
        for (const a of agents) this.agents.add(a);
        for (const [e, hint] of entries) this.entries.set(e, hint);
        this.sweepWanted ||= sweep;
        await new Promise((r) => setTimeout(r, Math.min(2000, 50 * 2 ** Math.min(this.failureStreak, 6))));
        continue;
      }
      this.stats.passes++;
      for (const o of offers) {
        this.stats.offers++;
        try {
          this.deps.dispatch(o);
        } catch (err) {
          this.deps.logger.error({ err, callId: o.callId }, 'offer dispatch failed');
        }
      }
    }
  }

  private carryOver(left: Leftover): void {
    for (const a of left.agents) this.agents.add(a);
    if (left.entries.size > 0) {
      const later = [...this.entries];
      this.entries.clear();
      for (const [e, hint] of [...left.entries, ...later]) this.entries.set(e, hint);
    }
    this.sweepWanted ||= left.sweep;
  }

  /**
   * One transaction: match the kicked entries, then the kicked (or, in a sweep, all ready)
   * agents, with at most `maxSearchesPerPass` best-caller searches; what it did not get to is
   * put in `left`.
   */
  private async pass(agentIds: readonly string[], kicked: ReadonlyMap<string, EntryHint | undefined>, sweep: boolean, left: Leftover): Promise<AcdOffer[]> {
    const { db, repo } = this.deps;
    const local = new Set(this.deps.localNodes().filter((n) => n.connected).map((n) => n.nodeId));
    if (local.size === 0) return [];
    return db.transaction().execute(async (tx) => {
      const offers: AcdOffer[] = [];
      // Under the ACD lock. Agents kicked alone need only their own rows; a caller or a sweep needs every ready agent.
      const ready = await this.lockAndReadReady(tx, sweep || kicked.size > 0 ? undefined : agentIds);
      if (ready.size === 0) return offers;
      // In a sweep, only the queues someone waits in: an agent who serves none of them is skipped
      // without a query (1,000 callers nobody ready can serve used to cost a search per agent).
      const waitingIn = sweep ? new Set(await repo.waitingQueueIds(tx, [...local])) : undefined;
      const eligible = new Map<string, string[]>();
      const queuesOf = async (a: Candidate) => {
        let ids = eligible.get(a.agentId);
        if (!ids) {
          ids = await this.deps.queues.eligibleQueueIds(a);
          if (waitingIn) ids = ids.filter((q) => waitingIn.has(q));
          eligible.set(a.agentId, ids);
        }
        return ids;
      };
      const seen = new Set<string>(); // callers offered (or looked at) in this pass
      let searches = this.settings.maxSearchesPerPass;
      // A caller the pass did not get to: a kicked one keeps its kick, a swept one is found again by the next sweep.
      const leave = (callId: string) => {
        if (kicked.has(callId)) left.entries.set(callId, kicked.get(callId));
        else left.sweep = true;
      };
      const serve = async (agent: Candidate): Promise<EntryRow | undefined> => {
        const qs = await queuesOf(agent);
        if (qs.length === 0) return undefined;
        searches--;
        const best = await repo.lockBestWaiting(tx, qs, this.settings.liveWithinSeconds);
        // A better caller on another instance's node: that instance heard the same kick and takes it.
        if (!best || !local.has(best.nodeId)) return undefined;
        const offer = await this.claim(tx, best, agent);
        ready.delete(agent.agentId);
        if (offer) {
          offers.push(offer);
          seen.add(offer.callId);
        }
        return offer ? best : undefined;
      };

      // A sweep walks the smaller side: the waiting callers when fewer wait than agents can serve
      // them (one best-agent search per caller), else every such agent (one best-caller search
      // per agent). Walking 500 idle agents for a handful of callers made each sweep hundreds of
      // queries under the ACD lock.
      const servers = sweep ? await this.serving(ready, queuesOf) : [];
      const swept = sweep && servers.length > 0 ? await repo.waitingOnNodes(tx, [...local], servers.length + 1) : [];
      const byEntry = swept.length <= servers.length;
      const entries: [string, EntryRow | EntryHint | undefined][] = [...kicked, ...(sweep && byEntry ? swept.map((e): [string, EntryRow] => [e.callId, e]) : [])];
      for (const [callId, known] of entries) {
        if (seen.has(callId) || ready.size === 0) continue;
        if (searches <= 0) {
          leave(callId);
          continue;
        }
        seen.add(callId);
        // A hint may be stale (the caller left, or moved on): the search below only ever takes
        // a caller that still waits, and the best one of the queue, which is right either way.
        const entry = known ?? await repo.findEntry(tx, callId);
        if (!entry || ('state' in entry && entry.state !== 'waiting') || !local.has(entry.nodeId)) continue;
        const queue = await this.deps.queues.get(entry.queueId);
        if (!queue) continue;
        let served = false;
        for (const agent of rankAgents([...ready.values()], requirementOf(queue))) {
          if (searches <= 0) break;
          if ((await serve(agent))?.callId === callId) {
            served = true;
            break;
          }
        }
        if (!served && searches <= 0 && ready.size > 0) leave(callId);
      }
      const agents = sweep && !byEntry ? servers : agentIds.map((id) => ready.get(id)).filter((a): a is Candidate => a !== undefined);
      for (const agent of agents) {
        if (!ready.has(agent.agentId)) continue;
        if (searches <= 0) {
          if (sweep && !byEntry) left.sweep = true;
          else left.agents.push(agent.agentId);
          continue;
        }
        await serve(agent);
      }
      return offers;
    });
  }

  /** Ready agents who serve at least one queue someone waits in (a sweep's agent side). */
  private async serving(ready: ReadonlyMap<string, Candidate>, queuesOf: (a: Candidate) => Promise<string[]>): Promise<Candidate[]> {
    const out: Candidate[] = [];
    for (const a of ready.values()) if ((await queuesOf(a)).length > 0) out.push(a);
    return out;
  }

  /**
   * Whether a sweep could offer anything: someone waits here, and a ready agent serves their
   * queue. Read without the ACD's lock, so that a centre with callers nobody ready can serve
   * (a specialist queue after hours) does not hold every kicked pass up once a second; a
   * change just after this look is a kick of its own, or the next tick's.
   */
  private async sweepMayOffer(nodeIds: readonly string[]): Promise<boolean> {
    const waitingIn = new Set(await this.deps.repo.waitingQueueIds(this.deps.db, nodeIds));
    if (waitingIn.size === 0) return false;
    for (const agent of (await this.withSkills(this.deps.db, await this.deps.repo.readReadyUnlocked(this.deps.db, this.settings.maxAgentsPerPass))).values()) {
      if ((await this.deps.queues.eligibleQueueIds(agent)).some((q) => waitingIn.has(q))) return true;
    }
    return false;
  }

  private async lockAndReadReady(tx: Tx, only?: readonly string[]): Promise<Map<string, Candidate>> {
    return this.withSkills(tx, await this.deps.repo.lockAndReadReady(tx, this.settings.maxAgentsPerPass, only));
  }

  private async withSkills(db: Executor, rows: readonly ReadyAgentWithState[]): Promise<Map<string, Candidate>> {
    // Skills are read again only for agents whose stamp moved (or never seen): the same skills
    // as a read with the rows, at a fraction of the cost.
    const stale = rows.filter((r) => this.skills.get(r.agentId)?.stamp !== r.skillsStamp).map((r) => r.agentId);
    if (stale.length > 0) {
      const read = await this.deps.repo.skillsWithStamp(db, stale);
      if (this.skills.size + read.size > MAX_CACHED_SKILLS) this.skills.clear(); // agents deleted over a long uptime; re-read on demand
      for (const [agentId, e] of read) this.skills.set(agentId, e);
    }
    const out = new Map<string, Candidate>();
    for (const { skillsStamp: _stamp, ...r } of rows) {
      // A stamp that still differs was read after the row: newer skills, which are the ones to use.
      const cached = this.skills.get(r.agentId);
      if (cached) out.set(r.agentId, { ...r, skills: cached.skills });
    }
    return out;
  }

  /**
   * The offer itself, in the pass's transaction and in the lock order entry → call → agent (the
   * entry and call came locked from the search): the agent ready → ringing at the version the
   * pass read, with the offer row, the entry offered and the call offering in the same
   * statement: one round trip per offer. After commit the caller's session only has to ring
   * the agent's phone.
   */
  private async claim(tx: Tx, entry: EntryRow, agent: Candidate): Promise<AcdOffer | undefined> {
    const { repo, agentStates } = this.deps;
    const queue = await this.deps.queues.get(entry.queueId);
    if (!queue) return undefined;
    const offer: AcdOffer = {
      offerId: randomUUID(), callId: entry.callId, agentId: agent.agentId, extension: agent.extension,
      nodeId: entry.nodeId, channelId: randomUUID(), queueId: entry.queueId, ringTimeoutSeconds: queue.ringTimeoutSeconds, offeredAt: this.deps.clock.now(), autoAnswer: agent.autoAnswer,
    };
    const claimed = await agentStates.offerInTx(tx, agent.agentId, entry.callId, 'acd', [{
      type: 'call.offered',
      payload: { callId: offer.callId, offerId: offer.offerId, agentId: offer.agentId, extension: offer.extension, queueId: offer.queueId, nodeId: offer.nodeId, at: offer.offeredAt.toISOString() },
    }], agent.state, repo.offerWrites({
      id: offer.offerId, callId: offer.callId, agentId: offer.agentId, extension: offer.extension, nodeId: offer.nodeId,
      channelId: offer.channelId, queueId: offer.queueId, offeredAt: offer.offeredAt,
    }));
    if (!claimed) return undefined;
    return offer;
  }
}
