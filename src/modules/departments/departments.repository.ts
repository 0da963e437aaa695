import { sql } from 'kysely';
import type { Executor } from '../../adapters/db/database.js';

export type DepartmentLevel = 'province' | 'city' | 'district' | 'street' | 'community';
export type DepartmentKind = 'government' | 'partner';
export type PartnerKind = 'water' | 'power' | 'gas' | 'heat' | 'telecom';

export interface DepartmentRow {
  id: string;
  parentId: string | null;
  centreId: string;
  code: string;
  name: string;
  kind: DepartmentKind;
  partnerKind: PartnerKind | null;
  level: DepartmentLevel;
  description: string | null;
  active: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface FunctionRow { id: string; departmentId: string; code: string; name: string; categoryId: string | null; createdAt: Date }
export interface AreaRow { departmentId: string; areaCode: string; areaName: string; createdAt: Date }
export interface CandidateRow { department: DepartmentRow; areaCode: string | null; functionCodes: string[] }

const COLUMNS = ['id', 'parentId', 'centreId', 'code', 'name', 'kind', 'partnerKind', 'level', 'description', 'active', 'createdAt', 'updatedAt'] as const;
const D_COLUMNS = COLUMNS.map((c) => `d.${c}` as const);

export class DepartmentsRepository {
  async insert(db: Executor, d: { parentId: string | null; code: string; name: string; kind: DepartmentKind; partnerKind: PartnerKind | null; level: DepartmentLevel; description: string | null }): Promise<DepartmentRow> {
    return (await db.insertInto('departments').values(d).returning(COLUMNS).executeTakeFirstOrThrow()) as DepartmentRow;
  }

  async update(db: Executor, id: string, patch: Partial<Pick<DepartmentRow, 'name' | 'parentId' | 'partnerKind' | 'description' | 'active'>>): Promise<DepartmentRow | undefined> {
    return (await db.updateTable('departments').set({ ...patch, updatedAt: sql<Date>`now()` }).where('id', '=', id).returning(COLUMNS).executeTakeFirst()) as DepartmentRow | undefined;
  }

  async findById(db: Executor, id: string): Promise<DepartmentRow | undefined> {
    return (await db.selectFrom('departments').select(COLUMNS).where('id', '=', id).executeTakeFirst()) as DepartmentRow | undefined;
  }

  async findByIds(db: Executor, ids: readonly string[]): Promise<DepartmentRow[]> {
    if (ids.length === 0) return [];
    return (await db.selectFrom('departments').select(COLUMNS).where('id', 'in', ids).execute()) as DepartmentRow[];
  }

  async findByCode(db: Executor, code: string): Promise<DepartmentRow | undefined> {
    return (await db.selectFrom('departments').select(COLUMNS).where('code', '=', code).executeTakeFirst()) as DepartmentRow | undefined;
  }

  async list(db: Executor, f: { ids?: readonly string[]; parentId?: string; kind?: DepartmentKind; partnerKind?: PartnerKind; active?: boolean; after?: string; limit: number }): Promise<DepartmentRow[]> {
    let q = db.selectFrom('departments').select(COLUMNS).orderBy('code').limit(f.limit);
    if (f.ids) q = f.ids.length ? q.where('id', 'in', f.ids) : q.where('id', 'is', null);
    if (f.parentId) q = q.where('parentId', '=', f.parentId);
    if (f.kind) q = q.where('kind', '=', f.kind);
    if (f.partnerKind) q = q.where('partnerKind', '=', f.partnerKind);
    if (f.active !== undefined) q = q.where('active', '=', f.active);
    if (f.after) q = q.where('code', '>', f.after);
    return (await q.execute()) as DepartmentRow[];
  }

  /** The department and everything below it, parents before children (depth, then code). */
  async subtree(db: Executor, rootId: string, maxRows: number): Promise<(DepartmentRow & { depth: number })[]> {
    const res = await sql<DepartmentRow & { depth: number }>`
      WITH RECURSIVE t AS (
        SELECT d.*, 0 AS depth FROM departments d WHERE d.id = ${rootId}
        UNION ALL
        SELECT c.*, t.depth + 1 FROM departments c JOIN t ON c.parent_id = t.id WHERE t.depth < 10
      )
      SELECT id, parent_id, centre_id, code, name, kind, partner_kind, level, description, active, created_at, updated_at, depth
      FROM t ORDER BY depth, code LIMIT ${maxRows}`.execute(db);
    return res.rows;
  }

  /** Ids of the department's ancestors, nearest first (to refuse cycles on re-parenting). */
  async ancestorIds(db: Executor, id: string): Promise<string[]> {
    const res = await sql<{ id: string }>`
      WITH RECURSIVE a AS (
        SELECT parent_id AS id, 1 AS depth FROM departments WHERE id = ${id}
        UNION ALL
        SELECT d.parent_id, a.depth + 1 FROM departments d JOIN a ON d.id = a.id WHERE a.depth < 20
      )
      SELECT id FROM a WHERE id IS NOT NULL ORDER BY depth`.execute(db);
    return res.rows.map((r) => r.id);
  }

