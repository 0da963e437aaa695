/**
 * The in-process bus loses nothing across start-up and shutdown: consumers subscribe before the
 * relay publishes, events written while modules stop reach consumers in the final flush, and an
 * event a consumer fails on is kept and retried.
 */
import pg from 'pg';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp, type Hotline } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { ModuleFactory } from '../../src/modules/registry.js';
import { createTestDatabase } from '../support/db.js';
import { until } from '../support/wait.js';

const ADMIN = { username: 'root', password: 'Bootstrap-Pa55word!' };
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function build(modules: ModuleFactory[]): Promise<{ hotline: Hotline; sql: pg.Client }> {
  const db = await createTestDatabase();
  cleanups.push(() => db.drop());
  const config = loadConfig({
    NODE_ENV: 'test', DATABASE_URL: db.url, DATABASE_POOL_SIZE: '4', BOOTSTRAP_ADMIN_USER: ADMIN.username, BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    OUTBOX_POLL_MS: '200', OUTBOX_MAX_BACKOFF_MS: '300',
  });
  const hotline = await buildApp({ config, logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), databaseUrl: db.url, jwtSecret: 'e'.repeat(40), scrypt: { N: 1024, r: 8, p: 1 }, modules });
  cleanups.push(() => hotline.close());
  const sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  cleanups.push(() => sql.end());
  return { hotline, sql };
}

describe('in-process events across start-up and shutdown', () => {
  it('subscribes every module before the relay publishes anything', async () => {
    const ref: { hotline?: Hotline } = {};
    let relayRunningWhenSubscribing: boolean | undefined;
    const seen: string[] = [];
    const probe: ModuleFactory = (ctx) => ({
      name: 'probe',
      async start() {
        relayRunningWhenSubscribing = ref.hotline!.events.relay.status().running;
        await ctx.subscriber.subscribe('probe', 'hotline.user.>', async (e) => void seen.push(e.type));
      },
    });
    const { hotline } = await build([probe]);
    ref.hotline = hotline;
    await hotline.start();
    expect(relayRunningWhenSubscribing).toBe(false);
    // The bootstrap admin was created while building, before any module started: still delivered.
    await until(() => seen.includes('user.created'), 'the bootstrap admin event');
  });

  it('delivers events written while modules stop to consumers that are still subscribed', async () => {
    const got: string[] = [];
    const stopper: ModuleFactory = (ctx) => {
      let sub: { stop(): Promise<void> } | undefined;
      return {
        name: 'stopper',
        async start() {
          sub = await ctx.subscriber.subscribe('stopper', 'hotline.stopper.>', async (e) => void got.push(e.type));
        },
        async stop() {
          // Work finishing at shutdown announces itself, then the module ends its consumer.
          await ctx.db.transaction().execute((tx) => ctx.outbox.append(tx, [{ type: 'stopper.stopped', payload: {} }]));
          await sub?.stop();
        },
      };
    };
    const { hotline, sql } = await build([stopper]);
    await hotline.start();
    await hotline.close();
    expect(got).toEqual(['stopper.stopped']);
    const { rows } = await sql.query("SELECT published_at FROM outbox WHERE type = 'stopper.stopped'");
    expect(rows).toHaveLength(1);
    expect(rows[0].published_at).toBeInstanceOf(Date);
  });

  it('keeps an event a consumer fails on and retries it for that consumer only', async () => {
    const good: string[] = [];
    let flakyCalls = 0;
    const consumers: ModuleFactory = (ctx) => ({
      name: 'consumers',
      async start() {
        await ctx.subscriber.subscribe('good', 'hotline.department.>', async (e) => void good.push(e.id));
        await ctx.subscriber.subscribe('flaky', 'hotline.department.>', async () => {
          flakyCalls += 1;
          if (flakyCalls <= 2) throw new Error('not yet');
        });
      },
    });
    const { hotline, sql } = await build([consumers]);
    await hotline.start();
    const login = await hotline.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: ADMIN });
    const res = await hotline.app.inject({
      method: 'POST', url: '/api/v1/departments', headers: { authorization: `Bearer ${login.json<{ token: string }>().token}` },
      payload: { code: 'retry', name: '重试', level: 'city' },
    });
    expect(res.statusCode).toBe(201);
    await until(() => flakyCalls >= 3, 'the third delivery to the flaky consumer');
    await until(async () => (await sql.query("SELECT published_at FROM outbox WHERE type = 'department.created'")).rows[0]?.published_at, 'the row marked published');
    const { rows } = await sql.query("SELECT id, attempts, last_error FROM outbox WHERE type = 'department.created'");
    expect(rows).toHaveLength(1);
    expect(rows[0].attempts).toBe(2);
    expect(rows[0].last_error).toMatch(/flaky failed: not yet/);
    expect(good).toEqual([rows[0].id]); // delivered once to the consumer that did not fail
    expect(flakyCalls).toBe(3);
  });
});
