/** Builds the real app against a fresh database, the way the server does. */
import pino from 'pino';
import { inject } from 'vitest';
import { buildApp, type Hotline } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { UserRole } from '../../src/domain/auth.js';
import type { Timers } from '../../src/domain/timers.js';
import { createTestDatabase } from './db.js';

export const TEST_PASSWORD = 'Correct-Horse-9-Battery';
// Cheap KDF parameters for tests only; the algorithm and format are the production ones.
const TEST_SCRYPT = { N: 1024, r: 8, p: 1 };

export interface TestApp {
  readonly hotline: Hotline;
  readonly dbUrl: string;
  login(username: string, password?: string): Promise<string>;
  createUser(username: string, role: UserRole, departmentId?: string): Promise<{ id: string; token: string }>;
  adminToken: string;
  close(): Promise<void>;
}

export async function buildTestApp(env: Record<string, string> = {}, opts: { withNats?: boolean; start?: boolean; timers?: Timers; dbUrl?: string } = {}): Promise<TestApp> {
  // Two instances of one service share a database: the second is given the first's URL.
  const db = opts.dbUrl ? { url: opts.dbUrl, drop: async () => undefined } : await createTestDatabase();
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    DATABASE_POOL_SIZE: '5',
    BOOTSTRAP_ADMIN_USER: 'root',
    BOOTSTRAP_ADMIN_PASSWORD: 'Bootstrap-Pa55word!',
    OUTBOX_POLL_MS: '200',
    OUTBOX_MAX_BACKOFF_MS: '500',
    ...(opts.withNats ? { NATS_URL: inject('natsUrl'), NATS_STREAM: `HOTLINE_T${Date.now()}`, NATS_SUBJECT_PREFIX: `t${Date.now()}` } : {}),
    ...env,
  });
  const hotline = await buildApp({ config, logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), databaseUrl: db.url, jwtSecret: 'test-secret-test-secret-test-secret-0123', scrypt: TEST_SCRYPT, ...(opts.timers ? { timers: opts.timers } : {}) });
  if (opts.start !== false) await hotline.start();
  await hotline.app.ready();

  async function login(username: string, password = TEST_PASSWORD): Promise<string> {
    const res = await hotline.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password } });
    if (res.statusCode !== 200) throw new Error(`login ${username} failed: ${res.statusCode} ${res.body}`);
    return (res.json<{ token: string }>()).token;
  }
  const adminToken = await login('root', 'Bootstrap-Pa55word!');
  return {
    hotline,
    dbUrl: db.url,
    adminToken,
    login,
    async createUser(username, role, departmentId) {
      const res = await hotline.app.inject({
        method: 'POST', url: '/api/v1/users', headers: { authorization: `Bearer ${adminToken}` },
        payload: { username, displayName: username, password: TEST_PASSWORD, role, ...(departmentId ? { departmentId } : {}) },
      });
      if (res.statusCode !== 201) throw new Error(`create user failed: ${res.body}`);
      return { id: (res.json<{ id: string }>()).id, token: await login(username) };
    },
    async close() {
      await hotline.close();
      await db.drop();
    },
  };
}
