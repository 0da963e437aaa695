/**
 * Queues: what a caller needs (skills at minimum levels, language), how they are prioritised,
 * how long they wait and where they overflow, and the timers the ACD and the call flow follow.
 * Every write is validated as a whole (src/domain/acd) under one configuration lock, so that two
 * concurrent edits can never build an overflow loop together.
 */
import type { Database, Tx } from '../../adapters/db/database.js';
import {
  QUEUE_DEFAULTS, checkOverflowChain, validateQueueSettings, type OverflowAction, type PriorityRule, type QueueSettings, type RequiredSkill,
} from '../../domain/acd/index.js';
import { requireRole, type Principal } from '../../domain/auth.js';
import type { Clock } from '../../domain/clock.js';
import { ConflictError, NotFoundError, ValidationError } from '../../domain/errors.js';
import { queueCodesOf, type IvrMenu } from '../../domain/ivr/menu.js';
import { openingStatus, type OpeningStatus } from '../../domain/schedules/index.js';
import type { OutboxRepository } from '../events/outbox.repository.js';
import type { QueueRow, QueueSkillRow, QueuesRepository, QueueValues } from './queues.repository.js';
import { toPublicStatus, type PublicOpeningStatus, type SchedulesService } from './schedules.service.js';
import { CONFIG_MANAGERS, CONFIG_READERS } from './skills.service.js';

const NEW_QUEUE = '(new)';

export interface OverflowTarget { action: OverflowAction; queueId: string | null }

export interface PublicQueue {
  id: string;
  code: string;
  name: string;
  centreId: string;
  language: string | null;
  requiredSkills: { skillId: string; skillCode: string; skillName: string; minLevel: number }[];
  priorityRules: PriorityRule[];
  maxWaitSeconds: number;
  overflow: OverflowTarget;
  announcementIntervalSeconds: number;
  callbackOfferSeconds: number | null;
  wrapUpSeconds: number;
  ringTimeoutSeconds: number;
  serviceLevelSeconds: number;
  scheduleId: string | null;
  active: boolean;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface QueueFields {
  name: string;
  centreId: string;
  language: string | null;
  requiredSkills: RequiredSkill[];
  priorityRules: PriorityRule[];
  maxWaitSeconds: number;
  overflow: { action: OverflowAction; queueId?: string | null };
  announcementIntervalSeconds: number;
  callbackOfferSeconds: number | null;
  wrapUpSeconds: number;
  ringTimeoutSeconds: number;
  serviceLevelSeconds: number;
  scheduleId: string | null;
}
export type CreateQueueInput = { code: string; name: string } & Partial<Omit<QueueFields, 'name'>>;
export type UpdateQueueInput = Partial<QueueFields> & { active?: boolean; expectedVersion?: number };

export class QueuesService {
  constructor(
    private readonly db: Database,
    private readonly repo: QueuesRepository,
    private readonly schedules: SchedulesService,
    private readonly outbox: OutboxRepository,
    private readonly clock: Clock,
  ) {}

  private readonly changeListeners = new Set<() => void>();

  /** Told after a queue was created or changed on this instance (routing caches drop their copy). */
  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  private changed<T>(result: T): T {
    for (const l of [...this.changeListeners]) l();
    return result;
  }

  async create(input: CreateQueueInput, actor: Principal): Promise<PublicQueue> {
    requireRole(actor, CONFIG_MANAGERS);
    const values: QueueValues = {
      code: input.code,
      name: input.name,
      centreId: input.centreId ?? actor.centreId,
      language: input.language ?? null,
      priorityRules: input.priorityRules ?? [],
      maxWaitSeconds: input.maxWaitSeconds ?? QUEUE_DEFAULTS.maxWaitSeconds,
      overflowAction: input.overflow?.action ?? 'none',
      overflowQueueId: input.overflow?.queueId ?? null,
      announcementIntervalSeconds: input.announcementIntervalSeconds ?? QUEUE_DEFAULTS.announcementIntervalSeconds,
      callbackOfferSeconds: input.callbackOfferSeconds === undefined ? QUEUE_DEFAULTS.callbackOfferSeconds : input.callbackOfferSeconds,
      wrapUpSeconds: input.wrapUpSeconds ?? QUEUE_DEFAULTS.wrapUpSeconds,
      ringTimeoutSeconds: input.ringTimeoutSeconds ?? QUEUE_DEFAULTS.ringTimeoutSeconds,
      serviceLevelSeconds: input.serviceLevelSeconds ?? QUEUE_DEFAULTS.serviceLevelSeconds,
      scheduleId: input.scheduleId ?? null,
    };
    const skills = input.requiredSkills ?? [];
    return this.changed(await this.db.transaction().execute(async (tx) => {
      await this.repo.lockConfig(tx);
      if (await this.repo.findByCode(tx, input.code)) throw new ConflictError(`Queue code ${input.code} is taken`, 'queue_code_taken');
      await this.check(tx, null, values, skills);
      const row = await this.repo.insert(tx, values);
      await this.repo.replaceSkills(tx, row.id, skills);
      const queue = await this.load(tx, row);
      await this.outbox.append(tx, [{ type: 'queue.created', payload: { queue, by: actor.id } }]);
      return queue;
    }));
  }

