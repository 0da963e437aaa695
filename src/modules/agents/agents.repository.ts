import { sql, type RawBuilder } from 'kysely';
import { PREPARED, prepared, type Executor } from '../../adapters/db/database.js';
import type { AgentState, AgentStateSnapshot, NotReadyReason, StateActor, StateChangeLog } from '../../domain/agents/index.js';
import type { OutboxRow } from '../events/outbox.repository.js';

export interface AgentRow {
  userId: string;
  username: string;
  displayName: string;
  role: string;
  extension: string;
  centreId: string;
  languages: string[];
  autoAnswer: boolean;
  active: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * A write that belongs to an agent's state change (the ACD's offer rows): the body of a
 * data-modifying CTE of `applyChange`'s statement, reading `upd` (the agent's row, there only
 * when the change applied) so that it happens exactly when the change does.
 */
export type DependentWrite = RawBuilder<unknown>;

export interface AgentSkillRow { agentId: string; skillId: string; skillCode: string; skillName: string; level: number }

export interface AgentStateRow extends AgentStateSnapshot {
  agentId: string;
  displayName: string;
  centreId: string;
  active: boolean;
}

export interface StateLogRow extends StateChangeLog {
  id: string;
  agentId: string;
  actorId: string | null;
}

const AGENT_COLUMNS = ['a.userId', 'u.username', 'u.displayName', 'u.role', 'a.extension', 'a.centreId', 'a.languages', 'a.autoAnswer', 'a.active', 'a.createdAt', 'a.updatedAt'] as const;
const STATE_COLUMNS = [
  's.agentId', 's.state', 's.reason', 's.since', 's.version', 's.extension', 's.idleSince', 's.lastCallEndedAt', 's.callId', 's.wrapUpUntil',
  'u.displayName', 'a.centreId', 'a.active',
] as const;

export class AgentsRepository {
  async findUser(db: Executor, userId: string): Promise<{ id: string; role: string; active: boolean; centreId: string } | undefined> {
    return db.selectFrom('users').select(['id', 'role', 'active', 'centreId']).where('id', '=', userId).executeTakeFirst();
  }

  async insert(db: Executor, a: { userId: string; extension: string; centreId: string; languages: string[]; autoAnswer?: boolean }): Promise<void> {
    await db.insertInto('agents').values(a).execute();
  }

  async update(db: Executor, userId: string, patch: { extension?: string; languages?: string[]; active?: boolean; autoAnswer?: boolean }): Promise<void> {
    await db.updateTable('agents').set({ ...patch, updatedAt: sql<Date>`now()` }).where('userId', '=', userId).execute();
  }

  async findById(db: Executor, userId: string): Promise<AgentRow | undefined> {
    return db.selectFrom('agents as a').innerJoin('users as u', 'u.id', 'a.userId').select(AGENT_COLUMNS).where('a.userId', '=', userId).executeTakeFirst();
  }

  async findByExtension(db: Executor, extension: string): Promise<AgentRow | undefined> {
    return db.selectFrom('agents as a').innerJoin('users as u', 'u.id', 'a.userId').select(AGENT_COLUMNS).where('a.extension', '=', extension).executeTakeFirst();
  }

  async list(db: Executor, f: { active?: boolean; centreId?: string; skillId?: string; after?: string; limit: number }): Promise<AgentRow[]> {
    let q = db.selectFrom('agents as a').innerJoin('users as u', 'u.id', 'a.userId').select(AGENT_COLUMNS).orderBy('a.extension').limit(f.limit);
    if (f.active !== undefined) q = q.where('a.active', '=', f.active);
    if (f.centreId) q = q.where('a.centreId', '=', f.centreId);
    if (f.skillId) q = q.where((eb) => eb.exists(eb.selectFrom('agentSkills as k').select(sql`1`.as('one')).whereRef('k.agentId', '=', 'a.userId').where('k.skillId', '=', f.skillId!)));
    if (f.after) q = q.where('a.extension', '>', f.after);
    return q.execute();
  }

  async skillsOf(db: Executor, agentIds: readonly string[]): Promise<AgentSkillRow[]> {
    if (agentIds.length === 0) return [];
    return db.selectFrom('agentSkills as k').innerJoin('skills as s', 's.id', 'k.skillId')
      .select(['k.agentId', 'k.skillId', 's.code as skillCode', 's.name as skillName', 'k.level'])
      .where('k.agentId', 'in', agentIds).orderBy('s.code').execute();
  }

