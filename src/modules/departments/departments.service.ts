/**
 * 承办部门: the tree down to community/grid, partner units, functions (职能) and jurisdiction areas
 * (管辖区域), and dispatch suggestions from them. Department handlers see only their own department.
 */
import type { Database } from '../../adapters/db/database.js';
import { isDepartmentScoped, requireDepartmentAccess, requireRole, type Principal } from '../../domain/auth.js';
import { ConflictError, NotFoundError, ValidationError } from '../../domain/errors.js';
import type { OutboxRepository } from '../events/outbox.repository.js';
import type { AreaRow, DepartmentKind, DepartmentLevel, DepartmentRow, DepartmentsRepository, FunctionRow, PartnerKind } from './departments.repository.js';

const LEVELS: readonly DepartmentLevel[] = ['province', 'city', 'district', 'street', 'community'];
const MANAGERS = ['operator', 'admin'] as const;
const STAFF = ['agent', 'supervisor', 'operator', 'admin'] as const;
const SUBTREE_MAX = 2000;

export interface PublicDepartment {
  id: string;
  parentId: string | null;
  code: string;
  name: string;
  kind: DepartmentKind;
  partnerKind: PartnerKind | null;
  level: DepartmentLevel;
  description: string | null;
  active: boolean;
  createdAt: string;
}

export interface PublicFunction { id: string; departmentId: string; code: string; name: string; categoryId: string | null }
export interface PublicArea { departmentId: string; areaCode: string; areaName: string }
export interface Candidate { department: PublicDepartment; matchedAreaCode: string | null; functionCodes: string[] }

export interface CreateDepartmentInput {
  parentId?: string | null; code: string; name: string; kind?: DepartmentKind; partnerKind?: PartnerKind; level: DepartmentLevel; description?: string;
}

export class DepartmentsService {
  constructor(private readonly db: Database, private readonly repo: DepartmentsRepository, private readonly outbox: OutboxRepository) {}

  async create(input: CreateDepartmentInput, actor: Principal): Promise<PublicDepartment> {
    requireRole(actor, MANAGERS);
    const kind = input.kind ?? (input.partnerKind ? 'partner' : 'government');
    if (input.partnerKind && kind !== 'partner') throw new ValidationError('partnerKind is only for partner units', { field: 'partnerKind' }, 'partner_kind_not_partner');
    if (kind === 'partner' && !input.partnerKind) throw new ValidationError('a partner unit names its utility: water, power, gas, heat or telecom', { field: 'partnerKind' }, 'partner_kind_required');
    return this.db.transaction().execute(async (tx) => {
      const parentId = input.parentId ?? null;
      if (parentId) {
        const parent = await this.repo.findById(tx, parentId);
        if (!parent) throw new NotFoundError('Department', parentId, 'department_not_found');
        if (!parent.active) throw new ConflictError('The parent department is deactivated', 'department_inactive');
        checkLevel(input.level, parent.level, kind);
      }
      if (await this.repo.findByCode(tx, input.code)) throw new ConflictError(`Department code ${input.code} is taken`, 'department_code_taken');
      const row = await this.repo.insert(tx, { parentId, code: input.code, name: input.name, kind, partnerKind: input.partnerKind ?? null, level: input.level, description: input.description ?? null });
      const dept = toPublic(row);
      await this.outbox.append(tx, [{ type: 'department.created', payload: { department: dept, by: actor.id } }]);
      return dept;
    });
  }

  async update(id: string, patch: { name?: string; parentId?: string | null; partnerKind?: PartnerKind; description?: string | null; active?: boolean }, actor: Principal): Promise<PublicDepartment> {
    requireRole(actor, MANAGERS);
    return this.db.transaction().execute(async (tx) => {
      const current = await this.repo.findById(tx, id);
      if (!current) throw new NotFoundError('Department', id, 'department_not_found');
      if (patch.partnerKind && current.kind !== 'partner') throw new ValidationError('partnerKind is only for partner units', { field: 'partnerKind' }, 'partner_kind_not_partner');
      if (patch.parentId !== undefined && patch.parentId !== current.parentId && patch.parentId !== null) {
        const parent = await this.repo.findById(tx, patch.parentId);
        if (!parent) throw new NotFoundError('Department', patch.parentId, 'department_not_found');
        if (parent.id === id || (await this.repo.ancestorIds(tx, parent.id)).includes(id)) {
          throw new ConflictError('A department cannot move below itself', 'department_cycle');
        }
        checkLevel(current.level, parent.level, current.kind);
      }
      if (patch.active === false && current.active && (await this.repo.countActiveChildren(tx, id)) > 0) {
        throw new ConflictError('Deactivate the sub-departments first', 'department_has_active_children');
      }
      const row = await this.repo.update(tx, id, patch);
      const dept = toPublic(row!);
      const type = patch.active === false && current.active ? 'department.deactivated' : 'department.updated';
      await this.outbox.append(tx, [{ type, payload: { department: dept, by: actor.id } }]);
      return dept;
    });
  }

  async deactivate(id: string, actor: Principal): Promise<PublicDepartment> {
    return this.update(id, { active: false }, actor);
  }

  async get(id: string, actor: Principal): Promise<PublicDepartment> {
    requireDepartmentAccess(actor, id);
    const row = await this.repo.findById(this.db, id);
    if (!row) throw new NotFoundError('Department', id, 'department_not_found');
    return toPublic(row);
  }

