import { createHash } from 'node:crypto';
import type { InjectOptions } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, TEST_PASSWORD, type TestApp } from '../support/app.js';

let t: TestApp;
let sql: pg.Client;
beforeAll(async () => {
  t = await buildTestApp({ LOGIN_RATE_LIMIT_MAX: '5', LOGIN_RATE_LIMIT_PER_ADDRESS_MAX: '40', LOGIN_RATE_LIMIT_WINDOW_SECONDS: '60' });
  sql = new pg.Client({ connectionString: t.dbUrl });
  await sql.connect();
});
afterAll(async () => {
  await sql.end();
  await t.close();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const inject = (opts: InjectOptions) => t.hotline.app.inject(opts);

async function createDept(code: string, level = 'city', parentId?: string): Promise<string> {
  const res = await inject({ method: 'POST', url: '/api/v1/departments', headers: bearer(t.adminToken), payload: { code, name: `部门${code}`, level, ...(parentId ? { parentId } : {}) } });
  expect(res.statusCode, res.body).toBe(201);
  return (res.json<{ id: string }>()).id;
}

describe('sign-in and sessions', () => {
  it('creates the bootstrap admin from configuration, once', async () => {
    const { rows } = await sql.query("SELECT role, password_hash FROM users WHERE username = 'root'");
    expect(rows).toHaveLength(1);
    expect(rows[0].role).toBe('admin');
    expect(rows[0].password_hash).toMatch(/^scrypt\$/);
    expect(await t.hotline.services.auth.ensureBootstrapAdmin({ username: 'root', password: 'Other-Passw0rd!' })).toBe('exists');
  });

  it('audits the bootstrap admin as a change made by the system', async () => {
    const { rows } = await sql.query("SELECT a.* FROM audit_log a JOIN users u ON u.id::text = a.resource_id WHERE u.username = 'root' AND a.action = 'user.create'");
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor_type: 'system', actor_name: 'system', resource_type: 'user', outcome: 'success', details: { username: 'root', role: 'admin', reason: 'BOOTSTRAP_ADMIN_USER' } });
  });

  it('refuses wrong passwords and unknown users the same way', async () => {
    await t.createUser('alice', 'agent');
    const wrong = await inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'alice', password: 'nope-nope-nope' } });
    const unknown = await inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'nobody', password: 'nope-nope-nope' } });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ code: 'invalid_credentials' });
    expect(unknown.json()).toMatchObject({ code: 'invalid_credentials', detail: (wrong.json<{ detail: string }>()).detail });
  });

  it('rate-limits sign-in attempts per address and username', async () => {
    await t.createUser('mallory-target', 'agent');
    const codes: number[] = [];
    for (let i = 0; i < 7; i++) {
      codes.push((await inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'mallory-target', password: `guess-${i}` } })).statusCode);
    }
    // createUser's own login used one attempt of the five.
    expect(codes.slice(0, 4)).toEqual([401, 401, 401, 401]);
    const limited = await inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'mallory-target', password: TEST_PASSWORD } });
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ code: 'rate_limited' });
    expect(limited.headers['retry-after']).toBeDefined();
    // Another username from the same address is not locked out by this.
    await t.createUser('bob', 'agent');
  });

  it('rate-limits sign-in attempts per address, whatever the username', async () => {
    const from = (i: number) => inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: '198.51.100.7', payload: { username: `spray-${i}`, password: 'Winter-2026-pass' } });
    const codes: number[] = [];
    for (let i = 0; i < 40; i++) codes.push((await from(i)).statusCode);
    expect(new Set(codes)).toEqual(new Set([401]));
    const limited = await from(40);
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ code: 'rate_limited', detail: expect.stringMatching(/from this address/) });
    expect(limited.headers['retry-after']).toBeDefined();
    // Another address is not affected.
    expect((await inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: '198.51.100.8', payload: { username: 'spray-x', password: 'Winter-2026-pass' } })).statusCode).toBe(401);
  });

  it('ends a session at sign-out and when the user is disabled', async () => {
    const { id, token } = await t.createUser('carol', 'supervisor');
    expect((await inject({ url: '/api/v1/auth/me', headers: bearer(token) })).json()).toMatchObject({ name: 'carol', role: 'supervisor' });
    expect((await inject({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(token) })).statusCode).toBe(204);
    const after = await inject({ url: '/api/v1/auth/me', headers: bearer(token) });
    expect(after.statusCode).toBe(401);
    expect(after.json()).toMatchObject({ code: 'session_revoked' });

    const token2 = await t.login('carol');
    const disable = await inject({ method: 'PATCH', url: `/api/v1/users/${id}`, headers: bearer(t.adminToken), payload: { active: false } });
    expect(disable.statusCode).toBe(200);
    expect((await inject({ url: '/api/v1/auth/me', headers: bearer(token2) })).statusCode).toBe(401);
    const login = await inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'carol', password: TEST_PASSWORD } });
    expect(login.json()).toMatchObject({ code: 'account_disabled' });
  });

  it('checks many session tokens in one call, each with its own verdict', async () => {
    const good = await t.createUser('dora', 'agent');
    const out = await t.createUser('erik', 'agent');
    const gone = await t.createUser('fay', 'agent');
    expect((await inject({ method: 'POST', url: '/api/v1/auth/logout', headers: bearer(out.token) })).statusCode).toBe(204);
    expect((await inject({ method: 'PATCH', url: `/api/v1/users/${gone.id}`, headers: bearer(t.adminToken), payload: { active: false } })).statusCode).toBe(200);
    const verdicts = await t.hotline.services.auth.checkTokens([good.token, out.token, gone.token, 'not.a.jwt']);
    expect(Object.fromEntries([...verdicts].map(([k, v]) => [k, v?.code ?? null]))).toEqual({
      [good.token]: null, [out.token]: 'session_revoked', [gone.token]: 'session_revoked', 'not.a.jwt': 'token_malformed',
    });
    expect((await t.hotline.services.auth.checkTokens([])).size).toBe(0);
  });

  it.each([
    [{}, 'unauthenticated'],
    [{ authorization: 'Basic abc' }, 'authorization_malformed'],
    [{ authorization: 'Bearer not.a.jwt' }, 'token_malformed'],
    [{ authorization: 'Bearer aaa.bbb.ccc' }, 'token_malformed'],
    [{ 'x-api-key': 'hk_123' }, 'api_key_invalid'],
    [{ 'x-api-key': `hk_000000000000_${'A'.repeat(43)}` }, 'api_key_invalid'],
  ])('rejects credentials %j with %s', async (headers, code) => {
    const res = await inject({ url: '/api/v1/auth/me', headers });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code });
  });

  it('rejects weak passwords and duplicate usernames with clear codes', async () => {
    const weak = await inject({ method: 'POST', url: '/api/v1/users', headers: bearer(t.adminToken), payload: { username: 'dave', displayName: 'D', password: 'password', role: 'agent' } });
    expect(weak.statusCode).toBe(400);
    expect(weak.json()).toMatchObject({ code: 'weak_password' });
    const dup = await inject({ method: 'POST', url: '/api/v1/users', headers: bearer(t.adminToken), payload: { username: 'ALICE', displayName: 'A', password: TEST_PASSWORD, role: 'agent' } });
    expect(dup.statusCode).toBe(409);
    expect(dup.json()).toMatchObject({ code: 'username_taken' });
    const noDept = await inject({ method: 'POST', url: '/api/v1/users', headers: bearer(t.adminToken), payload: { username: 'dhandler', displayName: 'D', password: TEST_PASSWORD, role: 'dept_handler' } });
    expect(noDept.json()).toMatchObject({ code: 'department_required' });
  });
});

