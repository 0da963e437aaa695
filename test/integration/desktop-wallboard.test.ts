/**
 * The supervisor wallboard over the desktop WebSocket, from real rows in calls, queue_entries
 * and agent_state_log: the full state first, then deltas with only what changed, at most one a
 * second per subscriber, computed once per tick for all subscribers.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WallboardService } from '../../src/modules/desktop/wallboard.service.js';
import { applyDelta, shanghaiDayStart, type WallboardView } from '../../src/modules/desktop/wallboard.delta.js';
import { buildTestApp, type TestApp } from '../support/app.js';
import { DesktopClient, listen, type Msg } from '../support/desktop-client.js';

let t: TestApp;
let base: string;
let sql: pg.Client;
let supervisor: { id: string; token: string };
let agent: { id: string; token: string };
let general: string;
let other: string;
let wallboard: WallboardService;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  t = await buildTestApp();
  base = await listen(t);
  sql = new pg.Client({ connectionString: t.dbUrl });
  await sql.connect();
  supervisor = await t.createUser('wb-sup', 'supervisor');
  agent = await t.createUser('wb-agent', 'agent');
  const mk = async (code: string) => {
    const res = await t.hotline.app.inject({ method: 'POST', url: '/api/v1/queues', headers: bearer(t.adminToken), payload: { code, name: code } });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<{ id: string }>().id;
  };
  general = await mk('WB-GENERAL');
  other = await mk('WB-OTHER');
  const res = await t.hotline.app.inject({ method: 'POST', url: '/api/v1/agents', headers: bearer(t.adminToken), payload: { userId: agent.id, extension: '1701' } });
  expect(res.statusCode, res.body).toBe(201);
  wallboard = (t.hotline.modules.get('desktop')!.exports as { wallboard: WallboardService }).wallboard;
});
afterAll(async () => {
  await sql.end();
  await t.close();
});

const at = (base: number, seconds: number) => new Date(base + seconds * 1000);

async function call(queueId: string, c: { queuedAt: Date; connectedAt?: Date; endedAt?: Date; disposition?: string }): Promise<string> {
  const id = randomUUID();
  const ended = c.endedAt !== undefined;
  await sql.query(
    `INSERT INTO calls (id, node_id, channel_id, direction, state, queue_id, arrived_at, queued_at, connected_at, ended_at, disposition, agent_id)
     VALUES ($1, 'ast1', $2, 'inbound', $3, $4, $5, $5, $6, $7, $8, $9)`,
    [id, `ch-${id}`, ended ? 'ended' : c.connectedAt ? 'connected' : 'queued', queueId, c.queuedAt, c.connectedAt ?? null, c.endedAt ?? null, c.disposition ?? null, c.connectedAt ? agent.id : null],
  );
  return id;
}

async function waiting(queueId: string, enqueuedAt: Date, offered = false): Promise<void> {
  const id = await call(queueId, { queuedAt: enqueuedAt });
  await sql.query(
    `INSERT INTO queue_entries (call_id, queue_id, node_id, priority, enqueued_at, state, offer_id) VALUES ($1, $2, 'ast1', 0, $3, $4, $5)`,
    [id, queueId, enqueuedAt, offered ? 'offered' : 'waiting', offered ? randomUUID() : null],
  );
}

async function handled(callId: string, talkMs: number, wrapMs: number, wrapEnd: Date): Promise<void> {
  const q = `INSERT INTO agent_state_log (agent_id, from_state, state, at, previous_duration_ms, actor_type, call_id) VALUES ($1, $2, $3, $4, $5, 'system', $6)`;
  await sql.query(q, [agent.id, 'on_call', 'wrap_up', new Date(wrapEnd.getTime() - wrapMs), talkMs, callId]);
  await sql.query(q, [agent.id, 'wrap_up', 'ready', wrapEnd, wrapMs, callId]);
}

async function subscribe(queueIds?: string[]): Promise<{ client: DesktopClient; full: Msg }> {
  const { client } = await DesktopClient.connect(base, supervisor.token);
  client.send({ v: 1, type: 'subscribe_wallboard', ...(queueIds ? { queueIds } : {}) });
  return { client, full: await client.next((m) => m.type === 'wallboard', 'wallboard') };
}

describe('wallboard', () => {
  it('sends the full state of the queues and agents, computed from the database', async () => {
    const now = Date.now();
    // Today's calls, placed after midnight in Asia/Shanghai whatever the time of the run.
    const ref = Math.max(now, shanghaiDayStart(new Date(now)).getTime() + 200_000);
    const quick = await call(general, { queuedAt: at(ref, -60), connectedAt: at(ref, -50), endedAt: at(ref, -20), disposition: 'answered' }); // waited 10 s
    const slow = await call(general, { queuedAt: at(ref, -90), connectedAt: at(ref, -60), endedAt: at(ref, -30), disposition: 'answered' }); // waited 30 s
    await call(general, { queuedAt: at(ref, -80), endedAt: at(ref, -55), disposition: 'abandoned_queue' }); // gave up after 25 s: counts against
    await call(general, { queuedAt: at(ref, -40), endedAt: at(ref, -35), disposition: 'abandoned_ringing' }); // gave up within 15 s: ignored by the level
    await call(general, { queuedAt: at(ref, -100_000), connectedAt: at(ref, -99_990), endedAt: at(ref, -99_900), disposition: 'answered' }); // yesterday
    await handled(quick, 100_000, 20_000, at(ref, -10));
    await handled(slow, 50_000, 10_000, at(ref, -15));
    await waiting(general, at(now, -30));
    await waiting(general, at(now, -12), true);
    const login = await t.hotline.app.inject({ method: 'POST', url: '/api/v1/agents/me/login', headers: bearer(agent.token), payload: {} });
    expect(login.statusCode, login.body).toBe(200);

    const { client, full } = await subscribe();
    expect(Object.keys(full.queues).sort()).toEqual([general, other].sort());
    expect(full.queues[general]).toMatchObject({
      code: 'WB-GENERAL', serviceLevelSeconds: 15, waiting: 2, offering: 1,
      answered: 2, abandoned: 2, serviceLevel: 0.3333, averageSpeedOfAnswerSeconds: 20, averageHandleSeconds: 90,
    });
    expect(full.queues[general].longestWaitSeconds).toBeGreaterThanOrEqual(30);
    expect(full.queues[other]).toMatchObject({ waiting: 0, longestWaitSeconds: 0, answered: 0, abandoned: 0, serviceLevel: null, averageSpeedOfAnswerSeconds: null, averageHandleSeconds: null });
    expect(full.agents[agent.id]).toMatchObject({ displayName: 'wb-agent', state: 'ready', reason: null, extension: '1701' });
    expect(full.agentsByState).toEqual({ ready: 1, not_ready: 0, ringing: 0, on_call: 0, wrap_up: 0 });

    const only = await subscribe([other]);
    expect(Object.keys(only.full.queues)).toEqual([other]);
    client.close();
    only.client.close();
  });

  it('refuses unknown queues, and agents asking for a wallboard', async () => {
    const { client } = await DesktopClient.connect(base, supervisor.token);
    client.send({ v: 1, type: 'subscribe_wallboard', queueIds: [randomUUID()] });
    expect(await client.next((m) => m.type === 'error', 'error')).toMatchObject({ code: 'queue_not_found', ref: { type: 'subscribe_wallboard' } });
    client.close();
    const { client: asAgent } = await DesktopClient.connect(base, agent.token);
    asAgent.send({ v: 1, type: 'subscribe_wallboard' });
    expect(await asAgent.next((m) => m.type === 'error', 'error')).toMatchObject({ code: 'role_forbidden' });
    asAgent.close();
  });

  it('then sends only what changed, at most once a second, and the deltas add up to the truth', async () => {
    const { client, full } = await subscribe([general, other]);
    let view = full as unknown as WallboardView;
    const before = view.queues[general]!.waiting;
    // Eleven changes in about a second and a half, and an agent state change.
    for (let i = 0; i < 10; i++) {
      await waiting(general, new Date());
      await new Promise((r) => setTimeout(r, 150));
    }
    const res = await t.hotline.app.inject({ method: 'PUT', url: `/api/v1/agents/${agent.id}/state`, headers: bearer(agent.token), payload: { state: 'not_ready', reason: 'break' } });
    expect(res.statusCode, res.body).toBe(200);
    await waiting(other, new Date());

    const deltas: Msg[] = [];
    for (;;) {
      const d = await client.next((m) => m.type === 'wallboard_delta', 'delta');
      deltas.push(d);
      view = applyDelta(view, d as never);
      if (view.queues[general]!.waiting === before + 10 && view.queues[other]!.waiting === 1 && view.agents[agent.id]?.state === 'not_ready') break;
    }
    // Coalesced: fewer messages than changes; never two within a second.
    expect(deltas.length).toBeLessThan(12);
    const times = [full, ...deltas].map((m) => Date.parse(m.at));
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(995);
    // Only changed fields: the queues' configuration never appears in a delta.
    for (const d of deltas) for (const q of Object.values((d.queues ?? {}) as Record<string, Record<string, unknown>>)) expect(q).not.toHaveProperty('code');
    const agentDelta = deltas.find((d) => d.agents?.[agent.id]);
    expect(agentDelta!.agents[agent.id]).toMatchObject({ state: 'not_ready', reason: 'break' });
    expect(agentDelta!.agentsByState).toMatchObject({ ready: 0, not_ready: 1 });

    // Logging out removes the agent.
    const out = await t.hotline.app.inject({ method: 'POST', url: '/api/v1/agents/me/logout', headers: bearer(agent.token) });
    expect(out.statusCode, out.body).toBe(200);
    const removed = await client.next((m) => m.type === 'wallboard_delta' && ((m.removedAgents ?? []) as string[]).includes(agent.id), 'agent removed');
    expect(removed.agentsByState).toMatchObject({ not_ready: 0 });
    client.close();
  });

  it('computes once per tick however many supervisors watch', async () => {
    await waiting(general, new Date()); // someone waits: longestWaitSeconds changes every second
    const subs = await Promise.all([0, 1, 2].map(() => subscribe([general])));
    const start = wallboard.computed;
    for (const s of subs) for (let i = 0; i < 3; i++) await s.client.next((m) => m.type === 'wallboard_delta', 'delta');
    // Three deltas each need at least three ticks; per-subscriber computation would need nine.
    expect(wallboard.computed - start).toBeLessThan(9);
    for (const s of subs) s.client.close();
  });
});