  /**
   * Also stamps the agent row: the ACD keeps skills it has read until that stamp changes, so
   * every change of skills must go through here.
   */
  async replaceSkills(db: Executor, agentId: string, skills: readonly { skillId: string; level: number }[]): Promise<void> {
    await db.deleteFrom('agentSkills').where('agentId', '=', agentId).execute();
    if (skills.length) await db.insertInto('agentSkills').values(skills.map((s) => ({ agentId, skillId: s.skillId, level: s.level }))).execute();
    // clock_timestamp(): two changes in one transaction still get different stamps.
    await db.updateTable('agents').set({ updatedAt: sql<Date>`clock_timestamp()` }).where('userId', '=', agentId).execute();
  }

  async skillsActive(db: Executor, skillIds: readonly string[]): Promise<Map<string, boolean>> {
    if (skillIds.length === 0) return new Map();
    const rows = await db.selectFrom('skills').select(['id', 'active']).where('id', 'in', skillIds).execute();
    return new Map(rows.map((r) => [r.id, r.active]));
  }

  // --- Current state and its log.

  async insertState(db: Executor, agentId: string, s: AgentStateSnapshot): Promise<void> {
    await db.insertInto('agentStates').values({ agentId, ...s }).execute();
  }

  /** The agent's state row, locked until the transaction ends: the call flow's changes of one agent queue up here. */
  async lockState(db: Executor, agentId: string): Promise<AgentStateRow | undefined> {
    return (await db.executeQuery(prepared(db.selectFrom('agentStates as s').innerJoin('agents as a', 'a.userId', 's.agentId').innerJoin('users as u', 'u.id', 'a.userId')
      .select(STATE_COLUMNS).where('s.agentId', '=', agentId).forUpdate('s')))).rows[0] as AgentStateRow | undefined;
  }

  async findState(db: Executor, agentId: string): Promise<AgentStateRow | undefined> {
    return (await db.executeQuery(prepared(db.selectFrom('agentStates as s').innerJoin('agents as a', 'a.userId', 's.agentId').innerJoin('users as u', 'u.id', 'a.userId')
      .select(STATE_COLUMNS).where('s.agentId', '=', agentId)))).rows[0] as AgentStateRow | undefined;
  }

  /** The agent logged in at this extension (the state row holds the extension only while logged in). */
  async findStateAtExtension(db: Executor, extension: string): Promise<AgentStateRow | undefined> {
    return (await db.selectFrom('agentStates as s').innerJoin('agents as a', 'a.userId', 's.agentId').innerJoin('users as u', 'u.id', 'a.userId')
      .select(STATE_COLUMNS).where('s.extension', '=', extension).executeTakeFirst()) as AgentStateRow | undefined;
  }

  async listStates(db: Executor, f: { centreId?: string; state?: AgentState; includeOffline: boolean; limit: number }): Promise<AgentStateRow[]> {
    let q = db.selectFrom('agentStates as s').innerJoin('agents as a', 'a.userId', 's.agentId').innerJoin('users as u', 'u.id', 'a.userId')
      .select(STATE_COLUMNS).where('a.active', '=', true).orderBy('a.extension').limit(f.limit);
    if (f.centreId) q = q.where('a.centreId', '=', f.centreId);
    if (f.state) q = q.where('s.state', '=', f.state);
    else if (!f.includeOffline) q = q.where('s.state', '<>', 'offline');
    return (await q.execute()) as AgentStateRow[];
  }

