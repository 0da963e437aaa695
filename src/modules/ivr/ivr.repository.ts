import { sql } from 'kysely';
import type { Executor } from '../../adapters/db/database.js';
import { ACD_CONFIG_LOCK_KEY } from '../queues/queues.repository.js';

export interface MenuVersionRow {
  version: number;
  document: unknown;
  note: string | null;
  createdBy: string | null;
  createdAt: Date;
}

export class IvrRepository {
  /** The queues module's configuration lock: a menu and the queues it names change one at a time. */
  async lockConfig(tx: Executor): Promise<void> {
    await sql`SELECT pg_advisory_xact_lock(${ACD_CONFIG_LOCK_KEY})`.execute(tx);
  }

  async current(db: Executor): Promise<MenuVersionRow | undefined> {
    return db.selectFrom('ivrMenus').selectAll().orderBy('version', 'desc').limit(1).executeTakeFirst();
  }

  async find(db: Executor, version: number): Promise<MenuVersionRow | undefined> {
    return db.selectFrom('ivrMenus').selectAll().where('version', '=', version).executeTakeFirst();
  }

  async list(db: Executor, limit: number): Promise<Omit<MenuVersionRow, 'document'>[]> {
    return db.selectFrom('ivrMenus').select(['version', 'note', 'createdBy', 'createdAt']).orderBy('version', 'desc').limit(limit).execute();
  }

  async insert(db: Executor, m: { version: number; document: unknown; note: string | null; createdBy: string | null }): Promise<MenuVersionRow> {
    return db.insertInto('ivrMenus').values({ ...m, document: JSON.stringify(m.document) }).returningAll().executeTakeFirstOrThrow();
  }

  async activeQueueCodes(db: Executor): Promise<Set<string>> {
    return new Set((await db.selectFrom('queues').select('code').where('active', '=', true).execute()).map((r) => r.code));
  }

  /** Whether the user still exists (the principal may be an API key, which is not a user). */
  async userExists(db: Executor, id: string): Promise<boolean> {
    return (await db.selectFrom('users').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
  }
}
