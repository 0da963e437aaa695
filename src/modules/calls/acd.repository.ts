/**
 * SQL of the ACD: queue entries, offers, the node heartbeat, and the advisory lock under which
 * every matching decision is taken (so two instances never hand one agent two calls, nor one
 * call to two agents; the partial unique indexes on call_offers back this up).
 *
 * Lock order, everywhere: queue entry → call → agent state → offer.
 */
import { sql } from 'kysely';
import type { Executor, Tx } from '../../adapters/db/database.js';
import type { OfferOutcome } from '../../domain/calls/offers.js';
import type { AgentStateRow } from '../agents/agents.repository.js';
import { outboxValues, type OutboxRow } from '../events/outbox.repository.js';

// Fixed key for pg_advisory_xact_lock: "ACD" in ASCII, then 12345.
const ACD_LOCK_KEY = 0x414344_12345;

export interface EntryRow {
  callId: string;
  queueId: string;
  nodeId: string;
  priority: number;
  enqueuedAt: Date;
  state: 'waiting' | 'offered';
  offerId: string | null;
}

export interface OfferRow {
  id: string;
  callId: string;
  agentId: string;
  extension: string;
  nodeId: string;
  channelId: string;
  queueId: string;
  offeredAt: Date;
  originatedAt: Date | null;
  endedAt: Date | null;
  outcome: OfferOutcome | null;
  cause: number | null;
  techCause: string | null;
}

export interface ReadyAgentWithState extends ReadyAgentRow {
  autoAnswer: boolean;
  skills: { skillId: string; level: number }[];
  state: AgentStateRow;
}

export interface ReadyAgentRow {
  agentId: string;
  extension: string;
  idleSince: Date;
  languages: string[];
}

const ENTRY_COLUMNS = ['callId', 'queueId', 'nodeId', 'priority', 'enqueuedAt', 'state', 'offerId'] as const;
const OFFER_COLUMNS = ['id', 'callId', 'agentId', 'extension', 'nodeId', 'channelId', 'queueId', 'offeredAt', 'originatedAt', 'endedAt', 'outcome', 'cause', 'techCause'] as const;

export class AcdRepository {
  /** Serialises ACD decisions across instances until the transaction ends. */
  async lock(tx: Tx): Promise<void> {
    await sql`SELECT pg_advisory_xact_lock(${ACD_LOCK_KEY}::bigint)`.execute(tx);
  }

  async notify(db: Executor, channel: string, payload: string): Promise<void> {
    await sql`SELECT pg_notify(${channel}, ${payload})`.execute(db);
  }

  // --- Queue entries.

  async insertEntry(db: Executor, e: Omit<EntryRow, 'state' | 'offerId'>): Promise<void> {
    await db.insertInto('queueEntries').values({ ...e, state: 'waiting', offerId: null }).execute();
  }

  /**
   * Into the queue, after the entry and the call were locked: the entry (new, or its queue and
   * priority when the caller already had one), the call queued, its timeline row and the outbox
   * event, as one statement.
   */
  async writeEnqueue(tx: Tx, w: {
    entry: Omit<EntryRow, 'state' | 'offerId'>;
    existing: boolean;
    call: { holdingBridgeId: string; queuedAt: Date };
    event: { type: 'queued' | 'overflow'; at: Date; data: Record<string, unknown> };
    outbox: OutboxRow;
  }): Promise<void> {
    const e = w.entry;
    await tx
      .with('ent', (db) => (w.existing
        ? db.updateTable('queueEntries').set({ queueId: e.queueId, priority: e.priority, updatedAt: sql<Date>`now()` }).where('callId', '=', e.callId)
        : db.insertInto('queueEntries').values({ ...e, state: 'waiting', offerId: null })))
      .with('call', (db) => db.updateTable('calls').set({
        state: 'queued', queueId: e.queueId, priority: e.priority, holdingBridgeId: w.call.holdingBridgeId, queuedAt: w.call.queuedAt,
        version: sql<number>`version + 1`, updatedAt: sql<Date>`now()`,
      }).where('id', '=', e.callId))
      .with('ev', (db) => db.insertInto('callEvents').values({ callId: e.callId, type: w.event.type, at: w.event.at, data: JSON.stringify(w.event.data) }))
      .insertInto('outbox').values(outboxValues(w.outbox))
      .execute();
  }

  async findEntry(db: Executor, callId: string): Promise<EntryRow | undefined> {
    return (await db.selectFrom('queueEntries').select(ENTRY_COLUMNS).where('callId', '=', callId).executeTakeFirst()) as EntryRow | undefined;
  }

  async lockEntry(tx: Tx, callId: string): Promise<EntryRow | undefined> {
    return (await tx.selectFrom('queueEntries').select(ENTRY_COLUMNS).where('callId', '=', callId).forUpdate().executeTakeFirst()) as EntryRow | undefined;
  }

