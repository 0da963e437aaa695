/** The PostgreSQL pool and the Kysely instance built on it. Only repositories use `Kysely<DB>`. */
import { createHash } from 'node:crypto';
import { CamelCasePlugin, Kysely, PostgresDialect, type CompiledQuery, type Compilable, type Transaction } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import type { DB } from './schema.js';

export type Database = Kysely<DB>;
export type Tx = Transaction<DB>;
/** Repositories take either the database or a transaction, so services own transaction scope. */
export type Executor = Database | Tx;


/**
 * Starts a statement that runs as a named prepared statement on each pooled connection: it is
 * parsed once per connection, and after a few executions PostgreSQL reuses a generic plan
 * when it is no costlier than a custom one, where an unnamed statement is planned at every
 * execution. On the call path planning was most of a hot statement's cost (0.2–0.6 ms each,
 * against 0.05–0.7 ms of execution). Only for statements whose best plan does not depend on
 * the values (lookups and writes by key), never for searches.
 */
export const PREPARED = '/* prepared */';

/** A query builder's statement, marked `PREPARED`: run it with `executeQuery`. */
export function prepared<O>(query: Compilable<O>): CompiledQuery<O> {
  const c = query.compile();
  return { ...c, sql: `${PREPARED} ${c.sql}` };
}

/** Statements one connection keeps prepared; later ones run unnamed (node-postgres never drops them). */
const MAX_PREPARED_PER_CONNECTION = 200;

type QueryFn = (...args: unknown[]) => unknown;
/** The mark, after the indentation of a multi-line `sql` template. */
const MARKED = /^\s*\/\* prepared \*\//;

/** Gives each `PREPARED` statement text a name on this connection (a hash of the text). */
function prepareMarkedStatements(client: pg.PoolClient): void {
  const query = client.query.bind(client) as QueryFn;
  const names = new Map<string, string>();
  (client as unknown as { query: QueryFn }).query = (text: unknown, values: unknown, callback?: unknown) => {
    if (typeof text === 'string' && MARKED.test(text) && Array.isArray(values)) {
      let name = names.get(text);
      if (name === undefined && names.size < MAX_PREPARED_PER_CONNECTION) {
        name = `hotline_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
        names.set(text, name);
      }
      if (name !== undefined) return callback === undefined ? query({ name, text, values }) : query({ name, text, values }, callback);
    }
    return query(text, values, callback);
  };
}

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
  pool.on('connect', prepareMarkedStatements);
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