describe('authentication before validation', () => {
  it.each([
    ['POST /departments, bad body', { method: 'POST', url: '/api/v1/departments', payload: { nope: true } }],
    ['PATCH /users/:id, bad id and body', { method: 'PATCH', url: '/api/v1/users/not-a-uuid', payload: { active: 'maybe' } }],
    ['POST /api-keys, no body', { method: 'POST', url: '/api/v1/api-keys' }],
    ['POST /users, malformed JSON', { method: 'POST', url: '/api/v1/users', payload: '{"user', headers: { 'content-type': 'application/json' } }],
    ['POST /users, wrong media type', { method: 'POST', url: '/api/v1/users', payload: 'a=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } }],
    ['GET /departments, bad query', { method: 'GET', url: '/api/v1/departments?limit=100000' }],
    ['GET /audit, bad query', { method: 'GET', url: '/api/v1/audit?limit=0' }],
    ['POST /tickets, bad body', { method: 'POST', url: '/api/v1/tickets', payload: { channel: 'pigeon' } }],
    ['GET /tickets, bad query', { method: 'GET', url: '/api/v1/tickets?limit=-1' }],
  ] as const)('answers an anonymous %s with 401, revealing nothing of the schema', async (_name, req) => {
    const res = await inject(req);
    expect(res.statusCode, res.body).toBe(401);
    expect(res.json()).toMatchObject({ code: 'unauthenticated' });
    expect(res.json()).not.toHaveProperty('errors');
  });

  it('answers a caller without the role with 403 before looking at the body', async () => {
    const { token } = await t.createUser('no-admin', 'agent');
    const res = await inject({ method: 'POST', url: '/api/v1/users', headers: bearer(token), payload: { username: 42 } });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'role_forbidden' });
  });
});

