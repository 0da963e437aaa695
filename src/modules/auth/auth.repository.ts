import { sql } from 'kysely';
import type { Executor } from '../../adapters/db/database.js';
import type { ApiKeyRole, UserRole } from '../../domain/auth.js';

export interface UserRow {
  id: string;
  username: string;
  displayName: string;
  passwordHash: string;
  role: UserRole;
  departmentId: string | null;
  centreId: string;
  active: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface ApiKeyRow {
  id: string;
  name: string;
  prefix: string;
  keyHash: string;
  role: ApiKeyRole;
  departmentId: string | null;
  createdBy: string | null;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

const USER_COLUMNS = ['id', 'username', 'displayName', 'passwordHash', 'role', 'departmentId', 'centreId', 'active', 'createdAt', 'updatedAt'] as const;
const KEY_COLUMNS = ['id', 'name', 'prefix', 'keyHash', 'role', 'departmentId', 'createdBy', 'createdAt', 'expiresAt', 'lastUsedAt', 'revokedAt'] as const;

export class AuthRepository {
  async findUserByUsername(db: Executor, username: string): Promise<UserRow | undefined> {
    const row = await db.selectFrom('users').select(USER_COLUMNS).where(sql`lower(username)`, '=', username.toLowerCase()).executeTakeFirst();
    return row as UserRow | undefined;
  }

  async findUserById(db: Executor, id: string): Promise<UserRow | undefined> {
    return (await db.selectFrom('users').select(USER_COLUMNS).where('id', '=', id).executeTakeFirst()) as UserRow | undefined;
  }

  async listUsers(db: Executor, filter: { departmentId?: string; role?: UserRole; limit: number; after?: string }): Promise<UserRow[]> {
    let q = db.selectFrom('users').select(USER_COLUMNS).orderBy('username').limit(filter.limit);
    if (filter.departmentId) q = q.where('departmentId', '=', filter.departmentId);
    if (filter.role) q = q.where('role', '=', filter.role);
    if (filter.after) q = q.where('username', '>', filter.after);
    return (await q.execute()) as UserRow[];
  }

  async insertUser(db: Executor, u: { username: string; displayName: string; passwordHash: string; role: UserRole; departmentId: string | null }): Promise<UserRow> {
    return (await db.insertInto('users').values(u).returning(USER_COLUMNS).executeTakeFirstOrThrow()) as UserRow;
  }

  async updateUser(db: Executor, id: string, patch: Partial<Pick<UserRow, 'displayName' | 'role' | 'departmentId' | 'active' | 'passwordHash'>>): Promise<UserRow | undefined> {
    const set: Record<string, unknown> = { ...patch, updatedAt: sql`now()` };
    if (patch.passwordHash) set.passwordChangedAt = sql`now()`;
    return (await db.updateTable('users').set(set).where('id', '=', id).returning(USER_COLUMNS).executeTakeFirst()) as UserRow | undefined;
  }

  async departmentExists(db: Executor, id: string): Promise<boolean> {
    return (await db.selectFrom('departments').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
  }

  async insertSession(db: Executor, s: { userId: string; expiresAt: Date; ip: string | null; userAgent: string | null }): Promise<string> {
    const row = await db.insertInto('sessions').values(s).returning('id').executeTakeFirstOrThrow();
    return row.id;
  }

  /** The session joined with its user, only while both are valid. */
  async findLiveSession(db: Executor, sessionId: string): Promise<UserRow | undefined> {
    const row = await db.selectFrom('sessions as s')
      .innerJoin('users as u', 'u.id', 's.userId')
      .select(USER_COLUMNS.map((c) => `u.${c}` as const))
      .where('s.id', '=', sessionId)
      .where('s.revokedAt', 'is', null)
      .where('s.expiresAt', '>', sql<Date>`now()`)
      .where('u.active', '=', true)
      .executeTakeFirst();
    return row as UserRow | undefined;
  }

  /** Of these sessions, the ones still valid (not revoked or expired, user active), with their user. */
  async liveSessions(db: Executor, sessionIds: readonly string[]): Promise<{ sessionId: string; userId: string }[]> {
    if (sessionIds.length === 0) return [];
    return db.selectFrom('sessions as s').innerJoin('users as u', 'u.id', 's.userId')
      .select(['s.id as sessionId', 's.userId'])
      .where('s.id', 'in', sessionIds)
      .where('s.revokedAt', 'is', null)
      .where('s.expiresAt', '>', sql<Date>`now()`)
      .where('u.active', '=', true)
      .execute();
  }

  async revokeSession(db: Executor, sessionId: string): Promise<void> {
    await db.updateTable('sessions').set({ revokedAt: sql`now()` }).where('id', '=', sessionId).where('revokedAt', 'is', null).execute();
  }

  async revokeUserSessions(db: Executor, userId: string): Promise<void> {
    await db.updateTable('sessions').set({ revokedAt: sql`now()` }).where('userId', '=', userId).where('revokedAt', 'is', null).execute();
  }

  async insertApiKey(db: Executor, k: { name: string; prefix: string; keyHash: string; role: ApiKeyRole; departmentId: string | null; createdBy: string | null; expiresAt: Date | null }): Promise<ApiKeyRow> {
    return (await db.insertInto('apiKeys').values(k).returning(KEY_COLUMNS).executeTakeFirstOrThrow()) as ApiKeyRow;
  }

  async findApiKeyByPrefix(db: Executor, prefix: string): Promise<ApiKeyRow | undefined> {
    return (await db.selectFrom('apiKeys').select(KEY_COLUMNS).where('prefix', '=', prefix).executeTakeFirst()) as ApiKeyRow | undefined;
  }

  async listApiKeys(db: Executor): Promise<ApiKeyRow[]> {
    return (await db.selectFrom('apiKeys').select(KEY_COLUMNS).orderBy('createdAt', 'desc').execute()) as ApiKeyRow[];
  }

  async revokeApiKey(db: Executor, id: string): Promise<ApiKeyRow | undefined> {
    return (await db.updateTable('apiKeys').set({ revokedAt: sql`coalesce(revoked_at, now())` }).where('id', '=', id).returning(KEY_COLUMNS).executeTakeFirst()) as ApiKeyRow | undefined;
  }

  async touchApiKey(db: Executor, id: string): Promise<void> {
    // At most once a minute: a hot integrator key must not turn every request into a write.
    await db.updateTable('apiKeys').set({ lastUsedAt: sql`now()` }).where('id', '=', id)
      .where((eb) => eb.or([eb('lastUsedAt', 'is', null), eb('lastUsedAt', '<', sql<Date>`now() - interval '1 minute'`)]))
      .execute();
  }
}
