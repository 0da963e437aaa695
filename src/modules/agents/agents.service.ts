/**
 * Agents (座席): one row per user who takes calls, with a default extension (its PJSIP endpoint
 * follows from it), skills at levels 1–5 and languages. Operators and admins manage them.
 */
import type { Database, Tx } from '../../adapters/db/database.js';
import { LANGUAGE_PATTERN, SKILL_LEVEL_MAX, SKILL_LEVEL_MIN } from '../../domain/acd/index.js';
import { initialAgentState } from '../../domain/agents/index.js';
import { requireRole, type Principal } from '../../domain/auth.js';
import type { Clock } from '../../domain/clock.js';
import { ConflictError, NotFoundError, ValidationError } from '../../domain/errors.js';
import { agentEndpoint } from '../../domain/telephony/asterisk-contract.js';
import type { OutboxRepository } from '../events/outbox.repository.js';
import type { AgentRow, AgentSkillRow, AgentsRepository } from './agents.repository.js';

const MANAGERS = ['operator', 'admin'] as const;
const VIEWERS = ['supervisor', 'operator', 'admin'] as const;
/** Roles that take calls: agents, and supervisors who also answer. */
const CALL_TAKING_ROLES = new Set(['agent', 'supervisor']);
const MAX_LANGUAGES = 10;

export interface PublicAgent {
  id: string;
  username: string;
  displayName: string;
  role: string;
  extension: string;
  endpoint: string;
  centreId: string;
  languages: string[];
  /** The phone answers by itself when the agent accepts a call on the desktop. */
  autoAnswer: boolean;
  skills: { skillId: string; skillCode: string; skillName: string; level: number }[];
  active: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface SkillInput { skillId: string; level: number }

export class AgentsService {
  constructor(private readonly db: Database, private readonly repo: AgentsRepository, private readonly outbox: OutboxRepository, private readonly clock: Clock) {}

  async create(input: { userId: string; extension: string; languages?: string[]; skills?: SkillInput[]; centreId?: string; autoAnswer?: boolean }, actor: Principal): Promise<PublicAgent> {
    requireRole(actor, MANAGERS);
    agentEndpoint(input.extension); // invalid_agent_extension
    const languages = checkLanguages(input.languages ?? ['zh']);
    const skills = input.skills ?? [];
    checkSkillShape(skills);
    return this.withUniqueExtension(() => this.db.transaction().execute(async (tx) => {
      const user = await this.repo.findUser(tx, input.userId);
      if (!user) throw new NotFoundError('User', input.userId, 'user_not_found');
      if (!CALL_TAKING_ROLES.has(user.role)) throw new ValidationError(`A ${user.role} does not take calls; only agents and supervisors`, { field: 'userId', role: user.role }, 'user_not_call_taker');
      if (await this.repo.findById(tx, input.userId)) throw new ConflictError('This user is already an agent', 'agent_exists');
      await this.checkExtensionFree(tx, input.extension, input.userId);
      await this.checkSkillsExist(tx, skills);
      await this.repo.insert(tx, { userId: input.userId, extension: input.extension, centreId: input.centreId ?? user.centreId, languages, autoAnswer: input.autoAnswer ?? false });
      await this.repo.replaceSkills(tx, input.userId, skills);
      await this.repo.insertState(tx, input.userId, initialAgentState(this.clock.now()));
      const agent = await this.load(tx, input.userId);
      await this.outbox.append(tx, [{ type: 'agent.created', payload: { agent, by: actor.id } }]);
      return agent;
    }));
  }

  async update(id: string, patch: { extension?: string; languages?: string[]; skills?: SkillInput[]; active?: boolean; autoAnswer?: boolean }, actor: Principal): Promise<PublicAgent> {
    requireRole(actor, MANAGERS);
    if (patch.extension !== undefined) agentEndpoint(patch.extension);
    const languages = patch.languages ? checkLanguages(patch.languages) : undefined;
    if (patch.skills) checkSkillShape(patch.skills);
    return this.withUniqueExtension(() => this.db.transaction().execute(async (tx) => {
      // The state row lock keeps a login from slipping in while the agent is being deactivated.
      const state = await this.repo.lockState(tx, id);
      if (!state) throw new NotFoundError('Agent', id, 'agent_not_found');
      if (patch.active === false && state.state !== 'offline') throw new ConflictError('Log the agent out first', 'agent_logged_in', { state: state.state });
      if (patch.extension !== undefined) await this.checkExtensionFree(tx, patch.extension, id);
      if (patch.skills) await this.checkSkillsExist(tx, patch.skills);
      await this.repo.update(tx, id, { ...(patch.extension !== undefined ? { extension: patch.extension } : {}), ...(languages ? { languages } : {}), ...(patch.active !== undefined ? { active: patch.active } : {}), ...(patch.autoAnswer !== undefined ? { autoAnswer: patch.autoAnswer } : {}) });
      if (patch.skills) await this.repo.replaceSkills(tx, id, patch.skills);
      const agent = await this.load(tx, id);
      await this.outbox.append(tx, [{ type: patch.active === false && state.active ? 'agent.deactivated' : 'agent.updated', payload: { agent, by: actor.id } }]);
      return agent;
    }));
  }