describe('roles', () => {
  it('refuses a role that may not act, naming the allowed roles', async () => {
    const agent = await t.login('alice');
    const res = await inject({ method: 'POST', url: '/api/v1/users', headers: bearer(agent), payload: { username: 'eve', displayName: 'E', password: TEST_PASSWORD, role: 'admin' } });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'role_forbidden', allowed: ['admin'] });
    expect((await inject({ url: '/api/v1/audit', headers: bearer(agent) })).statusCode).toBe(403);
    expect((await inject({ method: 'POST', url: '/api/v1/departments', headers: bearer(agent), payload: { code: 'z', name: 'z', level: 'city' } })).statusCode).toBe(403);
  });
});

describe('API keys', () => {
  it('shows the key once, stores only its digest, authenticates and can be revoked', async () => {
    const dept = await createDept('water', 'city');
    const created = await inject({ method: 'POST', url: '/api/v1/api-keys', headers: bearer(t.adminToken), payload: { name: '市自来水公司', role: 'dept_handler', departmentId: dept } });
    expect(created.statusCode).toBe(201);
    const { key, apiKey } = created.json<{ key: string; apiKey: { id: string; prefix: string } }>();
    expect(key).toMatch(/^hk_[0-9a-f]{12}_/);
    const { rows } = await sql.query('SELECT key_hash FROM api_keys WHERE id = $1', [apiKey.id]);
    expect(rows[0].key_hash).toBe(createHash('sha256').update(key).digest('hex'));
    expect(JSON.stringify(rows)).not.toContain(key);
    const listed = await inject({ url: '/api/v1/api-keys', headers: bearer(t.adminToken) });
    expect(listed.body).not.toContain(key);

    const me = await inject({ url: '/api/v1/auth/me', headers: { 'x-api-key': key } });
    expect(me.json()).toMatchObject({ kind: 'api_key', role: 'dept_handler', departmentId: dept });
    // Same prefix, wrong secret.
    const forged = `${key.slice(0, 16)}${'B'.repeat(43)}`;
    expect((await inject({ url: '/api/v1/auth/me', headers: { 'x-api-key': forged } })).json()).toMatchObject({ code: 'api_key_invalid' });

    expect((await inject({ method: 'DELETE', url: `/api/v1/api-keys/${apiKey.id}`, headers: bearer(t.adminToken) })).statusCode).toBe(200);
    const revoked = await inject({ url: '/api/v1/auth/me', headers: { 'x-api-key': key } });
    expect(revoked.statusCode).toBe(401);
    expect(revoked.json()).toMatchObject({ code: 'api_key_revoked' });
  });

  it('refuses expired keys', async () => {
    const created = await inject({ method: 'POST', url: '/api/v1/api-keys', headers: bearer(t.adminToken), payload: { name: '110 platform', role: 'integrator', expiresAt: new Date(Date.now() + 60_000).toISOString() } });
    const { key, apiKey } = created.json<{ key: string; apiKey: { id: string } }>();
    expect((await inject({ url: '/api/v1/auth/me', headers: { 'x-api-key': key } })).statusCode).toBe(200);
    await sql.query("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1", [apiKey.id]);
    expect((await inject({ url: '/api/v1/auth/me', headers: { 'x-api-key': key } })).json()).toMatchObject({ code: 'api_key_expired' });
    const past = await inject({ method: 'POST', url: '/api/v1/api-keys', headers: bearer(t.adminToken), payload: { name: 'x', role: 'integrator', expiresAt: '2001-01-01T00:00:00Z' } });
    expect(past.json()).toMatchObject({ code: 'expiry_in_past' });
  });
});