  async list(filter: { parentId?: string; kind?: DepartmentKind; partnerKind?: PartnerKind; active?: boolean; after?: string; limit: number }, actor: Principal): Promise<PublicDepartment[]> {
    requireRole(actor, [...STAFF, 'dept_handler']);
    const ids = isDepartmentScoped(actor) ? [actor.departmentId!] : undefined;
    return (await this.repo.list(this.db, { ...filter, ...(ids ? { ids } : {}) })).map(toPublic);
  }

  /** The department and all below it; a handler may look at its own subtree. */
  async subtree(id: string, actor: Principal): Promise<{ items: (PublicDepartment & { depth: number })[]; truncated: boolean }> {
    requireDepartmentAccess(actor, id);
    const rows = await this.repo.subtree(this.db, id, SUBTREE_MAX + 1);
    if (rows.length === 0) throw new NotFoundError('Department', id, 'department_not_found');
    return { items: rows.slice(0, SUBTREE_MAX).map((r) => ({ ...toPublic(r), depth: r.depth })), truncated: rows.length > SUBTREE_MAX };
  }

  async listFunctions(id: string, actor: Principal): Promise<PublicFunction[]> {
    await this.get(id, actor);
    return (await this.repo.listFunctions(this.db, id)).map(toFunction);
  }

  async addFunction(id: string, input: { code: string; name: string; categoryId?: string }, actor: Principal): Promise<PublicFunction> {
    requireRole(actor, MANAGERS);
    await this.requireExisting(id);
    try {
      const row = await this.repo.insertFunction(this.db, { departmentId: id, code: input.code, name: input.name, categoryId: input.categoryId ?? null });
      if (!row) throw new ConflictError(`Function ${input.code} already exists for this department`, 'function_exists');
      return toFunction(row);
    } catch (err) {
      if ((err as { code?: string }).code === '23503') throw new NotFoundError('Category', input.categoryId ?? '', 'category_not_found');
      throw err;
    }
  }

  async removeFunction(id: string, functionId: string, actor: Principal): Promise<void> {
    requireRole(actor, MANAGERS);
    if (!(await this.repo.deleteFunction(this.db, id, functionId))) throw new NotFoundError('Function', functionId, 'function_not_found');
  }

  async listAreas(id: string, actor: Principal): Promise<PublicArea[]> {
    await this.get(id, actor);
    return (await this.repo.listAreas(this.db, id)).map(toArea);
  }

  async putArea(id: string, areaCode: string, areaName: string, actor: Principal): Promise<PublicArea> {
    requireRole(actor, MANAGERS);
    await this.requireExisting(id);
    return toArea(await this.repo.upsertArea(this.db, { departmentId: id, areaCode, areaName }));
  }

  async removeArea(id: string, areaCode: string, actor: Principal): Promise<void> {
    requireRole(actor, MANAGERS);
    if (!(await this.repo.deleteArea(this.db, id, areaCode))) throw new NotFoundError('Area', areaCode, 'area_not_found');
  }

  /** Dispatch suggestions (派单建议): by jurisdiction over the area and by function or catalogue item. */
  async candidates(q: { areaCode?: string; function?: string; categoryId?: string; kind?: DepartmentKind; limit: number }, actor: Principal): Promise<Candidate[]> {
    requireRole(actor, ['agent', 'supervisor', 'admin']);
    if (!q.areaCode && !q.function && !q.categoryId) {
      throw new ValidationError('Give an areaCode, a function or a categoryId', {}, 'candidates_filter_required');
    }
    const categoryIds = q.categoryId ? await this.repo.categoryLineage(this.db, q.categoryId) : undefined;
    if (q.categoryId && categoryIds?.length === 0) throw new NotFoundError('Category', q.categoryId, 'category_not_found');
    const rows = await this.repo.candidates(this.db, {
      ...(q.areaCode ? { areaCode: q.areaCode } : {}), ...(q.function ? { functionCode: q.function } : {}),
      ...(categoryIds ? { categoryIds } : {}), ...(q.kind ? { kind: q.kind } : {}), limit: q.limit,
    });
    return rows.map((r) => ({ department: toPublic(r.department), matchedAreaCode: r.areaCode, functionCodes: r.functionCodes }));
  }

  /** Active departments among the ids; for dispatch validation by the tickets module. */
  async activeIds(ids: readonly string[]): Promise<Set<string>> {
    return new Set((await this.repo.findByIds(this.db, ids)).filter((d) => d.active).map((d) => d.id));
  }

  private async requireExisting(id: string): Promise<DepartmentRow> {
    const row = await this.repo.findById(this.db, id);
    if (!row) throw new NotFoundError('Department', id, 'department_not_found');
    return row;
  }
}

// A child sits strictly below its parent in the administrative hierarchy; partner units may sit
// beside the government department that oversees them.
function checkLevel(level: DepartmentLevel, parentLevel: DepartmentLevel, kind: DepartmentKind): void {
  if (LEVELS.indexOf(level) <= LEVELS.indexOf(parentLevel) && kind !== 'partner') {
    throw new ValidationError(`A ${level} department cannot sit under a ${parentLevel} department`, { field: 'level' }, 'department_level_invalid');
  }
}

function toPublic(r: DepartmentRow): PublicDepartment {
  return {
    id: r.id, parentId: r.parentId, code: r.code, name: r.name, kind: r.kind, partnerKind: r.partnerKind, level: r.level,
    description: r.description, active: r.active, createdAt: r.createdAt.toISOString(),
  };
}

function toFunction(r: FunctionRow): PublicFunction {
  return { id: r.id, departmentId: r.departmentId, code: r.code, name: r.name, categoryId: r.categoryId };
}

function toArea(r: AreaRow): PublicArea {
  return { departmentId: r.departmentId, areaCode: r.areaCode, areaName: r.areaName };
}
