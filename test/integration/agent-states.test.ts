/**
 * Agent states through the real app: login/logout, REST changes by agents and supervisors, the
 * system moves the ACD and the call flow make, the log and the events, and concurrency (one
 * winner when offers and state changes race for the same agent).
 */
import type { InjectOptions } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rankAgents } from '../../src/domain/acd/index.js';
import type { AgentStatesService } from '../../src/modules/agents/agent-states.service.js';
import { buildTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
let sql: pg.Client;
let operator: string;
let supervisor: { id: string; token: string };
let states: AgentStatesService;
const system = { type: 'system' as const, id: 'test-acd' };

beforeAll(async () => {
  t = await buildTestApp();
  sql = new pg.Client({ connectionString: t.dbUrl });
  await sql.connect();
  operator = (await t.createUser('ops', 'operator')).token;
  supervisor = await t.createUser('sup', 'supervisor');
  states = (t.hotline.modules.get('agents')!.exports as { agentStates: AgentStatesService }).agentStates;
});
afterAll(async () => {
  await sql.end();
  await t.close();
});

/** What the tests read from response bodies; the assertions check the rest. */
interface Body { id: string; agentId: string; state: string; version: number; since: string; idleSince: string | null; code: string; items: Body[]; [key: string]: unknown }

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const call = (token: string, opts: InjectOptions) => t.hotline.app.inject({ ...opts, headers: bearer(token) });
async function ok(token: string, opts: InjectOptions, status = 200): Promise<Body> {
  const res = await call(token, opts);
  expect(res.statusCode, res.body).toBe(status);
  return res.json<Body>();
}
async function problem(token: string, opts: InjectOptions, status: number, code: string): Promise<Body> {
  const res = await call(token, opts);
  expect(res.statusCode, res.body).toBe(status);
  expect(res.json().code).toBe(code);
  return res.json<Body>();
}

let nextExt = 1300;
async function newAgent(name: string, skills: { skillId: string; level: number }[] = []): Promise<{ id: string; token: string; extension: string }> {
  const user = await t.createUser(name, 'agent');
  const extension = String(nextExt++);
  await ok(operator, { method: 'POST', url: '/api/v1/agents', payload: { userId: user.id, extension, skills } }, 201);
  return { ...user, extension };
}
const login = (a: { token: string }, payload: Record<string, unknown> = {}) => ok(a.token, { method: 'POST', url: '/api/v1/agents/me/login', payload });
const put = (token: string, id: string, payload: Record<string, unknown>) => call(token, { method: 'PUT', url: `/api/v1/agents/${id}/state`, payload });
interface LogRow { from_state: string; from_reason: string | null; state: string; reason: string | null; actor_type: string; actor_id: string | null; call_id: string | null; previous_duration_ms: string; at: Date }
const logRows = async (id: string) => (await sql.query<LogRow>('SELECT from_state, from_reason, state, reason, actor_type, actor_id, call_id, previous_duration_ms, at FROM agent_state_log WHERE agent_id = $1 ORDER BY id', [id])).rows;
const events = async (id: string) => (await sql.query("SELECT subject, payload FROM outbox WHERE type = 'agent.state_changed' AND payload->>'agentId' = $1 ORDER BY seq", [id])).rows;

describe('login and logout', () => {
  it('logs in at the agent\'s extension, records the change and announces it', async () => {
    const a = await newAgent('li-a');
    const view = await login(a);
    expect(view).toMatchObject({ agentId: a.id, state: 'ready', stateLabel: '示闲', reason: null, extension: a.extension, endpoint: `PJSIP/agent${a.extension}`, version: 2 });
    expect(view.idleSince).toBe(view.since);
    expect(await logRows(a.id)).toEqual([expect.objectContaining({ from_state: 'offline', state: 'ready', actor_type: 'agent', actor_id: a.id })]);
    const ev = await events(a.id);
    expect(ev).toHaveLength(1);
    expect(ev[0].subject).toMatch(/\.agent\.state_changed$/);
    expect(ev[0].payload).toMatchObject({ agentId: a.id, from: 'offline', state: 'ready', version: 2, actor: { type: 'agent', id: a.id }, extension: a.extension });

    // Logging in again at the same phone changes nothing; at another phone it is refused.
    expect((await login(a)).version).toBe(2);
    await problem(a.token, { method: 'POST', url: '/api/v1/agents/me/login', payload: { extension: '1999' } }, 409, 'already_logged_in');
    const out = await ok(a.token, { method: 'POST', url: '/api/v1/agents/me/logout' });
    expect(out).toMatchObject({ state: 'offline', extension: null, endpoint: null, idleSince: null, version: 3 });
    expect(await events(a.id)).toHaveLength(2);
  });

  it('logs in not ready with a reason, or at another phone (hot-desking), never at a phone in use', async () => {
    const a = await newAgent('li-b');
    const b = await newAgent('li-c');
    expect(await login(a, { state: 'not_ready', reason: 'training' })).toMatchObject({ state: 'not_ready', reason: 'training', reasonLabel: '培训' });
    await problem(b.token, { method: 'POST', url: '/api/v1/agents/me/login', payload: { extension: a.extension } }, 409, 'extension_in_use');
    await problem(b.token, { method: 'POST', url: '/api/v1/agents/me/login', payload: { extension: '2000' } }, 400, 'invalid_agent_extension');
    await problem(b.token, { method: 'POST', url: '/api/v1/agents/me/login', payload: { state: 'not_ready' } }, 400, 'not_ready_reason_required');
    expect(await login(b, { extension: '1888' })).toMatchObject({ extension: '1888', endpoint: 'PJSIP/agent1888' });
  });

  it('refuses users who are not agents, and deactivation while logged in', async () => {
    const plain = await t.createUser('no-agent', 'agent');
    await problem(plain.token, { method: 'POST', url: '/api/v1/agents/me/login', payload: {} }, 404, 'not_an_agent');
    const a = await newAgent('li-d');
    await login(a);
    await problem(operator, { method: 'DELETE', url: `/api/v1/agents/${a.id}` }, 409, 'agent_logged_in');
    await ok(a.token, { method: 'POST', url: '/api/v1/agents/me/logout' });
    await ok(operator, { method: 'DELETE', url: `/api/v1/agents/${a.id}` });
    await problem(a.token, { method: 'POST', url: '/api/v1/agents/me/login', payload: {} }, 409, 'agent_inactive');
  });
});

describe('REST state changes', () => {
  it('lets an agent change their own state and explains refusals', async () => {
    const a = await newAgent('st-a');
    await login(a);
    const nr = await put(a.token, a.id, { state: 'not_ready', reason: 'meal' });
    expect(nr.json()).toMatchObject({ state: 'not_ready', reason: 'meal', reasonLabel: '用餐' });
    expect((await put(a.token, a.id, { state: 'not_ready', reason: 'meal' })).json().version).toBe(nr.json().version);

    const illegal = await put(a.token, a.id, { state: 'not_ready', reason: 'no_answer' });
    expect(illegal.statusCode).toBe(409);
    expect(illegal.json()).toMatchObject({ code: 'illegal_transition', from: 'not_ready', action: 'not_ready:no_answer' });
    expect(illegal.json().allowed).toEqual(expect.arrayContaining(['ready', 'not_ready:break', 'offline']));
    expect((await put(a.token, a.id, { state: 'ringing' })).json()).toMatchObject({ code: 'illegal_transition' });
    expect((await put(a.token, a.id, { state: 'not_ready' })).json()).toMatchObject({ code: 'not_ready_reason_required' });
    expect((await put(a.token, a.id, { state: 'ready', reason: 'break' })).json()).toMatchObject({ code: 'reason_not_applicable' });
    expect((await put(a.token, a.id, { state: 'ready', force: true })).json()).toMatchObject({ code: 'force_not_allowed' });
    expect((await put(a.token, a.id, { state: 'paused' })).statusCode).toBe(400);
    expect((await put(a.token, a.id, { state: 'ready', expectedState: 'ready' })).json()).toMatchObject({ code: 'agent_state_changed', state: 'not_ready' });
    expect((await put(a.token, a.id, { state: 'ready', expectedState: 'not_ready' })).json()).toMatchObject({ state: 'ready' });
  });

  it('lets supervisors change anyone, agents only themselves', async () => {
    const a = await newAgent('st-b');
    const b = await newAgent('st-c');
    await login(a);
    const other = await put(b.token, a.id, { state: 'not_ready', reason: 'break' });
    expect(other.statusCode).toBe(403);
    expect(other.json().code).toBe('role_forbidden');
    const bySup = await put(supervisor.token, a.id, { state: 'not_ready', reason: 'meeting' });
    expect(bySup.json()).toMatchObject({ state: 'not_ready', reason: 'meeting' });
    expect((await logRows(a.id)).at(-1)).toMatchObject({ actor_type: 'supervisor', actor_id: supervisor.id });
    // A supervisor cannot log an agent in: that happens at the phone.
    expect((await put(supervisor.token, b.id, { state: 'ready' })).json()).toMatchObject({ code: 'illegal_transition', allowed: [] });
    await problem(supervisor.token, { method: 'PUT', url: `/api/v1/agents/${crypto.randomUUID()}/state`, payload: { state: 'ready' } }, 404, 'agent_not_found');
  });
});

describe('system moves through a call', () => {
  it('many wrap-ups over at once all end in one sweep, each exactly once', async () => {
    const agents = await Promise.all(Array.from({ length: 24 }, (_, i) => newAgent(`wrap-${i}`)));
    for (const [i, a] of agents.entries()) {
      await login(a);
      await states.claimForOffer(a.id, `wrap-call-${i}`);
      await states.change(a.id, 'on_call', { actor: system, expectedCallId: `wrap-call-${i}` });
      await states.change(a.id, 'wrap_up', { actor: system, expectedCallId: `wrap-call-${i}`, wrapUpSeconds: 1 });
    }
    await new Promise((r) => setTimeout(r, 1100));
    // The module's own timer may take some of them first: together they end every one, once.
    const [mine, theirs] = await Promise.all([states.expireWrapUps(500, 8), states.expireWrapUps(500, 8)]);
    const ids = agents.map((a) => a.id);
    const { rows } = await sql.query<{ n: string }>(
      "SELECT count(*) AS n FROM agent_state_log WHERE agent_id = ANY($1) AND from_state = 'wrap_up' AND state = 'ready'", [ids]);
    expect(Number(rows[0]!.n)).toBe(24);
    expect(mine + theirs).toBeLessThanOrEqual(24);
    const { rows: left } = await sql.query("SELECT 1 FROM agent_states WHERE agent_id = ANY($1) AND state <> 'ready'", [ids]);
    expect(left).toEqual([]);
  });

  it('offer, answer, call end, timed wrap-up; each step logged with durations', async () => {
    const a = await newAgent('call-a');
    await login(a);
    const offered = await states.claimForOffer(a.id, 'call-1');
    expect(offered).toMatchObject({ state: 'ringing', callId: 'call-1' });
    // An agent cannot log out while ringing or on a call; a supervisor needs force.
    expect((await call(a.token, { method: 'POST', url: '/api/v1/agents/me/logout' })).json()).toMatchObject({ code: 'illegal_transition' });
    expect((await put(supervisor.token, a.id, { state: 'offline' })).json()).toMatchObject({ code: 'agent_on_call' });
    await expect(states.change(a.id, 'on_call', { actor: system, expectedCallId: 'stale-call' })).rejects.toMatchObject({ code: 'agent_call_mismatch' });

    await states.change(a.id, 'on_call', { actor: system, expectedState: 'ringing', expectedCallId: 'call-1' });
    // A duplicate event for the same move changes nothing.
    expect((await states.change(a.id, 'on_call', { actor: system, expectedCallId: 'call-1' })).state).toBe('on_call');
    const wrap = await states.change(a.id, 'wrap_up', { actor: system, expectedCallId: 'call-1', wrapUpSeconds: 1 });
    expect(wrap).toMatchObject({ state: 'wrap_up', callId: 'call-1' });
    expect(new Date(wrap.wrapUpUntil!).getTime() - new Date(wrap.since).getTime()).toBe(1000);
    expect(wrap.lastCallEndedAt).toBe(wrap.since);

    // The module's timer ends the wrap-up.
    const deadline = Date.now() + 8000;
    let now = await states.get({ kind: 'user', id: a.id, name: 'x', role: 'agent', departmentId: null, centreId: 'main' }, a.id);
    while (now.state === 'wrap_up' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      now = await states.get({ kind: 'user', id: a.id, name: 'x', role: 'agent', departmentId: null, centreId: 'main' }, a.id);
    }
    expect(now).toMatchObject({ state: 'ready', callId: null, wrapUpUntil: null });

    const rows = await logRows(a.id);
    expect(rows.map((r) => `${r.from_state}>${r.state}:${r.actor_type}`)).toEqual([
      'offline>ready:agent', 'ready>ringing:system', 'ringing>on_call:system', 'on_call>wrap_up:system', 'wrap_up>ready:system',
    ]);
    expect(rows[1]!.call_id).toBe('call-1');
    expect(rows.at(-1)!.actor_id).toBe('wrap-up-timer');
    for (let i = 1; i < rows.length; i++) {
      const [prev, cur] = [rows[i - 1]!, rows[i]!];
      expect(cur.at.getTime()).toBeGreaterThanOrEqual(prev.at.getTime());
      expect(Number(cur.previous_duration_ms)).toBe(cur.at.getTime() - prev.at.getTime());
    }
    expect(Number(rows.at(-1)!.previous_duration_ms)).toBeGreaterThanOrEqual(1000);
    expect((await events(a.id)).map((e) => e.payload.state)).toEqual(['ready', 'ringing', 'on_call', 'wrap_up', 'ready']);

    const history = await ok(supervisor.token, { url: `/api/v1/agents/${a.id}/state-log?limit=2` });
    expect(history.items.map((i) => i.state)).toEqual(['ready', 'wrap_up']);
  });

  it('no answer makes the agent not ready; a withdrawn offer keeps the idle rank', async () => {
    const a = await newAgent('call-b');
    const ready = await login(a);
    await states.claimForOffer(a.id, 'call-2');
    const back = await states.change(a.id, 'ready', { actor: system, expectedCallId: 'call-2' });
    expect(back.idleSince).toBe(ready.idleSince);
    await states.claimForOffer(a.id, 'call-3');
    expect(await states.change(a.id, 'not_ready', { reason: 'no_answer', actor: system, expectedCallId: 'call-3' })).toMatchObject({ state: 'not_ready', reason: 'no_answer', reasonLabel: '未接听', callId: null });
    // Not ready: no more offers.
    expect(await states.claimForOffer(a.id, 'call-4')).toBeNull();
  });
});

describe('concurrency', () => {
  it('20 concurrent offers to one ready agent: exactly one wins', async () => {
    const a = await newAgent('race-a');
    await login(a);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => states.claimForOffer(a.id, `race-${i}`)));
    const winners = results.filter((r) => r !== null);
    expect(winners).toHaveLength(1);
    expect((await logRows(a.id)).filter((r) => r.state === 'ringing')).toHaveLength(1);
    expect((await events(a.id)).filter((e) => e.payload.state === 'ringing')).toHaveLength(1);
    const row = (await sql.query('SELECT state, call_id, version FROM agent_states WHERE agent_id = $1', [a.id])).rows[0];
    expect(row).toEqual({ state: 'ringing', call_id: winners[0]!.callId, version: 3 });
  });

  it('an offer and the agent\'s not-ready never both win', async () => {
    const a = await newAgent('race-b');
    await login(a);
    for (let round = 0; round < 5; round++) {
      const [offer, manual] = await Promise.all([
        states.claimForOffer(a.id, `mix-${round}`),
        put(a.token, a.id, { state: 'not_ready', reason: 'break' }),
      ]);
      const offerWon = offer !== null;
      const manualWon = manual.statusCode === 200;
      expect(offerWon !== manualWon, `round ${round}: offer ${String(offerWon)}, manual ${manual.statusCode} ${manual.body}`).toBe(true);
      if (!manualWon) expect(manual.json().code).toBe('illegal_transition');
      // Back to ready for the next round.
      if (offerWon) await states.change(a.id, 'ready', { actor: system, expectedCallId: `mix-${round}` });
      else await put(a.token, a.id, { state: 'ready' });
    }
  });
});

