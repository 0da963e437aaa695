/**
 * Sign-in, sessions, users and API keys. Users sign in for a JWT naming a session row (so
 * sign-out and disabling take effect at once); machines use API keys, stored as SHA-256
 * digests and shown once.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import type { Database } from '../../adapters/db/database.js';
import type { ApiKeyRole, Principal, UserRole } from '../../domain/auth.js';
import type { Clock } from '../../domain/clock.js';
import { ConflictError, NotFoundError, UnauthenticatedError, ValidationError } from '../../domain/errors.js';
import type { AuditService } from '../audit/audit.service.js';
import type { OutboxRepository } from '../events/outbox.repository.js';
import type { ApiKeyRow, AuthRepository, UserRow } from './auth.repository.js';
import { signJwt, verifyJwt } from './jwt.js';
import { hashPassword, passwordProblems, verifyPassword, type ScryptParams } from './password.js';

export interface AuthSettings {
  readonly jwtSecret: string;
  readonly sessionTtlSeconds: number;
  readonly scrypt?: ScryptParams;
}

export interface PublicUser {
  id: string;
  username: string;
  displayName: string;
  role: UserRole;
  departmentId: string | null;
  centreId: string;
  active: boolean;
  createdAt: string;
}

export interface PublicApiKey {
  id: string;
  name: string;
  prefix: string;
  role: ApiKeyRole;
  departmentId: string | null;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

const API_KEY_PREFIX = 'hk_';

export class AuthService {
  // Verified against when the username is unknown, so timing does not reveal which users exist.
  private dummyHash: Promise<string> | undefined;

  constructor(
    private readonly db: Database,
    private readonly repo: AuthRepository,
    private readonly outbox: OutboxRepository,
    private readonly settings: AuthSettings,
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** Changes made without a request (the bootstrap admin) are audited here, actor 'system'. */
    private readonly audit: AuditService,
  ) {}

  async login(username: string, password: string, origin: { ip: string | null; userAgent: string | null }): Promise<{ token: string; expiresAt: string; user: PublicUser }> {
    const user = await this.repo.findUserByUsername(this.db, username);
    if (!user) {
      this.dummyHash ??= hashPassword('not-a-real-password', this.settings.scrypt);
      await verifyPassword(password, await this.dummyHash);
      throw new UnauthenticatedError('Wrong username or password', 'invalid_credentials');
    }
    const ok = await verifyPassword(password, user.passwordHash);
    if (!ok) throw new UnauthenticatedError('Wrong username or password', 'invalid_credentials');
    if (!user.active) throw new UnauthenticatedError('This account is disabled', 'account_disabled');
    const now = this.clock.now();
    const expiresAt = new Date(now.getTime() + this.settings.sessionTtlSeconds * 1000);
    const sid = await this.repo.insertSession(this.db, { userId: user.id, expiresAt, ip: origin.ip, userAgent: origin.userAgent?.slice(0, 300) ?? null });
    const iat = Math.floor(now.getTime() / 1000);
    const token = signJwt({ sub: user.id, sid, role: user.role, iat, exp: Math.floor(expiresAt.getTime() / 1000) }, this.settings.jwtSecret);
    return { token, expiresAt: expiresAt.toISOString(), user: toPublicUser(user) };
  }

  async authenticateToken(token: string): Promise<Principal> {
    const claims = verifyJwt(token, this.settings.jwtSecret, Math.floor(this.clock.now().getTime() / 1000));
    const user = await this.repo.findLiveSession(this.db, claims.sid);
    if (!user || user.id !== claims.sub) throw sessionEnded();
    return { kind: 'user', id: user.id, name: user.username, role: user.role, departmentId: user.departmentId, centreId: user.centreId, sessionId: claims.sid };
  }

  /**
   * Many session tokens at once (the desktops' periodic re-check): each token's reason to be
   * refused, or null while it is still good. One query for all of them.
   */
  async checkTokens(tokens: readonly string[]): Promise<Map<string, UnauthenticatedError | null>> {
    const now = Math.floor(this.clock.now().getTime() / 1000);
    const out = new Map<string, UnauthenticatedError | null>();
    const pending: { token: string; sid: string; sub: string }[] = [];
    for (const token of tokens) {
      try {
        const claims = verifyJwt(token, this.settings.jwtSecret, now);
        pending.push({ token, sid: claims.sid, sub: claims.sub });
      } catch (err) {
        if (!(err instanceof UnauthenticatedError)) throw err;
        out.set(token, err);
      }
    }
    const live = new Map((await this.repo.liveSessions(this.db, [...new Set(pending.map((p) => p.sid))])).map((r) => [r.sessionId, r.userId]));
    for (const p of pending) out.set(p.token, live.get(p.sid) === p.sub ? null : sessionEnded());
    return out;
  }

  async logout(principal: Principal): Promise<void> {
    if (principal.sessionId) await this.repo.revokeSession(this.db, principal.sessionId);
  }

  async authenticateApiKey(key: string): Promise<Principal> {
    const parsed = parseApiKey(key);
    if (!parsed) throw new UnauthenticatedError('The API key is malformed', 'api_key_invalid');
    const row = await this.repo.findApiKeyByPrefix(this.db, parsed.prefix);
    const digest = sha256(key);
    if (!row || !timingSafeEqual(Buffer.from(row.keyHash, 'hex'), digest)) throw new UnauthenticatedError('The API key is not valid', 'api_key_invalid');
    if (row.revokedAt) throw new UnauthenticatedError('The API key was revoked', 'api_key_revoked');
    if (row.expiresAt && row.expiresAt <= this.clock.now()) throw new UnauthenticatedError('The API key has expired', 'api_key_expired');
    await this.repo.touchApiKey(this.db, row.id).catch((err: unknown) => this.logger.warn({ err }, 'could not record API key use'));
    return { kind: 'api_key', id: row.id, name: row.name, role: row.role, departmentId: row.departmentId, centreId: 'main' };
  }

  /** `actor` null: the service itself creates the user, audited as 'system' in the same transaction. */
  async createUser(input: { username: string; displayName: string; password: string; role: UserRole; departmentId?: string | null }, actor: Principal | null, reason?: string): Promise<PublicUser> {
    this.checkPassword(input.password, input.username);
    const departmentId = input.departmentId ?? null;
    await this.checkDepartment(input.role, departmentId);
    const passwordHash = await hashPassword(input.password, this.settings.scrypt);
    return this.db.transaction().execute(async (tx) => {
      if (await this.repo.findUserByUsername(tx, input.username)) throw new ConflictError(`Username ${input.username} is taken`, 'username_taken');
      const row = await this.repo.insertUser(tx, { username: input.username, displayName: input.displayName, passwordHash, role: input.role, departmentId });
      const user = toPublicUser(row);
      await this.outbox.append(tx, [{ type: 'user.created', payload: { user, by: actor?.id ?? 'system' } }]);
      if (!actor) {
        await this.audit.recordSystem(tx, {
          action: 'user.create', resourceType: 'user', resourceId: user.id, outcome: 'success', statusCode: null,
          details: { username: user.username, role: user.role, ...(reason ? { reason } : {}) },
        });
      }
      return user;
    }).catch((err: unknown) => {
      if ((err as { code?: string }).code === '23505') throw new ConflictError(`Username ${input.username} is taken`, 'username_taken');
      throw err;
    });
  }

  async updateUser(id: string, patch: { displayName?: string; role?: UserRole; departmentId?: string | null; active?: boolean; password?: string }, actor: Principal): Promise<PublicUser> {
    return this.db.transaction().execute(async (tx) => {
      const current = await this.repo.findUserById(tx, id);
      if (!current) throw new NotFoundError('User', id, 'user_not_found');
      if (patch.password !== undefined) this.checkPassword(patch.password, current.username);
      const role = patch.role ?? current.role;
      const departmentId = patch.departmentId !== undefined ? patch.departmentId : current.departmentId;
      await this.checkDepartment(role, departmentId);
      if (actor.id === id && (patch.active === false || (patch.role && patch.role !== 'admin' && current.role === 'admin'))) {
        throw new ConflictError('You cannot disable yourself or drop your own admin role', 'self_lockout');
      }
      const row = await this.repo.updateUser(tx, id, {
        ...(patch.displayName !== undefined ? { displayName: patch.displayName } : {}),
        ...(patch.role !== undefined ? { role: patch.role } : {}),
        ...(patch.departmentId !== undefined ? { departmentId: patch.departmentId } : {}),
        ...(patch.active !== undefined ? { active: patch.active } : {}),
        ...(patch.password !== undefined ? { passwordHash: await hashPassword(patch.password, this.settings.scrypt) } : {}),
      });
      // A new password, role or disablement ends every open session of that user.
      if (patch.password !== undefined || patch.role !== undefined || patch.active === false || patch.departmentId !== undefined) {
        await this.repo.revokeUserSessions(tx, id);
      }
      const user = toPublicUser(row!);
      await this.outbox.append(tx, [{ type: 'user.updated', payload: { user, by: actor.id, fields: Object.keys(patch).filter((k) => k !== 'password').concat(patch.password ? ['password'] : []) } }]);
      return user;
    });
  }

  async getUser(id: string): Promise<PublicUser> {
    const row = await this.repo.findUserById(this.db, id);
    if (!row) throw new NotFoundError('User', id, 'user_not_found');
    return toPublicUser(row);
  }

  async listUsers(filter: { departmentId?: string; role?: UserRole; limit: number; after?: string }): Promise<PublicUser[]> {
    return (await this.repo.listUsers(this.db, filter)).map(toPublicUser);
  }

  /** The key is returned once; only its digest is stored. */
  async createApiKey(input: { name: string; role: ApiKeyRole; departmentId?: string | null; expiresAt?: string | null }, actor: Principal): Promise<{ key: string; apiKey: PublicApiKey }> {
    const departmentId = input.departmentId ?? null;
    if (input.role === 'dept_handler' && !departmentId) throw new ValidationError('A department key needs departmentId', { field: 'departmentId' }, 'department_required');
    if (departmentId && !(await this.repo.departmentExists(this.db, departmentId))) throw new NotFoundError('Department', departmentId, 'department_not_found');
    const expiresAt = input.expiresAt ? new Date(input.expiresAt) : null;
    if (expiresAt && expiresAt <= this.clock.now()) throw new ValidationError('expiresAt must be in the future', { field: 'expiresAt' }, 'expiry_in_past');
    const prefix = randomBytes(6).toString('hex');
    const key = `${API_KEY_PREFIX}${prefix}_${randomBytes(32).toString('base64url')}`;
    return this.db.transaction().execute(async (tx) => {
      const row = await this.repo.insertApiKey(tx, { name: input.name, prefix, keyHash: sha256(key).toString('hex'), role: input.role, departmentId, createdBy: actor.kind === 'user' ? actor.id : null, expiresAt });
      const apiKey = toPublicKey(row);
      await this.outbox.append(tx, [{ type: 'api_key.created', payload: { apiKey, by: actor.id } }]);
      return { key, apiKey };
    });
  }

  async listApiKeys(): Promise<PublicApiKey[]> {
    return (await this.repo.listApiKeys(this.db)).map(toPublicKey);
  }

  async revokeApiKey(id: string, actor: Principal): Promise<PublicApiKey> {
    return this.db.transaction().execute(async (tx) => {
      const row = await this.repo.revokeApiKey(tx, id);
      if (!row) throw new NotFoundError('API key', id, 'api_key_not_found');
      const apiKey = toPublicKey(row);
      await this.outbox.append(tx, [{ type: 'api_key.revoked', payload: { apiKey, by: actor.id } }]);
      return apiKey;
    });
  }

  /** Creates the configured admin if no user has that name yet; never overwrites a password. */
  async ensureBootstrapAdmin(admin: { username: string; password: string }): Promise<'created' | 'exists'> {
    if (await this.repo.findUserByUsername(this.db, admin.username)) return 'exists';
    try {
      await this.createUser({ username: admin.username, displayName: 'Administrator', password: admin.password, role: 'admin' }, null, 'BOOTSTRAP_ADMIN_USER');
      this.logger.info({ username: admin.username }, 'bootstrap admin created');
      return 'created';
    } catch (err) {
      if (err instanceof ConflictError) return 'exists'; // another instance won the race
      throw err;
    }
  }

  private checkPassword(password: string, username: string): void {
    const problems = passwordProblems(password, username);
    if (problems.length) throw new ValidationError(`The password needs ${problems.join('; ')}`, { field: 'password', problems }, 'weak_password');
  }

  private async checkDepartment(role: UserRole, departmentId: string | null): Promise<void> {
    if (role === 'dept_handler' && !departmentId) throw new ValidationError('A department handler needs departmentId', { field: 'departmentId' }, 'department_required');
    if (departmentId && !(await this.repo.departmentExists(this.db, departmentId))) throw new NotFoundError('Department', departmentId, 'department_not_found');
  }
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function parseApiKey(key: string): { prefix: string } | undefined {
  const m = /^hk_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$/.exec(key);
  return m ? { prefix: m[1]! } : undefined;
}

function toPublicUser(u: UserRow): PublicUser {
  return { id: u.id, username: u.username, displayName: u.displayName, role: u.role, departmentId: u.departmentId, centreId: u.centreId, active: u.active, createdAt: u.createdAt.toISOString() };
}

function toPublicKey(k: ApiKeyRow): PublicApiKey {
  return {
    id: k.id, name: k.name, prefix: k.prefix, role: k.role, departmentId: k.departmentId, createdAt: k.createdAt.toISOString(),
    expiresAt: k.expiresAt?.toISOString() ?? null, lastUsedAt: k.lastUsedAt?.toISOString() ?? null, revokedAt: k.revokedAt?.toISOString() ?? null,
  };
}

function sessionEnded(): UnauthenticatedError {
  return new UnauthenticatedError('The session has ended; sign in again', 'session_revoked');
}
