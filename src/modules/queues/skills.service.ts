/**
 * 技能: languages, dialects and subject seats that queues require and agents hold at levels 1–5.
 * Skills are deactivated, never deleted: agents and history keep pointing at them.
 */
import type { Database } from '../../adapters/db/database.js';
import { requireRole, type Principal } from '../../domain/auth.js';
import { ConflictError, NotFoundError } from '../../domain/errors.js';
import type { OutboxRepository } from '../events/outbox.repository.js';
import type { SkillRow, SkillsRepository } from './skills.repository.js';

export const CONFIG_MANAGERS = ['operator', 'admin'] as const;
export const CONFIG_READERS = ['agent', 'supervisor', 'operator', 'admin'] as const;

export interface PublicSkill {
  id: string;
  code: string;
  name: string;
  description: string | null;
  active: boolean;
  createdAt: string;
  updatedAt: string;
}

export class SkillsService {
  constructor(private readonly db: Database, private readonly repo: SkillsRepository, private readonly outbox: OutboxRepository) {}

  async create(input: { code: string; name: string; description?: string }, actor: Principal): Promise<PublicSkill> {
    requireRole(actor, CONFIG_MANAGERS);
    return this.db.transaction().execute(async (tx) => {
      if (await this.repo.findByCode(tx, input.code)) throw new ConflictError(`Skill code ${input.code} is taken`, 'skill_code_taken');
      const skill = toPublic(await this.repo.insert(tx, { code: input.code, name: input.name, description: input.description ?? null }));
      await this.outbox.append(tx, [{ type: 'skill.created', payload: { skill, by: actor.id } }]);
      return skill;
    });
  }

  async update(id: string, patch: { name?: string; description?: string | null; active?: boolean }, actor: Principal): Promise<PublicSkill> {
    requireRole(actor, CONFIG_MANAGERS);
    return this.db.transaction().execute(async (tx) => {
      const current = await this.repo.findById(tx, id);
      if (!current) throw new NotFoundError('Skill', id, 'skill_not_found');
      if (patch.active === false && current.active) {
        const queues = await this.repo.activeQueuesRequiring(tx, id);
        if (queues.length > 0) throw new ConflictError(`Active queues require this skill: ${queues.join(', ')}`, 'skill_in_use', { queues });
      }
      const skill = toPublic((await this.repo.update(tx, id, patch))!);
      await this.outbox.append(tx, [{ type: 'skill.updated', payload: { skill, by: actor.id } }]);
      return skill;
    });
  }

  async get(id: string, actor: Principal): Promise<PublicSkill> {
    requireRole(actor, CONFIG_READERS);
    const row = await this.repo.findById(this.db, id);
    if (!row) throw new NotFoundError('Skill', id, 'skill_not_found');
    return toPublic(row);
  }

  async list(filter: { active?: boolean; after?: string; limit: number }, actor: Principal): Promise<PublicSkill[]> {
    requireRole(actor, CONFIG_READERS);
    return (await this.repo.list(this.db, filter)).map(toPublic);
  }
}

function toPublic(r: SkillRow): PublicSkill {
  return { id: r.id, code: r.code, name: r.name, description: r.description, active: r.active, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString() };
}
