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

/**
 * Failures after which nothing was committed, so the work may simply run again: no pool
 * connection within `connectionTimeoutMillis` (nothing was sent), a serialization failure or a
 * deadlock (PostgreSQL rolled the transaction back). A connection lost mid-transaction is not
 * here: whether its COMMIT got through is unknown.
 */
export function isRetryableDbError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (e?.code === '40001' || e?.code === '40P01') return true;
  return typeof e?.message === 'string' && e.message.startsWith('timeout exceeded when trying to connect');
}

export interface RetryOptions {
  readonly attempts?: number;
  readonly firstDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly onRetry?: (err: unknown, attempt: number) => void;
}

/** Runs `fn` again (with capped exponential backoff) while it fails with a retryable error. */
export async function retryDb<T>(fn: () => Promise<T>, o: RetryOptions = {}): Promise<T> {
  const attempts = o.attempts ?? 8;
  let delay = o.firstDelayMs ?? 100;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= attempts || !isRetryableDbError(err)) throw err;
      o.onRetry?.(err, attempt);
      await new Promise((r) => setTimeout(r, delay * (0.5 + Math.random() / 2)));
      delay = Math.min(delay * 2, o.maxDelayMs ?? 2000);
    }
  }
}
