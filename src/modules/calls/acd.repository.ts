/**
 * SQL of the ACD: queue entries, offers, the node heartbeat, and the advisory lock under which
 * every matching decision is taken (so two instances never hand one agent two calls, nor one
 * call to two agents; the partial unique indexes on call_offers back this up).
 *
 * Lock order, everywhere: queue entry → call → agent state → offer.
 */
import { sql } from 'kysely';
import { PREPARED, type Executor, type Tx } from '../../adapters/db/database.js';
import type { OfferOutcome } from '../../domain/calls/offers.js';
import type { AgentStateRow, DependentWrite } from '../agents/agents.repository.js';
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
  /** Changes whenever the agent's skills do (the agent row's `updated_at`, to the microsecond). */
  skillsStamp: string;
  state: AgentStateRow;
}

export interface AgentSkill { skillId: string; level: number }

export interface ReadyAgentRow {
  agentId: string;
  extension: string;
  idleSince: Date;
  languages: string[];
}

const ENTRY_COLUMNS = ['callId', 'queueId', 'nodeId', 'priority', 'enqueuedAt', 'state', 'offerId'] as const;
const OFFER_COLUMNS = ['id', 'callId', 'agentId', 'extension', 'nodeId', 'channelId', 'queueId', 'offeredAt', 'originatedAt', 'endedAt', 'outcome', 'cause', 'techCause'] as const;

export class AcdRepository {
  async notify(db: Executor, channel: string, payload: string): Promise<void> {
    await sql`SELECT pg_notify(${channel}, ${payload})`.execute(db);
  }

  // --- Queue entries.

  async insertEntry(db: Executor, e: Omit<EntryRow, 'state' | 'offerId'>): Promise<void> {
    await db.insertInto('queueEntries').values({ ...e, state: 'waiting', offerId: null }).execute();
  }

