/** SQL of the desktop module: the per-user message log, open desktops, and the wallboard's reads. */
import { sql } from 'kysely';
import type { Executor, Tx } from '../../adapters/db/database.js';
import type { OutboxRow } from '../events/outbox.repository.js';

export interface LogRow {
  seq: string;
  at: Date;
  type: string;
  payload: Record<string, unknown>;
}

export interface QueueRow {
  id: string;
  code: string;
  name: string;
  centreId: string;
  serviceLevelSeconds: number;
}

export interface QueueLiveRow {
  queueId: string;
  waiting: number;
  offering: number;
  oldest: Date | null;
}

export interface QueueTodayRow {
  queueId: string;
  answered: number;
  answeredWithin: number;
  abandoned: number;
  abandonedAfter: number;
  asaSeconds: number | null;
}

const ABANDONED = ['abandoned_queue', 'abandoned_ringing'];

export class DesktopRepository {
  /**
   * Appends a message with the user's next number, and the outbox row that carries it to the
   * other instances (its payload gets the number as `seq`), in one statement: atomic without a
   * transaction. The counter row stays locked until the statement's (or the caller's)
   * transaction ends, so numbers of one user commit in order and without gaps.
   */
  async appendAnnounced(db: Executor, m: { agentId: string; at: Date; type: string; payload: Record<string, unknown> }, event: OutboxRow): Promise<{ seq: string; at: Date }> {
    const res = await sql<{ seq: string; at: Date }>`
      WITH c AS (
        INSERT INTO desktop_cursors (agent_id, last_seq) VALUES (${m.agentId}, 1)
        ON CONFLICT (agent_id) DO UPDATE SET last_seq = desktop_cursors.last_seq + 1
        RETURNING last_seq
      ), m AS (
        INSERT INTO desktop_messages (agent_id, seq, at, type, payload)
        SELECT ${m.agentId}, c.last_seq, ${m.at}, ${m.type}, ${JSON.stringify(m.payload)}::jsonb FROM c
        RETURNING seq, at
      ), o AS (
        INSERT INTO outbox (id, subject, type, payload, headers)
        SELECT ${event.id}::uuid, ${event.subject}, ${event.type}, jsonb_set(${JSON.stringify(event.payload)}::jsonb, '{seq}', to_jsonb(m.seq::text)), ${JSON.stringify(event.headers)}::jsonb FROM m
      )
      SELECT seq::text AS seq, at FROM m`.execute(db);
    return res.rows[0]!;
  }

  /**
   * Takes the user's counter row and raises its agent-state version; false (nothing changed)
   * when a newer or equal version was recorded already.
   */
  async claimAgentStateVersion(tx: Tx, agentId: string, version: number): Promise<boolean> {
    const res = await sql<{ agentId: string }>`
      INSERT INTO desktop_cursors (agent_id, last_seq, agent_state_version) VALUES (${agentId}, 0, ${version})
      ON CONFLICT (agent_id) DO UPDATE SET agent_state_version = EXCLUDED.agent_state_version
        WHERE desktop_cursors.agent_state_version < EXCLUDED.agent_state_version
      RETURNING agent_id`.execute(tx);
    return res.rows.length === 1;
  }

  /** The newest number given to the user ('0' before the first message). */
  async lastSeq(db: Executor, agentId: string): Promise<string> {
    const row = await db.selectFrom('desktopCursors').select(sql<string>`last_seq::text`.as('lastSeq')).where('agentId', '=', agentId).executeTakeFirst();
    return row?.lastSeq ?? '0';
  }

  /** Messages with after < seq <= through, in order (at most `limit`). */
  async range(db: Executor, agentId: string, after: bigint, through: bigint, limit: number): Promise<LogRow[]> {
    const rows = await db.selectFrom('desktopMessages')
      .select([sql<string>`seq::text`.as('seq'), 'at', 'type', 'payload'])
      .where('agentId', '=', agentId)
      .where('seq', '>', after.toString())
      .where('seq', '<=', through.toString())
      // The column, not the text alias above: '10' sorts before '2'.
      .orderBy('desktopMessages.seq')
      .limit(limit)
      .execute();
    return rows as LogRow[];
  }

  /** Deletes messages older than the retention, oldest first, at most `limit`. */
  async prune(db: Executor, olderThan: Date, limit: number): Promise<number> {
    const res = await sql`
      WITH doomed AS (SELECT agent_id, seq FROM desktop_messages WHERE at < ${olderThan} ORDER BY at LIMIT ${limit})
      DELETE FROM desktop_messages m USING doomed WHERE m.agent_id = doomed.agent_id AND m.seq = doomed.seq`.execute(db);
    return Number(res.numAffectedRows ?? 0);
  }

  // ---------------------------------------------------------------- open desktops

  async openConnection(db: Executor, c: { id: string; userId: string; instanceId: string; at: Date }): Promise<void> {
    await db.insertInto('desktopConnections').values({ id: c.id, userId: c.userId, instanceId: c.instanceId, connectedAt: c.at, seenAt: c.at }).execute();
  }

  async closeConnection(db: Executor, id: string): Promise<void> {
    await db.deleteFrom('desktopConnections').where('id', '=', id).execute();
  }

  /** This instance stops: its desktops are closed. */
  async closeInstance(db: Executor, instanceId: string): Promise<void> {
    await db.deleteFrom('desktopConnections').where('instanceId', '=', instanceId).execute();
  }

  /** Heartbeat of every desktop this instance holds. */
  async touchInstance(db: Executor, instanceId: string, at: Date): Promise<void> {
    await db.updateTable('desktopConnections').set({ seenAt: at }).where('instanceId', '=', instanceId).execute();
  }