  async updateEntry(db: Executor, callId: string, patch: Partial<Pick<EntryRow, 'queueId' | 'priority' | 'state' | 'offerId'>>): Promise<void> {
    await db.updateTable('queueEntries').set({ ...patch, updatedAt: sql<Date>`now()` }).where('callId', '=', callId).execute();
  }

  async deleteEntry(db: Executor, callId: string): Promise<boolean> {
    const r = await db.deleteFrom('queueEntries').where('callId', '=', callId).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async anyWaitingOn(db: Executor, nodeIds: readonly string[]): Promise<boolean> {
    if (nodeIds.length === 0) return false;
    return (await db.selectFrom('queueEntries').select('callId').where('state', '=', 'waiting').where('nodeId', 'in', nodeIds).limit(1).executeTakeFirst()) !== undefined;
  }

  /** How many callers of the queue are served before this one. */
  /** The queue's waiting callers in the order they are served (the ACD's order). */
  async waitingOrder(db: Executor, queueId: string): Promise<string[]> {
    const rows = await db.selectFrom('queueEntries').select('callId')
      .where('queueId', '=', queueId).where('state', '=', 'waiting')
      .orderBy('priority', 'desc').orderBy('enqueuedAt').orderBy('callId')
      .execute();
    return rows.map((r) => r.callId);
  }

  /** Callers waiting ahead of this entry (being offered an agent right now is not waiting). */
  async countAhead(db: Executor, e: Pick<EntryRow, 'callId' | 'queueId' | 'priority' | 'enqueuedAt'>): Promise<number> {
    const row = await db.selectFrom('queueEntries').select((eb) => eb.fn.countAll<string>().as('n'))
      .where('queueId', '=', e.queueId).where('state', '=', 'waiting')
      .where((eb) => eb.or([
        eb('priority', '>', e.priority),
        eb.and([eb('priority', '=', e.priority), eb('enqueuedAt', '<', e.enqueuedAt)]),
        eb.and([eb('priority', '=', e.priority), eb('enqueuedAt', '=', e.enqueuedAt), eb('callId', '<', e.callId)]),
      ]))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Callers waiting on these nodes in the order they are served (all queues), at most `limit`. */
  async waitingOnNodes(db: Executor, nodeIds: readonly string[], limit: number): Promise<EntryRow[]> {
    if (nodeIds.length === 0) return [];
    return (await db.selectFrom('queueEntries').select(ENTRY_COLUMNS).where('state', '=', 'waiting').where('nodeId', 'in', nodeIds)
      .orderBy('priority', 'desc').orderBy('enqueuedAt').orderBy('callId').limit(limit).execute()) as EntryRow[];
  }

  /** The queues anyone waits in on these nodes. */
  async waitingQueueIds(db: Executor, nodeIds: readonly string[]): Promise<string[]> {
    if (nodeIds.length === 0) return [];
    const rows = await db.selectFrom('queueEntries').select('queueId').distinct().where('state', '=', 'waiting').where('nodeId', 'in', nodeIds).execute();
    return rows.map((r) => r.queueId);
  }

  async waitingInQueue(db: Executor, queueId: string, limit: number): Promise<EntryRow[]> {
    return (await db.selectFrom('queueEntries').select(ENTRY_COLUMNS).where('queueId', '=', queueId)
      .orderBy('priority', 'desc').orderBy('enqueuedAt').orderBy('callId').limit(limit).execute()) as EntryRow[];
  }

  // --- Agents the ACD may offer to.

  /**
   * Ready agents (all, or `only` these), longest idle first, with their skills and their whole
   * state row (the offer writes at that row's version, without reading it again): one round
   * trip for the ACD's pass.
   */
  async readyAgentsWithSkills(db: Executor, limit: number, only?: readonly string[]): Promise<ReadyAgentWithState[]> {
    if (only?.length === 0) return [];
    const rows = await sql<Omit<AgentStateRow, 'state'> & { languages: string[]; autoAnswer: boolean; skills: { skillId: string; level: number }[] }>`
      SELECT s.agent_id AS "agentId", s.extension, s.idle_since AS "idleSince", a.languages, a.auto_answer AS "autoAnswer",
             coalesce((SELECT json_agg(json_build_object('skillId', k.skill_id, 'level', k.level)) FROM agent_skills k WHERE k.agent_id = s.agent_id), '[]') AS skills,
             s.reason, s.since, s.version, s.last_call_ended_at AS "lastCallEndedAt", s.call_id AS "callId", s.wrap_up_until AS "wrapUpUntil",
             u.display_name AS "displayName", a.centre_id AS "centreId", a.active
      FROM agent_states s JOIN agents a ON a.user_id = s.agent_id JOIN users u ON u.id = a.user_id
      WHERE s.state = 'ready' AND a.active ${only ? sql`AND s.agent_id IN (${sql.join(only)})` : sql``}
      ORDER BY s.idle_since, s.agent_id LIMIT ${limit}`.execute(db);
    return rows.rows.map((r) => ({
      agentId: r.agentId, extension: r.extension!, idleSince: r.idleSince!, languages: r.languages, autoAnswer: r.autoAnswer, skills: r.skills,
      state: {
        agentId: r.agentId, state: 'ready', reason: r.reason, since: r.since, version: r.version, extension: r.extension, idleSince: r.idleSince,
        lastCallEndedAt: r.lastCallEndedAt, callId: r.callId, wrapUpUntil: r.wrapUpUntil, displayName: r.displayName, centreId: r.centreId, active: r.active,
      },
    }));
  }

  /**
   * The caller an agent should take: the highest priority, then the longest waiting, among
   * waiting callers of the queues the agent qualifies for, on nodes whose instance is alive;
   * its entry and call locked (entry first: the lock order), in one round trip. Each queue's
   * head is read in index order (one row per queue, not a sort of everyone waiting). Only a
   * caller whose call is still queued: when a concurrent writer changed the head meanwhile (the
   * caller hung up), the search runs again, a few times at most.
   */
  async lockBestWaiting(tx: Tx, queueIds: readonly string[], liveWithinSeconds: number): Promise<EntryRow | undefined> {
    if (queueIds.length === 0) return undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      // One row always: the head found (null when nobody waits) and, when it could be locked, its entry.
      const r = await sql<{ bestId: string | null } & { [K in keyof EntryRow]: EntryRow[K] | null }>`
        WITH best AS (
          SELECT h.call_id FROM unnest(${sql.val(queueIds)}::uuid[]) AS q(id)
          CROSS JOIN LATERAL (
            SELECT e.call_id, e.priority, e.enqueued_at
            FROM queue_entries e JOIN calls c ON c.id = e.call_id JOIN telephony_nodes n ON n.node_id = e.node_id
            WHERE e.queue_id = q.id AND e.state = 'waiting' AND c.state = 'queued'
              AND n.connected AND n.heartbeat_at > now() - make_interval(secs => ${liveWithinSeconds})
            ORDER BY e.priority DESC, e.enqueued_at, e.call_id
            LIMIT 1) h
          ORDER BY h.priority DESC, h.enqueued_at, h.call_id
          LIMIT 1
        ), locked AS (
          SELECT e.call_id AS "callId", e.queue_id AS "queueId", e.node_id AS "nodeId", e.priority, e.enqueued_at AS "enqueuedAt", e.state, e.offer_id AS "offerId"
          FROM queue_entries e JOIN calls c ON c.id = e.call_id
          WHERE e.call_id = (SELECT call_id FROM best) AND e.state = 'waiting' AND c.state = 'queued'
          FOR UPDATE OF e, c
        )
        SELECT (SELECT call_id FROM best) AS "bestId", l.* FROM (VALUES (1)) AS one(x) LEFT JOIN locked l ON true`.execute(tx);
      const { bestId, ...entry } = r.rows[0]!;
      if (bestId === null) return undefined; // nobody waits
      if (entry.callId !== null) return entry as EntryRow;
    }
    return undefined;
  }

  /** The offer row, the entry offered, the call offering and its timeline row: one statement. */
  async recordOffer(tx: Tx, o: Omit<OfferRow, 'originatedAt' | 'endedAt' | 'outcome' | 'cause' | 'techCause'>): Promise<void> {
    const data = JSON.stringify({ offerId: o.id, agentId: o.agentId, extension: o.extension, channelId: o.channelId });
    await sql`
      WITH offer AS (
        INSERT INTO call_offers (id, call_id, agent_id, extension, node_id, channel_id, queue_id, offered_at)
        VALUES (${o.id}, ${o.callId}, ${o.agentId}, ${o.extension}, ${o.nodeId}, ${o.channelId}, ${o.queueId}, ${o.offeredAt})
      ), entry AS (
        UPDATE queue_entries SET state = 'offered', offer_id = ${o.id}, updated_at = now() WHERE call_id = ${o.callId}
      ), call AS (
        UPDATE calls SET state = 'offering', agent_id = ${o.agentId}, agent_channel_id = ${o.channelId}, version = version + 1, updated_at = now() WHERE id = ${o.callId}
      )
      INSERT INTO call_events (call_id, at, type, data) VALUES (${o.callId}, ${o.offeredAt}, 'offer', ${data}::jsonb)`.execute(tx);
  }

  async readyAgents(db: Executor, limit: number): Promise<ReadyAgentRow[]> {
    const rows = await db.selectFrom('agentStates as s').innerJoin('agents as a', 'a.userId', 's.agentId')
      .select(['s.agentId', 's.extension', 's.idleSince', 'a.languages'])
      .where('s.state', '=', 'ready').where('a.active', '=', true)
      .orderBy('s.idleSince').orderBy('s.agentId').limit(limit).execute();
    return rows.map((r) => ({ agentId: r.agentId, extension: r.extension!, idleSince: r.idleSince!, languages: r.languages }));
  }

  async agentSkills(db: Executor, agentIds: readonly string[]): Promise<{ agentId: string; skillId: string; level: number }[]> {
    if (agentIds.length === 0) return [];
    return db.selectFrom('agentSkills').select(['agentId', 'skillId', 'level']).where('agentId', 'in', agentIds).execute();
  }

  /** Logged-in agents (ready, ringing, on a call or in wrap-up) with skills and languages. */
  async staffedAgents(db: Executor): Promise<{ agentId: string; languages: string[] }[]> {
    return db.selectFrom('agentStates as s').innerJoin('agents as a', 'a.userId', 's.agentId')
      .select(['s.agentId', 'a.languages']).where('a.active', '=', true).where('s.state', 'in', ['ready', 'ringing', 'on_call', 'wrap_up']).execute();
  }

  // --- Offers.

  async insertOffer(tx: Tx, o: Omit<OfferRow, 'originatedAt' | 'endedAt' | 'outcome' | 'cause' | 'techCause'>): Promise<void> {
    await tx.insertInto('callOffers').values(o).execute();
  }

  async findOffer(db: Executor, id: string): Promise<OfferRow | undefined> {
    return (await db.selectFrom('callOffers').select(OFFER_COLUMNS).where('id', '=', id).executeTakeFirst()) as OfferRow | undefined;
  }

  async openOfferOfCall(db: Executor, callId: string): Promise<OfferRow | undefined> {
    return (await db.selectFrom('callOffers').select(OFFER_COLUMNS).where('callId', '=', callId).where('outcome', 'is', null).executeTakeFirst()) as OfferRow | undefined;
  }

  async offersOfCall(db: Executor, callId: string): Promise<OfferRow[]> {
    return (await db.selectFrom('callOffers').select(OFFER_COLUMNS).where('callId', '=', callId).orderBy('offeredAt').orderBy('id').execute()) as OfferRow[];
  }

  async markOriginated(db: Executor, id: string, at: Date): Promise<void> {
    await db.updateTable('callOffers').set({ originatedAt: at }).where('id', '=', id).where('outcome', 'is', null).execute();
  }

  /** Closes an open offer; false when it already had an outcome (a duplicate report). */
  async finishOffer(tx: Tx, id: string, outcome: OfferOutcome, at: Date, cause?: number | null, techCause?: string | null): Promise<boolean> {
    const r = await tx.updateTable('callOffers').set({ outcome, endedAt: at, cause: cause ?? null, techCause: techCause ?? null })
      .where('id', '=', id).where('outcome', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Open offers older than `before` on nodes whose instance stopped beating (nobody will settle them). */
  async orphanedOffers(db: Executor, before: Date, deadAfterSeconds: number): Promise<OfferRow[]> {
    return (await db.selectFrom('callOffers as o').leftJoin('telephonyNodes as n', 'n.nodeId', 'o.nodeId')
      .select(['o.id', 'o.callId', 'o.agentId', 'o.extension', 'o.nodeId', 'o.channelId', 'o.queueId', 'o.offeredAt', 'o.originatedAt', 'o.endedAt', 'o.outcome', 'o.cause', 'o.techCause'])
      .where('o.outcome', 'is', null).where('o.offeredAt', '<', before)
      .where((eb) => eb.or([eb('n.nodeId', 'is', null), eb('n.heartbeatAt', '<', sql<Date>`now() - make_interval(secs => ${deadAfterSeconds})`)]))
      .orderBy('o.offeredAt').limit(100).execute()) as OfferRow[];
  }

  // --- Node liveness.

  async heartbeat(db: Executor, instanceId: string, nodes: readonly { nodeId: string; connected: boolean }[]): Promise<void> {
    if (nodes.length === 0) return;
    await db.insertInto('telephonyNodes')
      .values(nodes.map((n) => ({ nodeId: n.nodeId, instanceId, connected: n.connected, heartbeatAt: sql<Date>`now()` })))
      .onConflict((oc) => oc.column('nodeId').doUpdateSet((eb) => ({
        instanceId: eb.ref('excluded.instanceId'), connected: eb.ref('excluded.connected'), heartbeatAt: eb.ref('excluded.heartbeatAt'),
      })))
      .execute();
  }

  async release(db: Executor, instanceId: string, nodeIds: readonly string[]): Promise<void> {
    if (nodeIds.length === 0) return;
    await db.updateTable('telephonyNodes').set({ connected: false }).where('instanceId', '=', instanceId).where('nodeId', 'in', nodeIds).execute();
  }
}