  async get(id: string, actor: Principal): Promise<PublicAgent> {
    if (actor.id !== id) requireRole(actor, VIEWERS);
    const row = await this.repo.findById(this.db, id);
    if (!row) {
      if (actor.id === id) throw new NotFoundError('Agent', id, 'not_an_agent');
      throw new NotFoundError('Agent', id, 'agent_not_found');
    }
    return toPublic(row, await this.repo.skillsOf(this.db, [id]));
  }

  async list(filter: { active?: boolean; centreId?: string; skillId?: string; after?: string; limit: number }, actor: Principal): Promise<PublicAgent[]> {
    requireRole(actor, VIEWERS);
    const rows = await this.repo.list(this.db, filter);
    const skills = await this.repo.skillsOf(this.db, rows.map((r) => r.userId));
    return rows.map((r) => toPublic(r, skills.filter((s) => s.agentId === r.userId)));
  }

  private async checkExtensionFree(tx: Tx, extension: string, self: string): Promise<void> {
    const holder = await this.repo.findByExtension(tx, extension);
    if (holder && holder.userId !== self) throw new ConflictError(`Extension ${extension} belongs to ${holder.username}`, 'extension_taken', { extension });
  }

  private async checkSkillsExist(tx: Tx, skills: readonly SkillInput[]): Promise<void> {
    const active = await this.repo.skillsActive(tx, skills.map((s) => s.skillId));
    for (const s of skills) {
      const state = active.get(s.skillId);
      if (state === undefined) throw new NotFoundError('Skill', s.skillId, 'skill_not_found');
      if (!state) throw new ConflictError(`Skill ${s.skillId} is deactivated`, 'skill_inactive', { skillId: s.skillId });
    }
  }

  // Two operators giving out the same extension at once: the unique index decides, with our code.
  private async withUniqueExtension<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if ((err as { code?: string; constraint?: string }).code === '23505' && (err as { constraint?: string }).constraint === 'agents_extension_key') {
        throw new ConflictError('The extension was just given to another agent', 'extension_taken');
      }
      throw err;
    }
  }

  private async load(tx: Tx, id: string): Promise<PublicAgent> {
    return toPublic((await this.repo.findById(tx, id))!, await this.repo.skillsOf(tx, [id]));
  }
}

function checkLanguages(languages: readonly string[]): string[] {
  const unique = [...new Set(languages)];
  if (unique.length === 0) throw new ValidationError('An agent speaks at least one language', { field: 'languages' }, 'languages_required');
  if (unique.length > MAX_LANGUAGES) throw new ValidationError(`At most ${MAX_LANGUAGES} languages`, { field: 'languages' }, 'too_many_languages');
  const bad = unique.find((l) => !LANGUAGE_PATTERN.test(l));
  if (bad !== undefined) throw new ValidationError(`'${bad}' is not a language code such as zh, yue or en`, { field: 'languages', language: bad }, 'invalid_language');
  return unique;
}

function checkSkillShape(skills: readonly SkillInput[]): void {
  const seen = new Set<string>();
  for (const s of skills) {
    if (seen.has(s.skillId)) throw new ValidationError(`Skill ${s.skillId} is listed twice`, { field: 'skills', skillId: s.skillId }, 'duplicate_skill');
    seen.add(s.skillId);
    if (!Number.isInteger(s.level) || s.level < SKILL_LEVEL_MIN || s.level > SKILL_LEVEL_MAX) {
      throw new ValidationError(`Skill levels are ${SKILL_LEVEL_MIN}-${SKILL_LEVEL_MAX}, got ${s.level}`, { field: 'skills', skillId: s.skillId }, 'skill_level_out_of_range');
    }
  }
}

export function toPublic(r: AgentRow, skills: readonly AgentSkillRow[]): PublicAgent {
  return {
    id: r.userId, username: r.username, displayName: r.displayName, role: r.role, extension: r.extension, endpoint: agentEndpoint(r.extension),
    centreId: r.centreId, languages: r.languages, autoAnswer: r.autoAnswer, skills: skills.map((s) => ({ skillId: s.skillId, skillCode: s.skillCode, skillName: s.skillName, level: s.level })),
    active: r.active, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString(),
  };
}