  async countOpen(db: Executor, userId: string, seenSince: Date): Promise<number> {
    const row = await db.selectFrom('desktopConnections').select((eb) => eb.fn.countAll<string>().as('n'))
      .where('userId', '=', userId).where('seenAt', '>=', seenSince).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Rows of instances that stopped without closing them. */
  async pruneConnections(db: Executor, staleBefore: Date, limit: number): Promise<number> {
    const res = await sql`
      WITH doomed AS (SELECT id FROM desktop_connections WHERE seen_at < ${staleBefore} LIMIT ${limit})
      DELETE FROM desktop_connections c USING doomed WHERE c.id = doomed.id`.execute(db);
    return Number(res.numAffectedRows ?? 0);
  }

  // ---------------------------------------------------------------- wallboard

  /** The given queues (any state), or every active queue. */
  async queues(db: Executor, ids: readonly string[] | undefined): Promise<QueueRow[]> {
    let q = db.selectFrom('queues').select(['id', 'code', 'name', 'centreId', 'serviceLevelSeconds']);
    q = ids ? q.where('id', 'in', ids.length ? [...ids] : ['00000000-0000-0000-0000-000000000000']) : q.where('active', '=', true);
    return q.orderBy('code').execute();
  }

  /** Callers waiting now per queue. */
  async live(db: Executor, queueIds: readonly string[]): Promise<QueueLiveRow[]> {
    if (queueIds.length === 0) return [];
    const res = await sql<QueueLiveRow>`
      SELECT queue_id, count(*)::int AS waiting, (count(*) FILTER (WHERE state = 'offered'))::int AS offering, min(enqueued_at) AS oldest
      FROM queue_entries WHERE queue_id = ANY(${[...queueIds]}::uuid[]) GROUP BY queue_id`.execute(db);
    return res.rows;
  }

  /**
   * Today's answered and abandoned calls per queue, from `dayStart` (calls that arrived up to a
   * day before count if they were connected or given up today). Wait = queued → connected for
   * answered calls, queued → ended for abandoned ones; T = the queue's service_level_seconds.
   */
  async today(db: Executor, queueIds: readonly string[], dayStart: Date): Promise<QueueTodayRow[]> {
    if (queueIds.length === 0) return [];
    const from = new Date(dayStart.getTime() - 86_400_000);
    const res = await sql<{ queueId: string; answered: number; answeredWithin: number; abandoned: number; abandonedAfter: number; asaSeconds: string | null }>`
      SELECT c.queue_id,
        (count(*) FILTER (WHERE c.connected_at >= ${dayStart}))::int AS answered,
        (count(*) FILTER (WHERE c.connected_at >= ${dayStart}
          AND c.connected_at - coalesce(c.queued_at, c.arrived_at) <= make_interval(secs => q.service_level_seconds)))::int AS answered_within,
        (count(*) FILTER (WHERE c.connected_at IS NULL AND c.disposition = ANY(${ABANDONED}::text[]) AND c.ended_at >= ${dayStart}))::int AS abandoned,
        (count(*) FILTER (WHERE c.connected_at IS NULL AND c.disposition = ANY(${ABANDONED}::text[]) AND c.ended_at >= ${dayStart}
          AND c.ended_at - coalesce(c.queued_at, c.arrived_at) > make_interval(secs => q.service_level_seconds)))::int AS abandoned_after,
        (avg(extract(epoch FROM c.connected_at - coalesce(c.queued_at, c.arrived_at))) FILTER (WHERE c.connected_at >= ${dayStart}))::text AS asa_seconds
      FROM calls c JOIN queues q ON q.id = c.queue_id
      WHERE c.queue_id = ANY(${[...queueIds]}::uuid[]) AND c.arrived_at >= ${from}
      GROUP BY c.queue_id`.execute(db);
    return res.rows.map((r) => ({ ...r, asaSeconds: r.asaSeconds === null ? null : Number(r.asaSeconds) }));
  }

  /**
   * Mean handle time per queue: talk (the agent's on_call time) plus wrap-up, over calls whose
   * wrap-up ended today, from the agent state log.
   */
  async handleTimes(db: Executor, queueIds: readonly string[], dayStart: Date): Promise<Array<{ queueId: string; ahtSeconds: number }>> {
    if (queueIds.length === 0) return [];
    const from = new Date(dayStart.getTime() - 86_400_000);
    const res = await sql<{ queueId: string; ahtSeconds: string }>`
      SELECT c.queue_id, (avg(h.talk_ms + h.wrap_ms) / 1000.0)::text AS aht_seconds
      FROM (
        SELECT call_id,
          sum(previous_duration_ms) FILTER (WHERE from_state = 'on_call') AS talk_ms,
          sum(previous_duration_ms) FILTER (WHERE from_state = 'wrap_up') AS wrap_ms,
          max(at) FILTER (WHERE from_state = 'wrap_up') AS wrap_end
        FROM agent_state_log
        WHERE at >= ${from} AND from_state IN ('on_call', 'wrap_up')
          AND call_id ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
        GROUP BY call_id
      ) h
      JOIN calls c ON c.id = h.call_id::uuid
      WHERE h.wrap_end >= ${dayStart} AND h.talk_ms IS NOT NULL AND c.queue_id = ANY(${[...queueIds]}::uuid[])
      GROUP BY c.queue_id`.execute(db);
    return res.rows.map((r) => ({ queueId: r.queueId, ahtSeconds: Number(r.ahtSeconds) }));
  }
}