describe('department scoping', () => {
  it('lets a department handler reach only its own department', async () => {
    const city = await createDept('city-gov', 'city');
    const mine = await createDept('district-a', 'district', city);
    const other = await createDept('district-b', 'district', city);
    const { token } = await t.createUser('handler-a', 'dept_handler', mine);
    expect((await inject({ url: `/api/v1/departments/${mine}`, headers: bearer(token) })).statusCode).toBe(200);
    const denied = await inject({ url: `/api/v1/departments/${other}`, headers: bearer(token) });
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toMatchObject({ code: 'department_forbidden' });
    const list = (await inject({ url: '/api/v1/departments', headers: bearer(token) })).json<{ items: Array<{ id: string }> }>();
    expect(list.items.map((d) => d.id)).toEqual([mine]);
    const all = (await inject({ url: '/api/v1/departments?limit=200', headers: bearer(t.adminToken) })).json<{ items: unknown[] }>();
    expect(all.items.length).toBeGreaterThanOrEqual(3);
  });

  it('refuses a child department that is not below its parent', async () => {
    const district = await createDept('district-c', 'district');
    const res = await inject({ method: 'POST', url: '/api/v1/departments', headers: bearer(t.adminToken), payload: { code: 'bad', name: 'x', level: 'city', parentId: district } });
    expect(res.json()).toMatchObject({ code: 'department_level_invalid' });
  });
});

