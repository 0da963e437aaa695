import { sql } from 'kysely';
import type { Executor } from '../../adapters/db/database.js';

export interface SkillRow {
  id: string;
  code: string;
  name: string;
  description: string | null;
  active: boolean;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = ['id', 'code', 'name', 'description', 'active', 'createdAt', 'updatedAt'] as const;

export class SkillsRepository {
  async insert(db: Executor, s: { code: string; name: string; description: string | null }): Promise<SkillRow> {
    return db.insertInto('skills').values(s).returning(COLUMNS).executeTakeFirstOrThrow();
  }

  async update(db: Executor, id: string, patch: Partial<Pick<SkillRow, 'name' | 'description' | 'active'>>): Promise<SkillRow | undefined> {
    return db.updateTable('skills').set({ ...patch, updatedAt: sql<Date>`now()` }).where('id', '=', id).returning(COLUMNS).executeTakeFirst();
  }

  async findById(db: Executor, id: string): Promise<SkillRow | undefined> {
    return db.selectFrom('skills').select(COLUMNS).where('id', '=', id).executeTakeFirst();
  }

  async findByCode(db: Executor, code: string): Promise<SkillRow | undefined> {
    return db.selectFrom('skills').select(COLUMNS).where('code', '=', code).executeTakeFirst();
  }

  async findByIds(db: Executor, ids: readonly string[]): Promise<SkillRow[]> {
    if (ids.length === 0) return [];
    return db.selectFrom('skills').select(COLUMNS).where('id', 'in', ids).execute();
  }

  async list(db: Executor, f: { active?: boolean; after?: string; limit: number }): Promise<SkillRow[]> {
    let q = db.selectFrom('skills').select(COLUMNS).orderBy('code').limit(f.limit);
    if (f.active !== undefined) q = q.where('active', '=', f.active);
    if (f.after) q = q.where('code', '>', f.after);
    return q.execute();
  }

  /** Codes of active queues that require the skill. */
  async activeQueuesRequiring(db: Executor, skillId: string): Promise<string[]> {
    const rows = await db.selectFrom('queueSkills as qs').innerJoin('queues as q', 'q.id', 'qs.queueId')
      .select('q.code').where('qs.skillId', '=', skillId).where('q.active', '=', true).orderBy('q.code').execute();
    return rows.map((r) => r.code);
  }
}