  async countActiveChildren(db: Executor, id: string): Promise<number> {
    const row = await db.selectFrom('departments').select((eb) => eb.fn.countAll<string>().as('n')).where('parentId', '=', id).where('active', '=', true).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** The category and its ancestors: a function tied to 城市管理 also covers 城市管理/路灯. */
  async categoryLineage(db: Executor, categoryId: string): Promise<string[]> {
    const res = await sql<{ id: string }>`
      WITH RECURSIVE c AS (
        SELECT id, parent_id, 0 AS depth FROM categories WHERE id = ${categoryId}
        UNION ALL
        SELECT p.id, p.parent_id, c.depth + 1 FROM categories p JOIN c ON p.id = c.parent_id WHERE c.depth < 20
      ) SELECT id FROM c ORDER BY depth`.execute(db);
    return res.rows.map((r) => r.id);
  }

  // --- Functions (职能).
  async listFunctions(db: Executor, departmentId: string): Promise<FunctionRow[]> {
    return db.selectFrom('departmentFunctions').selectAll().where('departmentId', '=', departmentId).orderBy('code').execute();
  }

  async insertFunction(db: Executor, f: { departmentId: string; code: string; name: string; categoryId: string | null }): Promise<FunctionRow | undefined> {
    return db.insertInto('departmentFunctions').values(f).onConflict((oc) => oc.columns(['departmentId', 'code']).doNothing()).returningAll().executeTakeFirst();
  }

  async deleteFunction(db: Executor, departmentId: string, functionId: string): Promise<boolean> {
    const r = await db.deleteFrom('departmentFunctions').where('departmentId', '=', departmentId).where('id', '=', functionId).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  // --- Jurisdiction areas (管辖区域).
  async listAreas(db: Executor, departmentId: string): Promise<AreaRow[]> {
    return db.selectFrom('departmentAreas').selectAll().where('departmentId', '=', departmentId).orderBy('areaCode').execute();
  }

  async upsertArea(db: Executor, a: { departmentId: string; areaCode: string; areaName: string }): Promise<AreaRow> {
    return db.insertInto('departmentAreas').values(a)
      .onConflict((oc) => oc.columns(['departmentId', 'areaCode']).doUpdateSet({ areaName: a.areaName }))
      .returningAll().executeTakeFirstOrThrow();
  }

  async deleteArea(db: Executor, departmentId: string, areaCode: string): Promise<boolean> {
    const r = await db.deleteFrom('departmentAreas').where('departmentId', '=', departmentId).where('areaCode', '=', areaCode).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /**
   * Active departments whose jurisdiction covers the area (one of their codes is a prefix of it)
   * and/or whose functions match; the most specific jurisdiction first, then lower levels.
   */
  async candidates(db: Executor, f: { areaCode?: string; functionCode?: string; categoryIds?: readonly string[]; kind?: DepartmentKind; limit: number }): Promise<CandidateRow[]> {
    const areaPrefixes = f.areaCode ? Array.from({ length: f.areaCode.length - 1 }, (_, i) => f.areaCode!.slice(0, i + 2)) : [];
    let q = db.selectFrom('departments as d')
      .select(D_COLUMNS)
      .select((eb) => [
        eb.selectFrom('departmentAreas as a').select('a.areaCode').whereRef('a.departmentId', '=', 'd.id')
          .where('a.areaCode', 'in', areaPrefixes.length ? areaPrefixes : ['-']).orderBy(sql`length(a.area_code)`, 'desc').limit(1).as('matchedArea'),
        eb.selectFrom('departmentFunctions as f').select(sql<string[]>`coalesce(array_agg(f.code ORDER BY f.code), '{}')`.as('codes')).whereRef('f.departmentId', '=', 'd.id').as('functionCodes'),
      ])
      .where('d.active', '=', true);
    if (f.kind) q = q.where('d.kind', '=', f.kind);
    if (areaPrefixes.length) {
      q = q.where((eb) => eb.exists(eb.selectFrom('departmentAreas as a').select(sql`1`.as('one')).whereRef('a.departmentId', '=', 'd.id').where('a.areaCode', 'in', areaPrefixes)));
    }
    if (f.functionCode || f.categoryIds?.length) {
      q = q.where((eb) => eb.exists(
        eb.selectFrom('departmentFunctions as f').select(sql`1`.as('one')).whereRef('f.departmentId', '=', 'd.id').where((w) => w.or([
          ...(f.functionCode ? [w('f.code', '=', f.functionCode)] : []),
          ...(f.categoryIds?.length ? [w('f.categoryId', 'in', f.categoryIds)] : []),
        ])),
      ));
    }
    const rows = await q
      .orderBy(sql`coalesce((SELECT max(length(a.area_code)) FROM department_areas a WHERE a.department_id = d.id AND a.area_code = ANY(${areaPrefixes.length ? areaPrefixes : ['-']}::text[])), 0)`, 'desc')
      .orderBy(sql`array_position(ARRAY['province','city','district','street','community'], d.level)`, 'desc')
      .orderBy('d.code')
      .limit(f.limit)
      .execute();
    return rows.map((r) => {
      const { matchedArea, functionCodes, ...department } = r as unknown as DepartmentRow & { matchedArea: string | null; functionCodes: string[] | null };
      return { department, areaCode: matchedArea, functionCodes: functionCodes ?? [] };
    });
  }
}
