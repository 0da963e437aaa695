import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { prepared, type Executor, type Tx } from '../../adapters/db/database.js';
import { assertEventType, type EventEnvelope, type NewEvent } from './events.js';

export interface OutboxRow {
  readonly id: string;
  readonly subject: string;
  readonly type: string;
  readonly payload: Record<string, unknown>;
  readonly headers: Readonly<Record<string, string>>;
}

/** An outbox row as the `outbox` table takes it (JSON columns as text), for an insert in any statement. */
export function outboxValues(r: OutboxRow): { id: string; subject: string; type: string; payload: string; headers: string } {
  return { id: r.id, subject: r.subject, type: r.type, payload: JSON.stringify(r.payload), headers: JSON.stringify(r.headers) };
}

export class OutboxRepository {
  constructor(private readonly subjectPrefix: string) {}

  /** Must be called inside the transaction that makes the change being announced. */
  async append(tx: Tx, events: readonly NewEvent[]): Promise<EventEnvelope[]> {
    if (events.length === 0) return [];
    const rows = this.prepare(events).map(outboxValues);
    const inserted = (await tx.executeQuery(prepared(tx.insertInto('outbox').values(rows).returning(['id', 'subject', 'type', 'payload', 'headers', 'createdAt'])))).rows;
    return inserted.map(toEnvelope);
  }

  /**
   * Validated outbox rows for a repository that writes them in the same statement as the change
   * they announce (a data-modifying CTE): one round trip instead of two.
   */
  prepare(events: readonly NewEvent[]): OutboxRow[] {
    return events.map((e) => {
      assertEventType(e.type);
      return { id: randomUUID(), subject: e.subject ?? `${this.subjectPrefix}.${e.type}`, type: e.type, payload: e.payload, headers: e.headers ?? {} };
    });
  }

  /** Oldest pending events, locked for this relay; other instances skip them. */
  async claimBatch(tx: Tx, limit: number): Promise<EventEnvelope[]> {
    const rows = await tx.selectFrom('outbox')
      .select(['id', 'subject', 'type', 'payload', 'headers', 'createdAt'])
      .where('publishedAt', 'is', null)
      .orderBy('seq')
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute();
    return rows.map(toEnvelope);
  }

  async markPublished(tx: Tx, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await tx.updateTable('outbox').set({ publishedAt: sql`now()` }).where('id', 'in', ids).execute();
  }

  async markFailed(db: Executor, id: string, error: string): Promise<void> {
    await db.updateTable('outbox')
      .set((eb) => ({ attempts: eb('attempts', '+', 1), lastError: error.slice(0, 1000) }))
      .where('id', '=', id)
      .execute();
  }

  async pendingCount(db: Executor): Promise<number> {
    const row = await db.selectFrom('outbox').select((eb) => eb.fn.countAll<string>().as('n')).where('publishedAt', 'is', null).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Published rows older than the retention are deleted in bounded batches. */
  async prunePublished(db: Executor, olderThan: Date, limit = 10_000): Promise<number> {
    const res = await sql<{ n: string }>`
      WITH doomed AS (SELECT id FROM outbox WHERE published_at < ${olderThan} ORDER BY seq LIMIT ${limit})
      DELETE FROM outbox o USING doomed WHERE o.id = doomed.id`.execute(db);
    return Number(res.numAffectedRows ?? 0);
  }
}

function toEnvelope(r: { id: string; subject: string; type: string; payload: unknown; headers: unknown; createdAt: Date }): EventEnvelope {
  return {
    id: r.id,
    subject: r.subject,
    type: r.type,
    occurredAt: r.createdAt.toISOString(),
    payload: r.payload as Record<string, unknown>,
    headers: r.headers as Record<string, string>,
  };
}