  /**
   * A state change in one statement: the state row (only if still at `expectedVersion`), its
   * log row and the events announcing it (a compare-and-set on the version). The first event's
   * payload gets the log row's id as `logId`. Undefined (nothing written) when the row moved on
   * meanwhile. `notify` is sent (at commit) and `alsoWhenApplied` written only when the change
   * is: a round trip each saved on the ACD's and the ready agent's paths.
   */
  async applyChange(db: Executor, c: {
    agentId: string; expectedVersion: number; next: AgentStateSnapshot; log: StateChangeLog; actorId: string | null; events: readonly OutboxRow[];
    notify?: { channel: string; payload: string }; alsoWhenApplied?: readonly DependentWrite[];
  }): Promise<string | undefined> {
    const { next: n, log: l } = c;
    const events = JSON.stringify(c.events);
    const also = (c.alsoWhenApplied ?? []).map((w, i) => sql`, ${sql.ref(`also${i}`)} AS (${w})`);
    const r = await sql<{ logId: string }>`
      ${sql.raw(PREPARED)} WITH upd AS (
        UPDATE agent_states SET state = ${n.state}, reason = ${n.reason}, since = ${n.since}, version = ${n.version}, extension = ${n.extension},
          idle_since = ${n.idleSince}, last_call_ended_at = ${n.lastCallEndedAt}, call_id = ${n.callId}, wrap_up_until = ${n.wrapUpUntil}, updated_at = now()
        WHERE agent_id = ${c.agentId} AND version = ${c.expectedVersion}
        RETURNING agent_id
      ), log AS (
        INSERT INTO agent_state_log (agent_id, from_state, from_reason, state, reason, at, previous_duration_ms, actor_type, actor_id, call_id, extension)
        SELECT agent_id, ${l.fromState}, ${l.fromReason}, ${l.state}, ${l.reason}, ${l.at}, ${l.previousDurationMs}, ${l.actor}, ${c.actorId}, ${l.callId}, ${l.extension} FROM upd
        RETURNING id
      ), ev AS (
        INSERT INTO outbox (id, subject, type, payload, headers)
        SELECT (x.e->>'id')::uuid, x.e->>'subject', x.e->>'type',
          CASE WHEN x.ord = 1 THEN jsonb_set(x.e->'payload', '{logId}', to_jsonb(log.id::text)) ELSE x.e->'payload' END, x.e->'headers'
        FROM log CROSS JOIN jsonb_array_elements(${events}::jsonb) WITH ORDINALITY AS x(e, ord)
        ORDER BY x.ord
      )${sql.join(also, sql``)}
      SELECT id::text AS "logId"${c.notify ? sql`, pg_notify(${c.notify.channel}, ${c.notify.payload})` : sql``} FROM log`.execute(db);
    return r.rows[0]?.logId;
  }

  async log(db: Executor, agentId: string, f: { from?: Date; to?: Date; limit: number }): Promise<StateLogRow[]> {
    let q = db.selectFrom('agentStateLog').selectAll().where('agentId', '=', agentId).orderBy('at', 'desc').orderBy('id', 'desc').limit(f.limit);
    if (f.from) q = q.where('at', '>=', f.from);
    if (f.to) q = q.where('at', '<', f.to);
    const rows = await q.execute();
    return rows.map((r) => ({
      id: r.id, agentId: r.agentId, fromState: r.fromState as AgentState, fromReason: r.fromReason as NotReadyReason | null, state: r.state as AgentState,
      reason: r.reason as NotReadyReason | null, at: r.at, previousDurationMs: Number(r.previousDurationMs), actor: r.actorType as StateActor,
      actorId: r.actorId, callId: r.callId, extension: r.extension,
    }));
  }

  /** Agents whose wrap-up time is over, oldest first. */
  async expiredWrapUps(db: Executor, now: Date, limit: number): Promise<{ agentId: string; callId: string | null }[]> {
    return db.selectFrom('agentStates').select(['agentId', 'callId']).where('state', '=', 'wrap_up').where('wrapUpUntil', '<=', now).orderBy('wrapUpUntil').limit(limit).execute();
  }

  /** Ready agents with their skills and languages, longest idle first: the ACD's candidates. */
  async readyCandidates(db: Executor, centreId: string | undefined, limit: number): Promise<{ agentId: string; idleSince: Date; languages: string[]; extension: string }[]> {
    let q = db.selectFrom('agentStates as s').innerJoin('agents as a', 'a.userId', 's.agentId')
      .select(['s.agentId', 's.idleSince', 'a.languages', 's.extension'])
      .where('s.state', '=', 'ready').where('a.active', '=', true).orderBy('s.idleSince').limit(limit);
    if (centreId) q = q.where('a.centreId', '=', centreId);
    return (await q.execute()).map((r) => ({ agentId: r.agentId, idleSince: r.idleSince!, languages: r.languages, extension: r.extension! }));
  }
}
