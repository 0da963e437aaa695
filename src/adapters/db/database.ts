/** The PostgreSQL pool and the Kysely instance built on it. Only repositories use `Kysely<DB>`. */
import { CamelCasePlugin, Kysely, PostgresDialect, type Transaction } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import type { DB } from './schema.js';

export type Database = Kysely<DB>;
export type Tx = Transaction<DB>;
/** Repositories take either the database or a transaction, so services own transaction scope. */
export type Executor = Database | Tx;


export interface DbHandle {
  readonly pool: pg.Pool;
  readonly db: Database;
  close(): Promise<void>;
}

export function createDb(url: string, poolSize: number, logger: Logger): DbHandle {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
    application_name: 'hotline',
  });
  // An idle client losing its server (restart, failover) must not crash the process.
  pool.on('error', (err) => logger.warn({ err }, 'idle PostgreSQL client error'));
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }), plugins: [new CamelCasePlugin()] });
  let closed = false;
  return {
    pool,
    db,
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}