  async update(id: string, patch: UpdateQueueInput, actor: Principal): Promise<PublicQueue> {
    requireRole(actor, CONFIG_MANAGERS);
    return this.changed(await this.db.transaction().execute(async (tx) => {
      await this.repo.lockConfig(tx);
      const current = await this.repo.findById(tx, id);
      if (!current) throw new NotFoundError('Queue', id, 'queue_not_found');
      if (patch.expectedVersion !== undefined && patch.expectedVersion !== current.version) {
        throw new ConflictError(`The queue was changed meanwhile (version ${current.version})`, 'queue_version_conflict', { version: current.version });
      }
      const { overflow, requiredSkills, expectedVersion: _v, active, ...fields } = patch;
      const merged: QueueValues = {
        ...current,
        ...fields,
        ...(overflow ? { overflowAction: overflow.action, overflowQueueId: overflow.queueId ?? null } : {}),
      };
      const skills = requiredSkills ?? (await this.repo.skillsOf(tx, [id])).map((s) => ({ skillId: s.skillId, minLevel: s.minLevel }));
      const willBeActive = active ?? current.active;
      await this.check(tx, id, merged, skills);
      if (!willBeActive && current.active) await this.checkCanDeactivate(tx, current);
      const row = await this.repo.update(tx, id, {
        ...fields,
        ...(overflow ? { overflowAction: merged.overflowAction, overflowQueueId: merged.overflowQueueId } : {}),
        ...(active !== undefined ? { active } : {}),
      });
      if (requiredSkills) await this.repo.replaceSkills(tx, id, requiredSkills);
      const queue = await this.load(tx, row!);
      const type = !willBeActive && current.active ? 'queue.deactivated' : 'queue.updated';
      await this.outbox.append(tx, [{ type, payload: { queue, by: actor.id } }]);
      return queue;
    }));
  }

  async get(id: string, actor: Principal): Promise<PublicQueue> {
    requireRole(actor, CONFIG_READERS);
    return this.find(id);
  }

  async list(filter: { active?: boolean; centreId?: string; after?: string; limit: number }, actor: Principal): Promise<PublicQueue[]> {
    requireRole(actor, CONFIG_READERS);
    const rows = await this.repo.list(this.db, filter);
    const skills = await this.repo.skillsOf(this.db, rows.map((r) => r.id));
    return rows.map((r) => toPublic(r, skills.filter((s) => s.queueId === r.id)));
  }

  async status(id: string, at: Date | undefined, actor: Principal): Promise<PublicOpeningStatus> {
    requireRole(actor, CONFIG_READERS);
    return toPublicStatus(await this.openingStatus(id, at));
  }

  // --- For the call flow and the ACD (no principal: the system asks).

  /** A queue's configuration by id. */
  async find(id: string): Promise<PublicQueue> {
    const row = await this.repo.findById(this.db, id);
    if (!row) throw new NotFoundError('Queue', id, 'queue_not_found');
    return this.load(this.db, row);
  }

  /** A queue's configuration by code (as the IVR menu names it). */
  async findByCode(code: string): Promise<PublicQueue> {
    const row = await this.repo.findByCode(this.db, code);
    if (!row) throw new NotFoundError('Queue', code, 'queue_not_found');
    return this.load(this.db, row);
  }

  /** Every queue (active or not) for the call flow's cache; at most a few hundred exist. */
  async all(): Promise<PublicQueue[]> {
    const rows = await this.repo.list(this.db, { limit: 10_000 });
    const skills = await this.repo.skillsOf(this.db, rows.map((r) => r.id));
    return rows.map((r) => toPublic(r, skills.filter((s) => s.queueId === r.id)));
  }

