/**
 * 事项目录: the operator-managed catalogue tickets are classified under. Items are deactivated,
 * never deleted, because tickets keep pointing at them.
 */
import type { Database } from '../../adapters/db/database.js';
import { requireRole, type Principal } from '../../domain/auth.js';
import { ConflictError, NotFoundError, ValidationError } from '../../domain/errors.js';
import { SCOPE_DOMAIN_LABELS, URGENCY_LABELS, type ScopeDomain, type Urgency } from '../../domain/tickets/index.js';
import type { OutboxRepository } from '../events/outbox.repository.js';
import type { CategoriesRepository, CategoryPatch, CategoryRow } from './categories.repository.js';

const MANAGERS = ['operator', 'supervisor', 'admin'] as const;
const MAX_DEPTH = 6;
const TREE_MAX = 5000;

export interface PublicCategory {
  id: string;
  parentId: string | null;
  code: string;
  name: string;
  scopeDomain: ScopeDomain | null;
  scopeDomainLabel: string | null;
  defaultUrgency: Urgency | null;
  defaultUrgencyLabel: string | null;
  sortOrder: number;
  active: boolean;
}

export interface CategoryNode extends PublicCategory { children: CategoryNode[] }

export class CategoriesService {
  constructor(private readonly db: Database, private readonly repo: CategoriesRepository, private readonly outbox: OutboxRepository) {}

  async create(input: { parentId?: string | null; code: string; name: string; scopeDomain?: ScopeDomain; defaultUrgency?: Urgency; sortOrder?: number }, actor: Principal): Promise<PublicCategory> {
    requireRole(actor, MANAGERS);
    return this.db.transaction().execute(async (tx) => {
      const parentId = input.parentId ?? null;
      let scopeDomain = input.scopeDomain ?? null;
      if (parentId) {
        const parent = await this.repo.findById(tx, parentId);
        if (!parent) throw new NotFoundError('Category', parentId, 'category_not_found');
        if (!parent.active) throw new ConflictError('The parent item is deactivated', 'category_inactive');
        if ((await this.repo.ancestorIds(tx, parentId)).length + 1 >= MAX_DEPTH) {
          throw new ValidationError(`The catalogue is at most ${MAX_DEPTH} levels deep`, { max: MAX_DEPTH }, 'category_too_deep');
        }
        scopeDomain ??= parent.scopeDomain; // items inherit their branch's scope unless told otherwise
      }
      if (await this.repo.findByCode(tx, input.code)) throw new ConflictError(`Category code ${input.code} is taken`, 'category_code_taken');
      const row = await this.repo.insert(tx, { parentId, code: input.code, name: input.name, scopeDomain, defaultUrgency: input.defaultUrgency ?? null, sortOrder: input.sortOrder ?? 0 });
      await this.outbox.append(tx, [{ type: 'category.created', payload: { categoryId: row.id, code: row.code, by: actor.id } }]);
      return toPublic(row);
    });
  }

  async update(id: string, patch: CategoryPatch, actor: Principal): Promise<PublicCategory> {
    requireRole(actor, MANAGERS);
    return this.db.transaction().execute(async (tx) => {
      const current = await this.repo.findById(tx, id);
      if (!current) throw new NotFoundError('Category', id, 'category_not_found');
      if (patch.parentId) {
        if (patch.parentId === id || (await this.repo.ancestorIds(tx, patch.parentId)).includes(id)) {
          throw new ConflictError('An item cannot move below itself', 'category_cycle');
        }
        if (!(await this.repo.findById(tx, patch.parentId))) throw new NotFoundError('Category', patch.parentId, 'category_not_found');
      }
      if (patch.active === false && current.active && (await this.repo.countActiveChildren(tx, id)) > 0) {
        throw new ConflictError('Deactivate the sub-items first', 'category_has_active_children');
      }
      const row = (await this.repo.update(tx, id, patch))!;
      await this.outbox.append(tx, [{ type: 'category.updated', payload: { categoryId: id, by: actor.id } }]);
      return toPublic(row);
    });
  }

  async get(id: string): Promise<PublicCategory> {
    const row = await this.repo.findById(this.db, id);
    if (!row) throw new NotFoundError('Category', id, 'category_not_found');
    return toPublic(row);
  }

  /** For intake: the item must exist and be active. */
  async requireActive(id: string): Promise<PublicCategory> {
    const row = await this.repo.findById(this.db, id);
    if (!row) throw new NotFoundError('Category', id, 'category_not_found');
    if (!row.active) throw new ConflictError('This catalogue item is deactivated', 'category_inactive');
    return toPublic(row);
  }

  async list(f: { parentId?: string; includeInactive?: boolean; after?: string; limit: number }): Promise<PublicCategory[]> {
    return (await this.repo.list(this.db, { parentId: f.parentId ?? null, includeInactive: f.includeInactive ?? false, ...(f.after ? { after: f.after } : {}), limit: f.limit })).map(toPublic);
  }

  async tree(includeInactive: boolean): Promise<CategoryNode[]> {
    const rows = await this.repo.all(this.db, includeInactive, TREE_MAX);
    const nodes = new Map<string, CategoryNode>(rows.map((r) => [r.id, { ...toPublic(r), children: [] }]));
    const roots: CategoryNode[] = [];
    for (const node of nodes.values()) {
      const parent = node.parentId ? nodes.get(node.parentId) : undefined;
      // A child of an inactive (hidden) item is hidden with it.
      if (parent) parent.children.push(node);
      else if (node.parentId === null) roots.push(node);
    }
    return roots;
  }
}

function toPublic(r: CategoryRow): PublicCategory {
  return {
    id: r.id, parentId: r.parentId, code: r.code, name: r.name,
    scopeDomain: r.scopeDomain, scopeDomainLabel: r.scopeDomain ? SCOPE_DOMAIN_LABELS[r.scopeDomain] : null,
    defaultUrgency: r.defaultUrgency, defaultUrgencyLabel: r.defaultUrgency ? URGENCY_LABELS[r.defaultUrgency] : null,
    sortOrder: r.sortOrder, active: r.active,
  };
}
