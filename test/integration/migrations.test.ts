import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { generateSchemaTypes, SCHEMA_FILE } from '../../scripts/db-types.js';
import { createDb } from '../../src/adapters/db/database.js';
import { MIGRATIONS_DIR, migrate, MigrationError } from '../../src/adapters/db/migrator.js';
import { createTestDatabase } from '../support/db.js';
import { TEST_DATABASE_URL } from '../support/env.js';

const silent = pino({ level: 'silent' });
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

describe('migrations', () => {
  it('applies each migration once when two instances start together (advisory lock)', async () => {
    const db = await createTestDatabase({ migrated: false });
    cleanups.push(() => db.drop());
    const a = createDb(db.url, 3, silent);
    const b = createDb(db.url, 3, silent);
    try {
      const [ra, rb] = await Promise.all([migrate(a.pool, silent), migrate(b.pool, silent)]);
      const files = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith('.sql'));
      // One instance applied everything, the other found nothing left to do.
      expect([ra.applied.length, rb.applied.length].sort()).toEqual([0, files.length]);
      const { rows } = await a.pool.query('SELECT version FROM schema_migrations');
      expect(rows).toHaveLength(files.length);
      expect((await migrate(a.pool, silent)).applied).toEqual([]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('refuses to start when a shipped migration was edited', async () => {
    const db = await createTestDatabase({ migrated: false });
    cleanups.push(() => db.drop());
    const dir = await mkdtemp(path.join(tmpdir(), 'mig-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(path.join(dir, '0001_first.sql'), 'CREATE TABLE t1 (id int);');
    const h = createDb(db.url, 2, silent);
    try {
      await migrate(h.pool, silent, dir);
      await writeFile(path.join(dir, '0001_first.sql'), 'CREATE TABLE t1 (id bigint);');
      await expect(migrate(h.pool, silent, dir)).rejects.toThrow(/0001_first was edited after it was applied/);
      await writeFile(path.join(dir, '0001_first.sql'), 'CREATE TABLE t1 (id int);');
      await writeFile(path.join(dir, '0002_broken.sql'), 'CREATE TABLE t2 (id int); SELECT no_such_function();');
      await expect(migrate(h.pool, silent, dir)).rejects.toBeInstanceOf(MigrationError);
      // The failed migration left nothing behind.
      const { rows } = await h.pool.query("SELECT to_regclass('t2') AS t");
      expect(rows[0].t).toBeNull();
      await writeFile(path.join(dir, 'bad-name.sql'), 'SELECT 1;');
      await expect(migrate(h.pool, silent, dir)).rejects.toThrow(/must look like 0001_name.sql/);
    } finally {
      await h.close();
    }
  });

  it('keeps the Kysely table types in step with the migrated schema', async () => {
    const generated = await generateSchemaTypes(TEST_DATABASE_URL);
    const committed = await readFile(SCHEMA_FILE, 'utf8');
    expect(committed, 'src/adapters/db/schema.ts is stale: run `npm run db:types`').toBe(generated);
  }, 60_000);
});
