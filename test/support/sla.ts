/**
 * Helpers for the SLA tests: a controllable clock, several app instances on one database (for
 * restart and multi-instance tests), and "time passing" for the durable timers.
 */
import pg from 'pg';
import pino from 'pino';
import { buildApp, type Hotline } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { Clock } from '../../src/domain/clock.js';
import type { ModuleFactory } from '../../src/modules/registry.js';
import { createTestDatabase } from './db.js';

const TEST_SCRYPT = { N: 1024, r: 8, p: 1 };
const ADMIN = { username: 'root', password: 'Bootstrap-Pa55word!' };

/** A clock the test moves by hand; every instance of a test shares one. */
export class TestClock implements Clock {
  private t: number;
  constructor(start: Date | string) {
    this.t = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.t);
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface Instance {
  readonly hotline: Hotline;
  readonly adminToken: string;
  /** Bearer token of a new user with this role. */
  userToken(username: string, role: 'agent' | 'supervisor' | 'operator' | 'admin' | 'dept_handler', departmentId?: string): Promise<string>;
  close(): Promise<void>;
}

export async function createSharedDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  return createTestDatabase();
}

/** One app instance, as the server builds it, on an existing database. */
export async function startInstance(url: string, opts: { clock?: Clock; modules?: readonly ModuleFactory[] } = {}): Promise<Instance> {
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: url,
    DATABASE_POOL_SIZE: '5',
    BOOTSTRAP_ADMIN_USER: ADMIN.username,
    BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    OUTBOX_POLL_MS: '200',
    OUTBOX_MAX_BACKOFF_MS: '500',
  });
  const hotline = await buildApp({
    config, logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), databaseUrl: url, jwtSecret: 'test-secret-test-secret-test-secret-0123', scrypt: TEST_SCRYPT,
    ...(opts.clock ? { clock: opts.clock } : {}), ...(opts.modules ? { modules: opts.modules } : {}),
  });
  await hotline.start();
  await hotline.app.ready();
  const login = async (username: string, password: string): Promise<string> => {
    const res = await hotline.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password } });
    if (res.statusCode !== 200) throw new Error(`login ${username} failed: ${res.statusCode} ${res.body}`);
    return res.json<{ token: string }>().token;
  };
  const adminToken = await login(ADMIN.username, ADMIN.password);
  return {
    hotline,
    adminToken,
    async userToken(username, role, departmentId) {
      const password = 'Correct-Horse-9-Battery';
      const res = await hotline.app.inject({
        method: 'POST', url: '/api/v1/users', headers: { authorization: `Bearer ${adminToken}` },
        payload: { username, displayName: username, password, role, ...(departmentId ? { departmentId } : {}) },
      });
      if (res.statusCode !== 201) throw new Error(`create user failed: ${res.body}`);
      return login(username, password);
    },
    close: () => hotline.close(),
  };
}

/** graphile-worker 0.16's job rows with their task names (the public `jobs` view has no payload). */
export const SLA_JOBS = 'graphile_worker._private_jobs j JOIN graphile_worker._private_tasks t ON t.id = j.task_id';

/**
 * Waits until the scheduler (src/modules/sla/sla.scheduler.ts) has added the jobs of every
 * deadline the transitions recorded: jobs appear shortly after the transition, not in it.
 */
export async function timersScheduled(url: string, timeoutMs = 10_000): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM sla_ticket_timers WHERE NOT scheduled');
      if (rows[0]!.n === 0) return;
      if (Date.now() > until) throw new Error(`${rows[0]!.n} SLA timer(s) still unscheduled after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await client.end();
  }
}

/**
 * Lets time pass for the timers: the clock moves on, and every timer job whose moment (by the
 * clock) has come is made due in the database now, as if the wall clock had moved as far.
 * Returns the keys of the jobs that became due.
 */
export async function advanceTime(clock: TestClock, url: string, ms: number): Promise<string[]> {
  await timersScheduled(url);
  clock.advance(ms);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ key: string }>(`
      SELECT key FROM graphile_worker.reschedule_jobs(
        ARRAY(SELECT j.id FROM ${SLA_JOBS}
               WHERE j.locked_at IS NULL AND j.key LIKE 'sla:%'
                 AND ((t.identifier = 'sla_warning' AND (j.payload->>'warnAt')::timestamptz <= $1)
                   OR (t.identifier = 'sla_overdue' AND (j.payload->>'dueAt')::timestamptz < $1))),
        run_at := now())`, [clock.now()]);
    return rows.map((r) => r.key).sort();
  } finally {
    await client.end();
  }
}

/** Runs one query on the test database (counts, job rows). */
export async function query<T extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}