  /** Whether the queue takes callers now: always without a schedule (7×24). */
  async openingStatus(id: string, at?: Date): Promise<OpeningStatus> {
    const queue = await this.repo.findById(this.db, id);
    if (!queue) throw new NotFoundError('Queue', id, 'queue_not_found');
    const when = at ?? this.clock.now();
    return openingStatus(queue.scheduleId ? await this.schedules.schedule(queue.scheduleId, when) : null, when);
  }

  private async check(tx: Tx, id: string | null, v: QueueValues, skills: readonly RequiredSkill[]): Promise<void> {
    const settings: QueueSettings = { ...v, requiredSkills: skills };
    const problems = validateQueueSettings(settings);
    const first = problems[0];
    if (first) throw new ValidationError(first.message, { field: first.field, problems }, first.code);
    if (!(await this.repo.centreExists(tx, v.centreId))) throw new NotFoundError('Centre', v.centreId, 'centre_not_found');
    const active = await this.repo.skillsActive(tx, skills.map((s) => s.skillId));
    for (const s of skills) {
      const state = active.get(s.skillId);
      if (state === undefined) throw new NotFoundError('Skill', s.skillId, 'skill_not_found');
      if (!state) throw new ConflictError(`Skill ${s.skillId} is deactivated`, 'skill_inactive', { skillId: s.skillId });
    }
    if (v.scheduleId) {
      const state = await this.repo.scheduleActive(tx, v.scheduleId);
      if (state === undefined) throw new NotFoundError('Schedule', v.scheduleId, 'schedule_not_found');
      if (!state) throw new ConflictError('The schedule is deactivated', 'schedule_inactive');
    }
    if (v.overflowQueueId) {
      if (v.overflowQueueId === id) throw new ConflictError('A queue cannot overflow into itself', 'overflow_loop', { chain: [v.code, v.code] });
      const target = await this.repo.findById(tx, v.overflowQueueId);
      if (!target) throw new NotFoundError('Queue', v.overflowQueueId, 'overflow_target_not_found');
      if (!target.active) throw new ConflictError(`Overflow target ${target.code} is deactivated`, 'overflow_target_inactive');
      // A new queue cannot close a loop (nothing points at it yet) but can make a chain too long.
      const self = id ?? NEW_QUEUE;
      const result = checkOverflowChain(await this.repo.overflowTargets(tx), self, v.overflowQueueId);
      if (!result.ok) {
        const codes = await this.repo.codesOf(tx, result.chain.filter((q) => q !== NEW_QUEUE));
        const chain = result.chain.map((q) => (q === self ? v.code : (codes.get(q) ?? q)));
        throw new ConflictError(result.code === 'overflow_loop' ? `Overflow would loop: ${chain.join(' → ')}` : `Overflow chain too long: ${chain.join(' → ')}`, result.code, { chain });
      }
    }
  }

  private async checkCanDeactivate(tx: Tx, q: QueueRow): Promise<void> {
    const sources = await this.repo.activeOverflowSources(tx, q.id);
    if (sources.length > 0) throw new ConflictError(`Active queues overflow into ${q.code}: ${sources.join(', ')}`, 'queue_is_overflow_target', { queues: sources });
    const menu = await this.repo.currentIvrMenu(tx);
    if (menu && queueCodesOf(menu as IvrMenu).has(q.code)) throw new ConflictError(`The IVR menu in force sends callers to ${q.code}`, 'queue_in_ivr_menu');
  }

  private async load(db: Database | Tx, row: QueueRow): Promise<PublicQueue> {
    return toPublic(row, await this.repo.skillsOf(db, [row.id]));
  }
}

function toPublic(r: QueueRow, skills: readonly QueueSkillRow[]): PublicQueue {
  return {
    id: r.id, code: r.code, name: r.name, centreId: r.centreId, language: r.language,
    requiredSkills: skills.map((s) => ({ skillId: s.skillId, skillCode: s.skillCode, skillName: s.skillName, minLevel: s.minLevel })),
    priorityRules: r.priorityRules, maxWaitSeconds: r.maxWaitSeconds, overflow: { action: r.overflowAction, queueId: r.overflowQueueId },
    announcementIntervalSeconds: r.announcementIntervalSeconds, callbackOfferSeconds: r.callbackOfferSeconds, wrapUpSeconds: r.wrapUpSeconds,
    ringTimeoutSeconds: r.ringTimeoutSeconds, serviceLevelSeconds: r.serviceLevelSeconds, scheduleId: r.scheduleId, active: r.active,
    version: r.version, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString(),
  };
}
