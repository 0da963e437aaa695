/**
 * The per-user desktop message log: recording (with the outbox event that carries a message to
 * the other instances), agent-state messages from agent.state_changed, resume reads, retention,
 * and which desktops are open.
 */
import type { Database, Executor } from '../../adapters/db/database.js';
import type { Clock } from '../../domain/clock.js';
import { ValidationError } from '../../domain/errors.js';
import type { ConsumedEventsRepository } from '../events/consumed.repository.js';
import type { EventEnvelope } from '../events/events.js';
import type { OutboxRepository } from '../events/outbox.repository.js';
import { MAX_REPLAY, planResume, replayComplete } from './desktop.protocol.js';
import type { DesktopRepository, LogRow } from './desktop.repository.js';

export interface StoredDesktopMessage {
  seq: string;
  agentId: string;
  at: string;
  type: string;
  payload: Record<string, unknown>;
}

export interface DesktopLogSettings {
  readonly subjectPrefix: string;
  readonly retentionHours: number;
}

/** Consumer name (consumed_events) of the agent.state_changed → agent.state recorder. */
export const AGENT_STATE_CONSUMER = 'desktop-agent-state';
const LOG_TYPE = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/;
const PRUNE_BATCH = 5000;
const PRUNE_MAX_BATCHES = 20;

/** The NATS subject of one user's desktop messages. */
export function desktopSubject(prefix: string, agentId: string): string {
  return `${prefix}.desktop.${agentId}.message`;
}

export class DesktopService {
  constructor(
    private readonly db: Database,
    private readonly repo: DesktopRepository,
    private readonly outbox: OutboxRepository,
    private readonly consumed: ConsumedEventsRepository,
    private readonly clock: Clock,
    private readonly settings: DesktopLogSettings,
  ) {}

  /** In the caller's transaction when given one; the message is sent after commit (deliver). */
  async record(db: Executor, agentId: string, type: string, payload: Record<string, unknown>): Promise<StoredDesktopMessage> {
    if (!LOG_TYPE.test(type) || type.length > 64) {
      throw new ValidationError(`Desktop message type '${type}' must be dotted lower-case, e.g. call.offer`, { type }, 'invalid_desktop_message_type');
    }
    // One statement: atomic on its own, so no transaction of its own is needed.
    return this.recordOn(db.isTransaction ? db : this.db, agentId, type, payload);
  }

  private async recordOn(db: Executor, agentId: string, type: string, payload: Record<string, unknown>): Promise<StoredDesktopMessage> {
    const at = this.clock.now();
    const template: StoredDesktopMessage = { seq: '', agentId, at: at.toISOString(), type, payload };
    const [event] = this.outbox.prepare([{ type: 'desktop.message', subject: desktopSubject(this.settings.subjectPrefix, agentId), payload: { ...template } }]);
    const row = await this.repo.appendAnnounced(db, { agentId, at, type, payload }, event!);
    return { ...template, seq: row.seq, at: row.at.toISOString() };
  }

  /**
   * agent.state_changed → one agent.state message: once per event (consumed_events), and never
   * after a newer version of that agent (events consumed out of order by two instances).
   */
  async recordAgentState(event: EventEnvelope): Promise<StoredDesktopMessage | null> {
    const agentId = event.payload.agentId;
    const version = event.payload.version;
    if (typeof agentId !== 'string' || typeof version !== 'number') return null;
    return this.db.transaction().execute(async (tx) => {
      if (!(await this.consumed.markIfNew(tx, AGENT_STATE_CONSUMER, event.id))) return null;
      if (!(await this.repo.claimAgentStateVersion(tx, agentId, version))) return null;
      return this.recordOn(tx, agentId, 'agent.state', event.payload);
    });
  }

  async lastSeq(agentId: string): Promise<bigint> {
    return BigInt(await this.repo.lastSeq(this.db, agentId));
  }

  /**
   * What a (re)connecting desktop is sent after its welcome: the messages after `lastSeq`
   * through `last`, or a resync when some are gone (retention) or too many.
   */
  async resume(agentId: string, lastSeq: string | undefined, last: bigint): Promise<{ resync: boolean; messages: StoredDesktopMessage[] }> {
    const plan = planResume(lastSeq, last);
    if (plan.kind === 'resync') return { resync: true, messages: [] };
    if (plan.kind !== 'replay') return { resync: false, messages: [] };
    const rows = await this.repo.range(this.db, agentId, plan.after, plan.through, MAX_REPLAY);
    if (!replayComplete(plan, rows.map((r) => BigInt(r.seq)))) return { resync: true, messages: [] };
    return { resync: false, messages: rows.map((r) => toMessage(agentId, r)) };
  }

  /** Messages after `after` through `through` that are still kept (to fill a gap in delivery). */
  async range(agentId: string, after: bigint, through: bigint): Promise<StoredDesktopMessage[]> {
    return (await this.repo.range(this.db, agentId, after, through, MAX_REPLAY)).map((r) => toMessage(agentId, r));
  }

  /** Retention: deletes messages older than the retention in bounded batches; returns how many. */
  async prune(): Promise<number> {
    const cutoff = new Date(this.clock.now().getTime() - this.settings.retentionHours * 3600_000);
    let total = 0;
    for (let i = 0; i < PRUNE_MAX_BATCHES; i++) {
      const n = await this.repo.prune(this.db, cutoff, PRUNE_BATCH);
      total += n;
      if (n < PRUNE_BATCH) break;
    }
    return total;
  }

  // ---------------------------------------------------------------- open desktops

  /** Registers an open desktop; returns how many of the user's desktops are open now. */
  async opened(c: { id: string; userId: string; instanceId: string }, freshSince: Date): Promise<number> {
    await this.repo.openConnection(this.db, { ...c, at: this.clock.now() });
    return this.repo.countOpen(this.db, c.userId, freshSince);
  }

  async closed(id: string, userId: string, freshSince: Date): Promise<number> {
    await this.repo.closeConnection(this.db, id);
    return this.repo.countOpen(this.db, userId, freshSince);
  }

  async closeInstance(instanceId: string): Promise<void> {
    await this.repo.closeInstance(this.db, instanceId);
  }

  async touch(instanceId: string): Promise<void> {
    await this.repo.touchInstance(this.db, instanceId, this.clock.now());
  }

  async pruneConnections(staleBefore: Date): Promise<number> {
    return this.repo.pruneConnections(this.db, staleBefore, PRUNE_BATCH);
  }
}

function toMessage(agentId: string, r: LogRow): StoredDesktopMessage {
  return { seq: r.seq, agentId, at: r.at.toISOString(), type: r.type, payload: r.payload };
}
