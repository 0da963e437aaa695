import { sql } from 'kysely';
import type { Executor } from '../../adapters/db/database.js';
import type { OverflowAction, PriorityRule, RequiredSkill } from '../../domain/acd/index.js';

export interface QueueRow {
  id: string;
  code: string;
  name: string;
  centreId: string;
  language: string | null;
  priorityRules: PriorityRule[];
  maxWaitSeconds: number;
  overflowAction: OverflowAction;
  overflowQueueId: string | null;
  announcementIntervalSeconds: number;
  callbackOfferSeconds: number | null;
  wrapUpSeconds: number;
  ringTimeoutSeconds: number;
  serviceLevelSeconds: number;
  scheduleId: string | null;
  active: boolean;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface QueueSkillRow extends RequiredSkill { queueId: string; skillCode: string; skillName: string }

export type QueueValues = Omit<QueueRow, 'id' | 'active' | 'version' | 'createdAt' | 'updatedAt'>;

const COLUMNS = [
  'id', 'code', 'name', 'centreId', 'language', 'priorityRules', 'maxWaitSeconds', 'overflowAction', 'overflowQueueId',
  'announcementIntervalSeconds', 'callbackOfferSeconds', 'wrapUpSeconds', 'ringTimeoutSeconds', 'serviceLevelSeconds',
  'scheduleId', 'active', 'version', 'createdAt', 'updatedAt',
] as const;
// Any fixed key: queue configuration writes take it so that two edits never build a loop together.
export const ACD_CONFIG_LOCK_KEY = 7_312_006_001;

export class QueuesRepository {
  /** Serialises configuration writes for the rest of the transaction. */
  async lockConfig(tx: Executor): Promise<void> {
    await sql`SELECT pg_advisory_xact_lock(${ACD_CONFIG_LOCK_KEY})`.execute(tx);
  }

  async insert(db: Executor, q: QueueValues): Promise<QueueRow> {
    return (await db.insertInto('queues').values({ ...q, priorityRules: JSON.stringify(q.priorityRules) }).returning(COLUMNS).executeTakeFirstOrThrow()) as unknown as QueueRow;
  }

  async update(db: Executor, id: string, q: Partial<QueueValues> & { active?: boolean }): Promise<QueueRow | undefined> {
    const { priorityRules, ...rest } = q;
    return (await db.updateTable('queues')
      .set((eb) => ({ ...rest, ...(priorityRules ? { priorityRules: JSON.stringify(priorityRules) } : {}), version: eb('version', '+', 1), updatedAt: sql<Date>`now()` }))
      .where('id', '=', id).returning(COLUMNS).executeTakeFirst()) as unknown as QueueRow | undefined;
  }

  async replaceSkills(db: Executor, queueId: string, skills: readonly RequiredSkill[]): Promise<void> {
    await db.deleteFrom('queueSkills').where('queueId', '=', queueId).execute();
    if (skills.length) await db.insertInto('queueSkills').values(skills.map((s) => ({ queueId, skillId: s.skillId, minLevel: s.minLevel }))).execute();
  }

  async findById(db: Executor, id: string): Promise<QueueRow | undefined> {
    return (await db.selectFrom('queues').select(COLUMNS).where('id', '=', id).executeTakeFirst()) as unknown as QueueRow | undefined;
  }

  async findByCode(db: Executor, code: string): Promise<QueueRow | undefined> {
    return (await db.selectFrom('queues').select(COLUMNS).where('code', '=', code).executeTakeFirst()) as unknown as QueueRow | undefined;
  }

  async list(db: Executor, f: { active?: boolean; centreId?: string; after?: string; limit: number }): Promise<QueueRow[]> {
    let q = db.selectFrom('queues').select(COLUMNS).orderBy('code').limit(f.limit);
    if (f.active !== undefined) q = q.where('active', '=', f.active);
    if (f.centreId) q = q.where('centreId', '=', f.centreId);
    if (f.after) q = q.where('code', '>', f.after);
    return (await q.execute()) as unknown as QueueRow[];
  }

  async skillsOf(db: Executor, queueIds: readonly string[]): Promise<QueueSkillRow[]> {
    if (queueIds.length === 0) return [];
    return db.selectFrom('queueSkills as qs').innerJoin('skills as s', 's.id', 'qs.skillId')
      .select(['qs.queueId', 'qs.skillId', 'qs.minLevel', 's.code as skillCode', 's.name as skillName'])
      .where('qs.queueId', 'in', queueIds).orderBy('s.code').execute();
  }

  /** Every active queue's overflow target (null when it does not overflow to a queue). */
  async overflowTargets(db: Executor): Promise<Map<string, string | null>> {
    const rows = await db.selectFrom('queues').select(['id', 'overflowQueueId']).where('active', '=', true).execute();
    return new Map(rows.map((r) => [r.id, r.overflowQueueId]));
  }

  async codesOf(db: Executor, ids: readonly string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await db.selectFrom('queues').select(['id', 'code']).where('id', 'in', ids).execute();
    return new Map(rows.map((r) => [r.id, r.code]));
  }

  /** Active queues that overflow straight into this one. */
  async activeOverflowSources(db: Executor, queueId: string): Promise<string[]> {
    return (await db.selectFrom('queues').select('code').where('overflowQueueId', '=', queueId).where('active', '=', true).orderBy('code').execute()).map((r) => r.code);
  }

  async centreExists(db: Executor, centreId: string): Promise<boolean> {
    return (await db.selectFrom('centres').select('id').where('id', '=', centreId).executeTakeFirst()) !== undefined;
  }

  async scheduleActive(db: Executor, scheduleId: string): Promise<boolean | undefined> {
    return (await db.selectFrom('schedules').select('active').where('id', '=', scheduleId).executeTakeFirst())?.active;
  }

  async skillsActive(db: Executor, skillIds: readonly string[]): Promise<Map<string, boolean>> {
    if (skillIds.length === 0) return new Map();
    const rows = await db.selectFrom('skills').select(['id', 'active']).where('id', 'in', skillIds).execute();
    return new Map(rows.map((r) => [r.id, r.active]));
  }

  /** The IVR menu document in force, if any (a queue it uses must stay active). */
  async currentIvrMenu(db: Executor): Promise<unknown> {
    return (await db.selectFrom('ivrMenus').select('document').orderBy('version', 'desc').limit(1).executeTakeFirst())?.document;
  }
}