  /**
   * Into the queue (first time, after a no-answer, an overflow or a recovery) as one autocommit
   * statement: the entry is locked, then the call (the lock order) and only if it is still in
   * `from`; then the entry (new, or its queue and priority: `enqueued_at` is kept, so the caller
   * keeps their place), the call queued, its timeline row (`overflow` when it leaves another
   * queue) and the outbox event. One round trip where a transaction took four, on the path the
   * ACD's latency is measured from. `entry` is undefined when nothing was written: then `state`
   * is the call's state as this statement saw it (null: no such call).
   */
  async enqueue(db: Executor, q: {
    callId: string; from: string; queueId: string; priority: number; enqueuedAt: Date; at: Date;
    holdingBridgeId: string; data: Record<string, unknown>; outbox: OutboxRow;
  }): Promise<{ entry: EntryRow | undefined; state: string | null }> {
    const ob = outboxValues(q.outbox);
    const r = await sql<{ callId: string | null; queueId: string; nodeId: string; priority: number; enqueuedAt: Date; state: EntryRow['state']; offerId: string | null; callState: string | null }>`
      ${sql.raw(PREPARED)} WITH e0 AS MATERIALIZED (
        SELECT enqueued_at FROM queue_entries WHERE call_id = ${q.callId} FOR UPDATE
      ), c AS MATERIALIZED (
        -- Joined to e0, so the entry is locked before the call's row is.
        SELECT c0.id, c0.node_id, c0.queue_id AS from_queue_id, c0.queued_at, e0.enqueued_at,
               coalesce(c0.queue_id <> ${q.queueId}::uuid, false) AS overflow
        FROM calls c0 LEFT JOIN e0 ON true
        WHERE c0.id = ${q.callId} AND c0.state = ${q.from}
        FOR UPDATE OF c0
      ), ent AS (
        INSERT INTO queue_entries (call_id, queue_id, node_id, priority, enqueued_at, state, offer_id)
        SELECT c.id, ${q.queueId}, c.node_id, ${q.priority}, coalesce(c.enqueued_at, ${q.enqueuedAt}::timestamptz), 'waiting', NULL FROM c
        ON CONFLICT (call_id) DO UPDATE SET queue_id = excluded.queue_id, priority = excluded.priority, updated_at = now()
        RETURNING call_id, queue_id, node_id, priority, enqueued_at, state, offer_id
      ), upd AS (
        UPDATE calls SET state = 'queued', queue_id = ${q.queueId}, priority = ${q.priority}, holding_bridge_id = ${q.holdingBridgeId},
          queued_at = coalesce(c.queued_at, ${q.at}::timestamptz), version = calls.version + 1, updated_at = now()
        FROM c WHERE calls.id = c.id
      ), ev AS (
        INSERT INTO call_events (call_id, at, type, data)
        SELECT c.id, ${q.at}::timestamptz, CASE WHEN c.overflow THEN 'overflow' ELSE 'queued' END,
          jsonb_build_object('queueId', ${q.queueId}::text, 'priority', ${q.priority}::int)
            || CASE WHEN c.overflow THEN jsonb_build_object('fromQueueId', c.from_queue_id) ELSE '{}'::jsonb END
            || ${JSON.stringify(q.data)}::jsonb
        FROM c
      ), ob AS (
        INSERT INTO outbox (id, subject, type, payload, headers)
        SELECT ${ob.id}, ${ob.subject}, ${ob.type},
          ${ob.payload}::jsonb || jsonb_build_object('enqueuedAt', to_char(ent.enqueued_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
          ${ob.headers}::jsonb
        FROM ent
      )
      SELECT ent.call_id AS "callId", ent.queue_id AS "queueId", ent.node_id AS "nodeId", ent.priority, ent.enqueued_at AS "enqueuedAt",
             ent.state, ent.offer_id AS "offerId", (SELECT state FROM calls WHERE id = ${q.callId}) AS "callState"
      FROM (VALUES (1)) AS one LEFT JOIN ent ON true`.execute(db);
    const row = r.rows[0]!;
    const { callState, callId, ...rest } = row;
    return { entry: callId === null ? undefined : { callId, ...rest }, state: callState };
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
   * Takes the ACD's lock, then reads the ready agents (all, or `only` these), longest idle
   * first, with their whole state row (the offer writes at that row's version, without reading
   * it again): one round trip to start the ACD's pass. Skills come separately (`skillsWithStamp`),
   * for the agents whose `skillsStamp` the ACD has not seen: reading them here for every ready
   * agent was two thirds of this statement's time with 400 agents ready.
   *
   * The statement's snapshot is taken before the lock is granted, so when another instance's
   * pass held it, an agent it has just offered a call may still read as ready here: the offer
   * writes only at the version read (`applyChange`), so that agent is skipped, never offered
   * twice. Every later statement of the pass reads after the lock.
   */
  async lockAndReadReady(tx: Tx, limit: number, only?: readonly string[]): Promise<ReadyAgentWithState[]> {
    return this.readReady(tx, limit, only, true);
  }

  /** The same rows without the ACD's lock (for a look at whether a pass would find work). */
  async readReadyUnlocked(db: Executor, limit: number): Promise<ReadyAgentWithState[]> {
    return this.readReady(db, limit, undefined, false);
  }

  private async readReady(db: Executor, limit: number, only: readonly string[] | undefined, lock: boolean): Promise<ReadyAgentWithState[]> {
    if (only?.length === 0) return [];
    // The lock is the preserved side of the join, so it is taken even when nobody is ready.
    const rows = await sql<Omit<AgentStateRow, 'state' | 'agentId'> & { agentId: string | null; languages: string[]; autoAnswer: boolean; skillsStamp: string }>`
      ${sql.raw(PREPARED)} WITH acd_lock AS MATERIALIZED (SELECT ${lock ? sql`pg_advisory_xact_lock(${ACD_LOCK_KEY}::bigint)` : sql`1`})
      SELECT r.* FROM acd_lock LEFT JOIN (
        SELECT s.agent_id AS "agentId", s.extension, s.idle_since AS "idleSince", a.languages, a.auto_answer AS "autoAnswer",
               a.updated_at::text AS "skillsStamp",
               s.reason, s.since, s.version, s.last_call_ended_at AS "lastCallEndedAt", s.call_id AS "callId", s.wrap_up_until AS "wrapUpUntil",
               u.display_name AS "displayName", a.centre_id AS "centreId", a.active
        FROM agent_states s JOIN agents a ON a.user_id = s.agent_id JOIN users u ON u.id = a.user_id
        WHERE s.state = 'ready' AND a.active ${only ? sql`AND s.agent_id IN (${sql.join(only)})` : sql``}
        ORDER BY s.idle_since, s.agent_id LIMIT ${limit}) r ON true
      ORDER BY r."idleSince", r."agentId"`.execute(db);
    return rows.rows.filter((r): r is typeof r & { agentId: string } => r.agentId !== null).map((r) => ({
      agentId: r.agentId, extension: r.extension!, idleSince: r.idleSince!, languages: r.languages, autoAnswer: r.autoAnswer, skillsStamp: r.skillsStamp,
      state: {
        agentId: r.agentId, state: 'ready', reason: r.reason, since: r.since, version: r.version, extension: r.extension, idleSince: r.idleSince,
        lastCallEndedAt: r.lastCallEndedAt, callId: r.callId, wrapUpUntil: r.wrapUpUntil, displayName: r.displayName, centreId: r.centreId, active: r.active,
      },
    }));
  }

  /** These agents' skills with levels (none: an empty list), with the stamp of the agent row they were read at. */
  async skillsWithStamp(db: Executor, agentIds: readonly string[]): Promise<Map<string, { stamp: string; skills: AgentSkill[] }>> {
    const out = new Map<string, { stamp: string; skills: AgentSkill[] }>();
    if (agentIds.length === 0) return out;
    const rows = await sql<{ agentId: string; stamp: string; skillId: string | null; level: number | null }>`
      SELECT a.user_id AS "agentId", a.updated_at::text AS stamp, k.skill_id AS "skillId", k.level
      FROM agents a LEFT JOIN agent_skills k ON k.agent_id = a.user_id
      WHERE a.user_id = ANY(${sql.val(agentIds)}::uuid[])`.execute(db);
    for (const r of rows.rows) {
      const e = out.get(r.agentId) ?? { stamp: r.stamp, skills: [] };
      if (r.skillId !== null) e.skills.push({ skillId: r.skillId, level: r.level! });
      out.set(r.agentId, e);
    }
    return out;
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
        ${sql.raw(PREPARED)} WITH best AS (
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

  /**
   * The offer row, the entry offered, the call offering and its timeline row, as writes of the
   * agent's ready → ringing statement (`applyChange` reads them as CTEs over `upd`): they happen
   * exactly when the agent is claimed, in the same round trip.
   */
  offerWrites(o: Omit<OfferRow, 'originatedAt' | 'endedAt' | 'outcome' | 'cause' | 'techCause'>): DependentWrite[] {
    const data = JSON.stringify({ offerId: o.id, agentId: o.agentId, extension: o.extension, channelId: o.channelId });
    return [
      sql`INSERT INTO call_offers (id, call_id, agent_id, extension, node_id, channel_id, queue_id, offered_at)
        SELECT ${o.id}, ${o.callId}, ${o.agentId}, ${o.extension}, ${o.nodeId}, ${o.channelId}, ${o.queueId}, ${o.offeredAt}::timestamptz FROM upd`,
      sql`UPDATE queue_entries SET state = 'offered', offer_id = ${o.id}, updated_at = now() WHERE call_id = ${o.callId} AND EXISTS (SELECT 1 FROM upd)`,
      sql`UPDATE calls SET state = 'offering', agent_id = ${o.agentId}, agent_channel_id = ${o.channelId}, version = version + 1, updated_at = now()
        WHERE id = ${o.callId} AND EXISTS (SELECT 1 FROM upd)`,
      sql`INSERT INTO call_events (call_id, at, type, data) SELECT ${o.callId}, ${o.offeredAt}::timestamptz, 'offer', ${data}::jsonb FROM upd`,
    ];
  }

  async readyAgents(db: Executor, limit: number): Promise<ReadyAgentRow[]> {
    const rows = await db.selectFrom('agentStates as s').innerJoin('agents as a', 'a.userId', 's.agentId')
      .select(['s.agentId', 's.extension', 's.idleSince', 'a.languages'])
      .where('s.state', '=', 'ready').where('a.active', '=', true)
      .orderBy('s.idleSince').orderBy('s.agentId').limit(limit).execute();
    return rows.map((r) => ({ agentId: r.agentId, extension: r.extension!, idleSince: r.idleSince!, languages: r.languages }));
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