describe('audit log', () => {
  it('records every write and every sensitive read with who, what, when and where', async () => {
    const before = (await sql.query('SELECT max(id) AS id FROM audit_log')).rows[0].id as string;
    await createDept('audited', 'city');
    await inject({ method: 'POST', url: '/api/v1/auth/login', headers: { 'user-agent': 'vitest-agent' }, payload: { username: 'alice', password: 'wrong-password-x' } });
    const agent = await t.login('alice');
    await inject({ method: 'POST', url: '/api/v1/departments', headers: bearer(agent), payload: { code: 'nope', name: 'x', level: 'city' } });
    await inject({ url: '/api/v1/audit?limit=5', headers: { ...bearer(t.adminToken), 'x-request-id': 'audit-read-1' } });

    const { rows } = await sql.query('SELECT * FROM audit_log WHERE id > $1 ORDER BY id', [before]);
    const pick = (action: string, outcome?: string) => rows.find((r) => r.action === action && (!outcome || r.outcome === outcome));
    expect(pick('department.create', 'success')).toMatchObject({ actor_type: 'user', actor_name: 'root', actor_role: 'admin', resource_type: 'department', status_code: 201, ip: '127.0.0.1' });
    expect(pick('auth.login', 'denied')).toMatchObject({ actor_type: 'anonymous', status_code: 401, user_agent: 'vitest-agent' });
    expect(pick('department.create', 'denied')).toMatchObject({ actor_name: 'alice', status_code: 403 });
    expect(pick('audit.read')).toMatchObject({ actor_name: 'root', outcome: 'success', request_id: 'audit-read-1' });
    expect(rows.every((r) => r.at instanceof Date)).toBe(true);
  });

  it('is append-only', async () => {
    await expect(sql.query('UPDATE audit_log SET action = $1', ['tampered'])).rejects.toThrow(/append-only/);
    await expect(sql.query('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
    await expect(sql.query('TRUNCATE audit_log')).rejects.toThrow(/append-only/);
  });

  it('pages newest first with a keyset cursor', async () => {
    const page1 = (await inject({ url: '/api/v1/audit?limit=2', headers: bearer(t.adminToken) })).json<{ items: Array<{ id: string }>; next: string }>();
    expect(page1.items).toHaveLength(2);
    const page2 = (await inject({ url: `/api/v1/audit?limit=2&before=${page1.next}`, headers: bearer(t.adminToken) })).json<{ items: Array<{ id: string }> }>();
    expect(Number(page2.items[0]!.id)).toBeLessThan(Number(page1.items[1]!.id) + 1);
    expect(page2.items[0]!.id).not.toBe(page1.items[0]!.id);
  });
});

describe('audit fails closed', () => {
  // Rows matching (action, phase) are refused by a trigger, as a full disk or a revoked grant would.
  beforeAll(async () => {
    await sql.query(`
      CREATE TABLE test_refuse_audit (action text NOT NULL, phase text);
      CREATE FUNCTION test_refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM test_refuse_audit r WHERE r.action = NEW.action AND (r.phase IS NULL OR r.phase = NEW.details->>'phase')) THEN
          RAISE EXCEPTION 'audit storage refused the row';
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER test_refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION test_refuse_audit();`);
  });
  afterAll(async () => {
    await sql.query('DROP TRIGGER test_refuse_audit ON audit_log; DROP FUNCTION test_refuse_audit(); DROP TABLE test_refuse_audit;');
  });
  const refuse = (action: string, phase: string | null = null) => sql.query('INSERT INTO test_refuse_audit VALUES ($1, $2)', [action, phase]);
  const allow = () => sql.query('DELETE FROM test_refuse_audit');

  it('writes an attempt row before a change and the outcome row, with the id the create returned', async () => {
    const res = await inject({ method: 'POST', url: '/api/v1/departments', headers: { ...bearer(t.adminToken), 'x-request-id': 'create-dept-1' }, payload: { code: 'audit-id', name: '审计', level: 'city' } });
    expect(res.statusCode).toBe(201);
    const { rows } = await sql.query("SELECT outcome, status_code, resource_id, details->>'phase' AS phase FROM audit_log WHERE request_id = 'create-dept-1' ORDER BY id");
    expect(rows).toEqual([
      { outcome: 'attempt', status_code: null, resource_id: null, phase: 'attempt' },
      { outcome: 'success', status_code: 201, resource_id: res.json<{ id: string }>().id, phase: 'outcome' },
    ]);
    const key = await inject({ method: 'POST', url: '/api/v1/api-keys', headers: { ...bearer(t.adminToken), 'x-request-id': 'create-key-1' }, payload: { name: 'audit key', role: 'integrator' } });
    const keyRow = await sql.query("SELECT resource_id FROM audit_log WHERE request_id = 'create-key-1' AND details->>'phase' = 'outcome'");
    expect(keyRow.rows[0].resource_id).toBe(key.json<{ apiKey: { id: string } }>().apiKey.id);
  });

  it('refuses a write with 503 when its attempt row cannot be written, and changes nothing', async () => {
    await refuse('department.create', 'attempt');
    try {
      const res = await inject({ method: 'POST', url: '/api/v1/departments', headers: bearer(t.adminToken), payload: { code: 'unaudited', name: '无审计', level: 'city' } });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ code: 'audit_unavailable' });
      expect((await sql.query("SELECT count(*)::int AS n FROM departments WHERE code = 'unaudited'")).rows[0].n).toBe(0);
    } finally {
      await allow();
    }
  });

  it('keeps the attempt row when only the outcome row fails; the change stands', async () => {
    await refuse('department.create', 'outcome');
    try {
      const res = await inject({ method: 'POST', url: '/api/v1/departments', headers: { ...bearer(t.adminToken), 'x-request-id': 'create-dept-2' }, payload: { code: 'half-audited', name: '半审计', level: 'city' } });
      expect(res.statusCode).toBe(201);
      const { rows } = await sql.query("SELECT details->>'phase' AS phase, actor_name FROM audit_log WHERE request_id = 'create-dept-2'");
      expect(rows).toEqual([{ phase: 'attempt', actor_name: 'root' }]);
    } finally {
      await allow();
    }
  });

  it('withholds a sensitive read whose audit row cannot be written', async () => {
    await refuse('audit.read');
    try {
      const res = await inject({ url: '/api/v1/audit?limit=5', headers: bearer(t.adminToken) });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ code: 'audit_unavailable' });
      expect(res.body).not.toContain('items');
    } finally {
      await allow();
    }
    expect((await inject({ url: '/api/v1/audit?limit=5', headers: bearer(t.adminToken) })).statusCode).toBe(200);
  });

  it('audits the ticket list, which shows and filters by phone numbers, as a sensitive read', async () => {
    const res = await inject({ url: '/api/v1/tickets?phone=13800138000', headers: { ...bearer(t.adminToken), 'x-request-id': 'list-tickets-1' } });
    expect(res.statusCode, res.body).toBe(200);
    const { rows } = await sql.query("SELECT action, outcome, actor_name, details FROM audit_log WHERE request_id = 'list-tickets-1'");
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ action: 'ticket.list', outcome: 'success', actor_name: 'root' });
    expect(rows[0].details.query).toContain('phone');
    expect(JSON.stringify(rows[0])).not.toContain('13800138000');
  });
});
