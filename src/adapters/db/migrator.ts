/**
 * Applies `migrations/NNNN_name.sql` in order, each in its own transaction, under a PostgreSQL
 * advisory lock so that instances starting together never race. A shipped migration is never
 * edited: a changed checksum stops start-up.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import type { Logger } from 'pino';

// Any fixed 64-bit number works; this one spells "12345" in the low digits.
const MIGRATION_LOCK_KEY = 7_312_012_345;
export class MigrationError extends Error {
  override readonly name = 'MigrationError';
}

/** `migrations/` beside package.json, whether running from src/ (tsx) or dist/src/ (node). */
function findMigrationsDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'migrations'))) return path.join(dir, 'migrations');
    const parent = path.dirname(dir);
    if (parent === dir) throw new MigrationError('Cannot find the migrations/ folder next to package.json');
    dir = parent;
  }
}
export const MIGRATIONS_DIR = findMigrationsDir();
const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export interface Migration {
  readonly version: string;
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}


export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const m = FILE_NAME.exec(file);
    if (!m) throw new MigrationError(`Migration file name ${file} must look like 0001_name.sql`);
    const sql = await readFile(path.join(dir, file), 'utf8');
    migrations.push({ version: m[1]!, name: m[2]!, sql, checksum: createHash('sha256').update(sql).digest('hex') });
  }
  const versions = new Set(migrations.map((m) => m.version));
  if (versions.size !== migrations.length) throw new MigrationError('Two migration files share a version number');
  return migrations;
}

export interface MigrateResult {
  readonly applied: string[];
  readonly current: string | undefined;
}

export async function migrate(pool: pg.Pool, logger: Logger, dir = MIGRATIONS_DIR): Promise<MigrateResult> {
  const migrations = await loadMigrations(dir);
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version text PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      const { rows } = await client.query<{ version: string; name: string; checksum: string }>(
        'SELECT version, name, checksum FROM schema_migrations ORDER BY version');
      const known = new Map(migrations.map((m) => [m.version, m]));
      for (const row of rows) {
        const file = known.get(row.version);
        if (!file) throw new MigrationError(`Database has migration ${row.version}_${row.name}, which is not in ${dir}: is this an older build?`);
        if (file.checksum !== row.checksum) {
          throw new MigrationError(`Migration ${row.version}_${row.name} was edited after it was applied (checksum differs); add a new migration instead`);
        }
      }
      const done = new Set(rows.map((r) => r.version));
      const applied: string[] = [];
      for (const m of migrations) {
        if (done.has(m.version)) continue;
        const started = Date.now();
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [m.version, m.name, m.checksum]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw new MigrationError(`Migration ${m.version}_${m.name} failed: ${(err as Error).message}`, { cause: err });
        }
        applied.push(`${m.version}_${m.name}`);
        logger.info({ migration: `${m.version}_${m.name}`, ms: Date.now() - started }, 'migration applied');
      }
      const last = migrations.at(-1);
      return { applied, current: last ? `${last.version}_${last.name}` : undefined };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    client.release();
  }
}
