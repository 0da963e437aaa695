import { sql } from 'kysely';
import type { Executor } from '../../adapters/db/database.js';
import type { ScopeDomain, Urgency } from '../../domain/tickets/index.js';

export interface CategoryRow {
  id: string;
  parentId: string | null;
  code: string;
  name: string;
  scopeDomain: ScopeDomain | null;
  defaultUrgency: Urgency | null;
  sortOrder: number;
  active: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export type CategoryPatch = Partial<Pick<CategoryRow, 'parentId' | 'name' | 'scopeDomain' | 'defaultUrgency' | 'sortOrder' | 'active'>>;

const COLUMNS = ['id', 'parentId', 'code', 'name', 'scopeDomain', 'defaultUrgency', 'sortOrder', 'active', 'createdAt', 'updatedAt'] as const;

export class CategoriesRepository {
  async insert(db: Executor, c: Omit<CategoryRow, 'id' | 'active' | 'createdAt' | 'updatedAt'>): Promise<CategoryRow> {
    return (await db.insertInto('categories').values(c).returning(COLUMNS).executeTakeFirstOrThrow()) as CategoryRow;
  }

  async update(db: Executor, id: string, patch: CategoryPatch): Promise<CategoryRow | undefined> {
    return (await db.updateTable('categories').set({ ...patch, updatedAt: sql<Date>`now()` }).where('id', '=', id).returning(COLUMNS).executeTakeFirst()) as CategoryRow | undefined;
  }

  async findById(db: Executor, id: string): Promise<CategoryRow | undefined> {
    return (await db.selectFrom('categories').select(COLUMNS).where('id', '=', id).executeTakeFirst()) as CategoryRow | undefined;
  }

  async findByCode(db: Executor, code: string): Promise<CategoryRow | undefined> {
    return (await db.selectFrom('categories').select(COLUMNS).where('code', '=', code).executeTakeFirst()) as CategoryRow | undefined;
  }

  /** Children of a parent (null = roots), keyset by code. */
  async list(db: Executor, f: { parentId: string | null; includeInactive: boolean; after?: string; limit: number }): Promise<CategoryRow[]> {
    let q = db.selectFrom('categories').select(COLUMNS).orderBy('code').limit(f.limit);
    q = f.parentId === null ? q.where('parentId', 'is', null) : q.where('parentId', '=', f.parentId);
    if (!f.includeInactive) q = q.where('active', '=', true);
    if (f.after) q = q.where('code', '>', f.after);
    return (await q.execute()) as CategoryRow[];
  }

  /** The whole catalogue (it is small: hundreds of items), for the tree view. */
  async all(db: Executor, includeInactive: boolean, max: number): Promise<CategoryRow[]> {
    let q = db.selectFrom('categories').select(COLUMNS).orderBy('sortOrder').orderBy('code').limit(max);
    if (!includeInactive) q = q.where('active', '=', true);
    return (await q.execute()) as CategoryRow[];
  }

  async ancestorIds(db: Executor, id: string): Promise<string[]> {
    const res = await sql<{ id: string }>`
      WITH RECURSIVE a AS (
        SELECT parent_id AS id, 1 AS depth FROM categories WHERE id = ${id}
        UNION ALL
        SELECT c.parent_id, a.depth + 1 FROM categories c JOIN a ON c.id = a.id WHERE a.depth < 20
      ) SELECT id FROM a WHERE id IS NOT NULL ORDER BY depth`.execute(db);
    return res.rows.map((r) => r.id);
  }

  async countActiveChildren(db: Executor, id: string): Promise<number> {
    const row = await db.selectFrom('categories').select((eb) => eb.fn.countAll<string>().as('n')).where('parentId', '=', id).where('active', '=', true).executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
