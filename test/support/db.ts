/** A fresh database per test file, cloned from the migrated template. */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { databaseUrl } from './env.js';

export async function createTestDatabase(opts: { migrated?: boolean } = {}): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const adminUrl = inject('adminDbUrl');
  const template = inject('templateDb');
  const name = `hotline_test_${inject('dbTag')}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    // Cloning needs the template to itself: concurrent clones from other test files wait their turn.
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(opts.migrated === false ? `CREATE DATABASE ${name}` : `CREATE DATABASE ${name} TEMPLATE ${template}`);
        break;
      } catch (err) {
        if ((err as { code?: string }).code !== '55006' || attempt > 100) throw err;
        await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
      }
    }
  } finally {
    await admin.end();
  }
  return {
    url: databaseUrl(name, adminUrl),
    name,
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