describe('concurrent changes', () => {
  it('changes racing for one agent are each applied to the state the one before left: the log is one unbroken chain', async () => {
    const a = await newAgent('race-chain');
    await login(a);
    const moves = [
      { state: 'not_ready', reason: 'break' }, { state: 'ready' }, { state: 'not_ready', reason: 'meal' }, { state: 'not_ready', reason: 'training' },
      { state: 'ready' }, { state: 'not_ready', reason: 'meeting' }, { state: 'ready' }, { state: 'not_ready', reason: 'break' },
    ];
    const results = await Promise.all(moves.map((m) => put(supervisor.token, a.id, m)));
    for (const r of results) expect(r.statusCode, r.body).toBe(200);
    const log = await logRows(a.id);
    // offline → ready at login, then one row per change that was not a repeat.
    for (let i = 1; i < log.length; i++) {
      expect([log[i]!.from_state, log[i]!.from_reason], `row ${i}`).toEqual([log[i - 1]!.state, log[i - 1]!.reason]);
    }
    const row = (await sql.query<{ state: string; reason: string | null; version: number }>('SELECT state, reason, version FROM agent_states WHERE agent_id = $1', [a.id])).rows[0]!;
    expect([row.state, row.reason]).toEqual([log.at(-1)!.state, log.at(-1)!.reason]);
    expect(row.version).toBe(log.length + 1);
    expect((await events(a.id)).map((e) => e.payload.version)).toEqual(log.map((_, i) => i + 2));
  });
});

describe('wallboard and ACD candidates', () => {
  it('lists logged-in agents for supervisors and ranks ready ones by skill, then idle time', async () => {
    const skill = await ok(operator, { method: 'POST', url: '/api/v1/skills', payload: { code: 'WB-GJJ', name: '公积金' } }, 201);
    const low = await newAgent('wb-low', [{ skillId: skill.id, level: 2 }]);
    const high = await newAgent('wb-high', [{ skillId: skill.id, level: 5 }]);
    const none = await newAgent('wb-none');
    await login(low);
    await login(none);
    await login(high);
    const board = await ok(supervisor.token, { url: '/api/v1/agents/states?state=ready' });
    const ids = board.items.map((i) => i.agentId);
    expect(ids).toEqual(expect.arrayContaining([low.id, high.id, none.id]));
    expect(board.items.every((i) => i.state === 'ready')).toBe(true);
    await problem(low.token, { url: '/api/v1/agents/states' }, 403, 'role_forbidden');

    const candidates = await states.readyCandidates('main');
    const ranked = rankAgents(candidates, { requiredSkills: [{ skillId: skill.id, minLevel: 2 }], language: 'zh' });
    expect(ranked.map((c) => c.agentId)).toEqual([high.id, low.id]);
  });
});
