/** The process as a user meets it: start-up on embedded defaults, bad configuration, SIGTERM. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../support/db.js';
import { TestNatsServer } from '../support/nats-server.js';
import { freePort, startServer } from '../support/process.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

describe('server process', () => {
  it('starts with no configuration on embedded PostgreSQL and keeps its data across restarts', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'hotline-data-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const env = { DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(await freePort()) };
    const port = await freePort();

    const first = startServer({ ...env, BOOTSTRAP_ADMIN_USER: 'boot', BOOTSTRAP_ADMIN_PASSWORD: 'Embedded-Start-42' }, port);
    cleanups.push(async () => first.proc.kill('SIGKILL'));
    await first.waitReady(90_000);
    const ready = await (await fetch(`http://127.0.0.1:${port}/readyz`)).json() as { checks: Record<string, { status: string }> };
    expect(ready.checks).toMatchObject({ postgres: { status: 'up' }, nats: { status: 'disabled' }, ari: { status: 'disabled' } });
    first.proc.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.output()).toContain('shutdown complete');

    // Second start: same data directory, no bootstrap settings; the admin is still there.
    const second = startServer(env, port);
    cleanups.push(async () => second.proc.kill('SIGKILL'));
    await second.waitReady(90_000);
    const login = await fetch(`http://127.0.0.1:${port}/api/v1/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'boot', password: 'Embedded-Start-42' }),
    });
    expect(login.status).toBe(200);
    second.proc.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 180_000);

  it.each([
    [{ PORT: 'abc' }, /^Invalid configuration: PORT must be an integer between 0 and 65535 \(got "abc"\)$/m],
    [{ DATABASE_URL: 'mysql://db/x' }, /^Invalid configuration: DATABASE_URL must be a URL with scheme postgres or postgresql/m],
    [{ ARI_URL: 'http://asterisk:8088' }, /^Invalid configuration: ARI_USER must be set when ARI_URL is set/m],
  ])('stops at once on bad configuration %j with one clear line', async (env, line) => {
    // The env's own PORT (if any) overrides the free port startServer would set.
    const s = startServer(env, await freePort());
    expect(await s.exited).toBe(78);
    expect(s.output()).toMatch(line);
    expect(s.output().trim().split('\n').filter((l) => l.startsWith('Invalid configuration'))).toHaveLength(1);
  }, 30_000);

  it('listens and is ready while NATS is unreachable', async () => {
    const db = await createTestDatabase();
    cleanups.push(() => db.drop());
    const port = await freePort();
    const s = startServer({ DATABASE_URL: db.url, NATS_URL: `nats://127.0.0.1:${await freePort()}`, JWT_SECRET: 'n'.repeat(40) }, port);
    cleanups.push(async () => s.proc.kill('SIGKILL'));
    await s.waitReady(30_000);
    const ready = await (await fetch(`http://127.0.0.1:${port}/readyz`)).json() as { checks: Record<string, { status: string }> };
    expect(ready.checks).toMatchObject({ postgres: { status: 'up' }, nats: { status: 'down' } });
    s.proc.kill('SIGTERM');
    expect(await s.exited, s.output().slice(-3000)).toBe(0);
  }, 60_000);

  it('on SIGTERM finishes in-flight requests, flushes the outbox to NATS and exits cleanly', async () => {
    const nats = await TestNatsServer.start();
    cleanups.push(() => nats.stop());
    const db = await createTestDatabase();
    cleanups.push(() => db.drop());
    const port = await freePort();
    const s = startServer({
      DATABASE_URL: db.url, NATS_URL: nats.url, NATS_STREAM: 'HOTLINE_SHUTDOWN', NATS_SUBJECT_PREFIX: 'shutdown',
      JWT_SECRET: 'j'.repeat(40), BOOTSTRAP_ADMIN_USER: 'boot', BOOTSTRAP_ADMIN_PASSWORD: 'Shutdown-Test-42', OUTBOX_POLL_MS: '60000',
    }, port);
    cleanups.push(async () => s.proc.kill('SIGKILL'));
    await s.waitReady();
    const base = `http://127.0.0.1:${port}`;
    const login = async () => fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'boot', password: 'Shutdown-Test-42' }) });
    const { token } = await (await login()).json() as { token: string };

    // NATS goes away: these writes are accepted and their events wait in the outbox.
    await nats.down();
    const created = await Promise.all(Array.from({ length: 3 }, (_, i) => fetch(`${base}/api/v1/departments`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ code: `sd-${i}`, name: `部门${i}`, level: 'city' }),
    })));
    expect(created.map((r) => r.status)).toEqual([201, 201, 201]);

    // A request in flight when the signal arrives (a production-cost scrypt login takes tens of ms).
    const slow = login();
    await new Promise((r) => setTimeout(r, 15));
    s.proc.kill('SIGTERM');
    expect((await slow).status).toBe(200);
    // NATS returns during the grace period; the shutdown flush publishes the waiting events.
    await nats.up();
    expect(await s.exited, s.output().slice(-3000)).toBe(0);

    // The events those requests wrote were published before the process left.
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    const { rows } = await c.query("SELECT count(*)::int AS pending FROM outbox WHERE published_at IS NULL");
    const { rows: made } = await c.query("SELECT count(*)::int AS n FROM outbox WHERE type = 'department.created'");
    await c.end();
    expect(made[0].n).toBe(3);
    expect(rows[0].pending).toBe(0);
    // Afterwards nothing listens any more.
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  }, 90_000);
});
