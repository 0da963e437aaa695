/** Idempotency keys for intake: the stored first response, and a per-key lock for concurrent retries. */
import { sql } from 'kysely';
import type { Executor } from '../../adapters/db/database.js';

export interface IdempotencyRow { requestHash: string; responseStatus: number; responseBody: unknown; resourceId: string | null; createdAt: Date }

export class IdempotencyRepository {
  /** Held until the transaction ends: a concurrent retry waits here, then sees the stored result. */
  async lock(db: Executor, principalId: string, key: string): Promise<void> {
    await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`idem:${principalId}:${key}`}, 0))`.execute(db);
  }

  async find(db: Executor, principalId: string, key: string): Promise<IdempotencyRow | undefined> {
    return db.selectFrom('idempotencyKeys').select(['requestHash', 'responseStatus', 'responseBody', 'resourceId', 'createdAt'])
      .where('principalId', '=', principalId).where('key', '=', key).executeTakeFirst();
  }

  async deleteIfOlder(db: Executor, principalId: string, key: string, before: Date): Promise<void> {
    await db.deleteFrom('idempotencyKeys').where('principalId', '=', principalId).where('key', '=', key).where('createdAt', '<', before).execute();
  }

  async insert(db: Executor, r: { principalId: string; key: string; scope: string; requestHash: string; responseStatus: number; responseBody: unknown; resourceId: string | null; createdAt: Date }): Promise<void> {
    await db.insertInto('idempotencyKeys').values({ ...r, responseBody: JSON.stringify(r.responseBody) }).execute();
  }

  async prune(db: Executor, before: Date, limit = 10_000): Promise<number> {
    const r = await sql`DELETE FROM idempotency_keys WHERE ctid IN (SELECT ctid FROM idempotency_keys WHERE created_at < ${before} LIMIT ${limit})`.execute(db);
    return Number(r.numAffectedRows ?? 0);
  }
}
