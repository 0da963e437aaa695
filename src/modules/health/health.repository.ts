import { sql } from 'kysely';
import type { Executor } from '../../adapters/db/database.js';

export class HealthRepository {
  /** One round trip through the pool: PostgreSQL answers. */
  async ping(db: Executor): Promise<void> {
    await sql`SELECT 1`.execute(db);
  }
}
