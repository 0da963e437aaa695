/**
 * The agent desktop WebSocket through the real app and a real `ws` client: authentication,
 * login with an extension, commands and their idempotent retries, heartbeats, bad messages,
 * two tabs, and resume after a reconnect (missed messages, and a lastSeq past retention).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallControlPort, DesktopExports } from '../../src/modules/desktop/desktop.module.js';
import type { DesktopGateway } from '../../src/modules/desktop/desktop.gateway.js';
import { buildTestApp, type TestApp } from '../support/app.js';
import { until } from '../support/wait.js';
import { DesktopClient, listen, type Msg } from '../support/desktop-client.js';

let t: TestApp;
let base: string;
let sql: pg.Client;
let operator: string;
let desktop: DesktopExports & { gateway: DesktopGateway };
let nextExt = 1500;

beforeAll(async () => {
  t = await buildTestApp({ DESKTOP_HEARTBEAT_MS: '200', DESKTOP_HELLO_TIMEOUT_MS: '400' });
  base = await listen(t);
  sql = new pg.Client({ connectionString: t.dbUrl });
  await sql.connect();
  operator = (await t.createUser('desk-ops', 'operator')).token;
  desktop = t.hotline.modules.get('desktop')!.exports as DesktopExports & { gateway: DesktopGateway };
});
afterAll(async () => {
  await sql.end();
  await t.close();
});

async function newAgent(name: string, role: 'agent' | 'supervisor' = 'agent'): Promise<{ id: string; token: string; extension: string }> {
  const user = await t.createUser(name, role);
  const extension = String(nextExt++);
  const res = await t.hotline.app.inject({ method: 'POST', url: '/api/v1/agents', headers: { authorization: `Bearer ${operator}` }, payload: { userId: user.id, extension } });
  expect(res.statusCode, res.body).toBe(201);
  return { ...user, extension };
}

describe('authentication', () => {
  it('accepts a Bearer header on the upgrade and a token in the hello', async () => {
    const a = await newAgent('desk-auth');
    const byHeader = await DesktopClient.connect(base, a.token, { header: true });
    expect(byHeader.welcome).toMatchObject({ v: 1, type: 'welcome', user: { id: a.id, role: 'agent' }, lastSeq: '0', resync: false, missed: 0, heartbeatMs: 200 });
    expect(byHeader.welcome.snapshot.agent).toMatchObject({ agentId: a.id, state: 'offline' });
    expect(byHeader.welcome.snapshot.currentCall).toBeNull();
    const byHello = await DesktopClient.connect(base, a.token);
    expect(byHello.welcome.user.id).toBe(a.id);
    byHeader.client.close();
    byHello.client.close();
  });

  it('closes with 4401 and the reason for a bad token, a missing token or a malformed header', async () => {
    const bad = await DesktopClient.open(base);
    bad.send({ v: 1, type: 'hello', token: 'not.a.jwt' });
    expect(await bad.closed).toEqual({ code: 4401, reason: 'token_malformed' });
    const forged = await DesktopClient.open(base);
    const [h, p] = t.adminToken.split('.');
    forged.send({ v: 1, type: 'hello', token: `${h}.${p}.AAAA` });
    expect(await forged.closed).toEqual({ code: 4401, reason: 'token_invalid' });

    const none = await DesktopClient.open(base);
    none.send({ v: 1, type: 'hello' });
    expect(await none.closed).toEqual({ code: 4401, reason: 'token_required' });

    const malformed = await DesktopClient.open(base, { authorization: 'Basic abc' });
    expect(await malformed.closed).toEqual({ code: 4401, reason: 'authorization_malformed' });
  });

  it('refuses API keys (4403) and roles without a desktop', async () => {
    const key = await t.hotline.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: { authorization: `Bearer ${t.adminToken}` }, payload: { name: 'ops-tool', role: 'operator' } });
    expect(key.statusCode, key.body).toBe(201);
    const apiKey = key.json<{ key: string }>().key;
    const byHeader = await DesktopClient.open(base, { 'x-api-key': apiKey });
    expect(await byHeader.closed).toEqual({ code: 4403, reason: 'api_key_not_allowed' });
    const inHello = await DesktopClient.open(base);
    inHello.send({ v: 1, type: 'hello', token: apiKey });
    expect(await inHello.closed).toEqual({ code: 4403, reason: 'api_key_not_allowed' });

    const ops = await DesktopClient.open(base);
    ops.send({ v: 1, type: 'hello', token: operator });
    expect(await ops.closed).toEqual({ code: 4403, reason: 'role_forbidden' });
  });

  it('closes a socket that sends no hello in time (4408), answering other messages meanwhile', async () => {
    const c = await DesktopClient.open(base);
    c.send({ v: 1, type: 'ping' });
    expect(await c.next((m) => m.type === 'error', 'error')).toMatchObject({ code: 'hello_required' });
    expect(await c.closed).toEqual({ code: 4408, reason: 'hello_timeout' });
  });

  it('closes the desktops of a session that was signed out', async () => {
    const a = await newAgent('desk-revoke');
    const other = await newAgent('desk-revoke-other');
    const { client } = await DesktopClient.connect(base, a.token);
    const { client: bystander } = await DesktopClient.connect(base, other.token);
    const out = await t.hotline.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { authorization: `Bearer ${a.token}` } });
    expect(out.statusCode, out.body).toBe(204);
    expect(await client.closed).toEqual({ code: 4401, reason: 'session_revoked' });
    expect(bystander.ws.readyState).toBe(bystander.ws.OPEN);
    bystander.close();
  });
});

describe('commands', () => {
  it('logs in with an extension, changes state, and every change arrives as agent.state', async () => {
    const a = await newAgent('desk-login');
    const { client } = await DesktopClient.connect(base, a.token);
    const login = await client.command('c1', { type: 'login', extension: a.extension });
    expect(login).toMatchObject({ type: 'command_result', id: 'c1', ok: true, result: { agent: { state: 'ready', extension: a.extension } } });
    const state = await client.next((m) => m.type === 'agent.state' && m.payload.state === 'ready', 'agent.state ready');
    expect(state).toMatchObject({ v: 1, seq: expect.stringMatching(/^[0-9]+$/), payload: { agentId: a.id, from: 'offline', extension: a.extension } });

    expect(await client.command('c2', { type: 'not_ready', reason: 'meal' })).toMatchObject({ ok: true, result: { agent: { state: 'not_ready', reason: 'meal' } } });
    await client.next((m) => m.type === 'agent.state' && m.payload.reason === 'meal', 'agent.state meal');
    expect(await client.command('c3', { type: 'ready' })).toMatchObject({ ok: true, result: { agent: { state: 'ready' } } });
    expect(await client.command('c4', { type: 'logout' })).toMatchObject({ ok: true, result: { agent: { state: 'offline' } } });
    await client.next((m) => m.type === 'agent.state' && m.payload.state === 'offline', 'agent.state offline');
    // Numbers increase by one in the order they were sent.
    const seqs = client.logged().map((m) => BigInt(m.seq!));
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + BigInt(i)));
    client.close();
  });

  it('answers a refused command with its domain code, and a retried id with the first reply without running it again', async () => {
    const a = await newAgent('desk-dedupe');
    const { client } = await DesktopClient.connect(base, a.token);
    expect(await client.command('x1', { type: 'login', extension: '1999' })).toMatchObject({ ok: true });
    // An illegal move: logged in already at another extension.
    expect(await client.command('x2', { type: 'login', extension: '1998' })).toMatchObject({ ok: false, error: { code: 'already_logged_in' } });

    const before = await sql.query('SELECT count(*)::int AS n FROM agent_state_log WHERE agent_id = $1', [a.id]);
    const first = await client.command('x3', { type: 'not_ready', reason: 'break' });
    const again = await client.command('x3', { type: 'not_ready', reason: 'break' });
    expect(again.ok).toBe(true);
    expect(again.result).toEqual(first.result);
    const after = await sql.query('SELECT count(*)::int AS n FROM agent_state_log WHERE agent_id = $1', [a.id]);
    expect(after.rows[0].n - before.rows[0].n).toBe(1);
    client.close();
  });

  it('says call_control_unavailable until call control is registered, then delegates to it', async () => {
    const a = await newAgent('desk-calls');
    const { client } = await DesktopClient.connect(base, a.token);
    expect(await client.command('h1', { type: 'hold' })).toMatchObject({ ok: false, error: { code: 'call_control_unavailable' } });

    const seen: Array<{ principal: string; command: unknown }> = [];
    const port: CallControlPort = {
      async command(principal, command) {
        seen.push({ principal: principal.id, command });
        if (command.type === 'hangup') throw Object.assign(new (await import('../../src/domain/errors.js')).ConflictError('No call', 'no_current_call'));
        return { held: true };
      },
      async currentCall(agentId) {
        return agentId === a.id ? { callId: '11111111-2222-4333-8444-555555555555', state: 'connected' } : null;
      },
    };
    desktop.setCallControl(port);
    expect(await client.command('h2', { type: 'hold' })).toMatchObject({ ok: true, result: { held: true } });
    expect(await client.command('h3', { type: 'hangup' })).toMatchObject({ ok: false, error: { code: 'no_current_call', message: 'No call' } });
    expect(await client.command('h4', { type: 'transfer', target: { kind: 'number', number: '12345678' } })).toMatchObject({ ok: true });
    expect(seen).toEqual([
      { principal: a.id, command: { type: 'hold' } },
      { principal: a.id, command: { type: 'hangup' } },
      { principal: a.id, command: { type: 'transfer', target: { kind: 'number', number: '12345678' } } },
    ]);
    const { welcome, client: second } = await DesktopClient.connect(base, a.token);
    expect(welcome.snapshot.currentCall).toEqual({ callId: '11111111-2222-4333-8444-555555555555', state: 'connected' });
    client.close();
    second.close();
  });
});

describe('bad messages', () => {
  it('answers each with an error code and keeps the socket open', async () => {
    const a = await newAgent('desk-bad');
    const { client } = await DesktopClient.connect(base, a.token);
    const cases: Array<[unknown, string]> = [
      ['{not json', 'invalid_json'],
      [[1, 2], 'invalid_message'],
      [{ v: 2, type: 'ping' }, 'unsupported_version'],
      [{ v: 1, type: 'dance' }, 'unknown_message_type'],
      [{ v: 1, type: 'ping', extra: true }, 'invalid_message'],
      [{ v: 1, type: 'command', command: { type: 'ready' } }, 'invalid_message'],
      [{ v: 1, type: 'hello', token: a.token }, 'already_authenticated'],
      [{ v: 1, type: 'subscribe_wallboard' }, 'role_forbidden'],
      [JSON.stringify({ v: 1, type: 'ping', id: 'x'.repeat(20_000) }), 'message_too_large'],
    ];
    for (const [msg, code] of cases) {
      client.send(msg);
      expect((await client.next((m) => m.type === 'error', `error ${code}`)).code).toBe(code);
    }
    // A command whose id can be read is answered by id.
    const bad = await client.command('b1', { type: 'not_ready', reason: 'nap' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_command', details: { errors: [expect.objectContaining({ path: '/reason' })] } } });
    expect((await client.command('b2', { type: 'fly' })).error.code).toBe('invalid_command');
    client.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect((await client.next((m) => m.type === 'error', 'binary error')).code).toBe('binary_not_supported');
    client.send({ v: 1, type: 'ping', id: 'p1' });
    expect(await client.next((m) => m.type === 'pong', 'pong')).toMatchObject({ id: 'p1' });
    client.close();
  });

  it('serves the JSON Schemas of every message', async () => {
    const res = await t.hotline.app.inject({ url: '/api/v1/desktop/schema' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.version).toBe(1);
    expect(Object.keys(doc.client)).toEqual(['hello', 'command', 'ping', 'pong', 'subscribe_wallboard', 'unsubscribe_wallboard']);
    expect(Object.keys(doc.server)).toEqual(expect.arrayContaining(['welcome', 'command_result', 'error', 'ping', 'pong', 'wallboard', 'wallboard_delta']));
    expect(Object.keys(doc.commands)).toHaveLength(18);
    expect(doc.commands.not_ready.properties.reason.enum).toEqual(['break', 'meal', 'training', 'meeting']);
    expect(doc.log['agent.state'].properties.seq.pattern).toBeDefined();
  });
});

describe('heartbeats', () => {
  it('pings every interval, closes a desktop that misses two, and keeps one that answers', async () => {
    const a = await newAgent('desk-beat');
    const { client: live } = await DesktopClient.connect(base, a.token);
    const { client: frozen } = await DesktopClient.connect(base, a.token);
    frozen.answerPings = false;
    expect(await frozen.closed).toEqual({ code: 4001, reason: 'heartbeat_timeout' });
    expect(frozen.messages.filter((m) => m.type === 'ping')).toHaveLength(2);
    await until(() => live.messages.filter((m) => m.type === 'ping').length >= 6, 'six pings');
    expect(live.ws.readyState).toBe(live.ws.OPEN);
    live.close();
  });
});

describe('two tabs', () => {
  it('sends every message to both, counts them in the welcome, and takes commands from either', async () => {
    const a = await newAgent('desk-tabs');
    const { client: tab1, welcome: w1 } = await DesktopClient.connect(base, a.token);
    expect(w1.desktops).toBe(1);
    const { client: tab2, welcome: w2 } = await DesktopClient.connect(base, a.token);
    expect(w2.desktops).toBe(2);
    expect(await tab1.next((m) => m.type === 'desktop.presence' && m.payload.desktopId === w2.desktopId, 'tab 2 opened')).toMatchObject({ payload: { change: 'opened', open: 2 } });

    expect((await tab1.command('t1', { type: 'login', extension: a.extension })).ok).toBe(true);
    expect((await tab2.command('t1', { type: 'not_ready', reason: 'training' })).ok).toBe(true); // ids are per socket
    for (const tab of [tab1, tab2]) {
      await tab.next((m) => m.type === 'agent.state' && m.payload.state === 'ready', 'ready on both');
      await tab.next((m) => m.type === 'agent.state' && m.payload.reason === 'training', 'training on both');
    }
    // The reply goes only to the tab that asked.
    expect(tab2.messages.filter((m) => m.type === 'command_result')).toHaveLength(1);
    const seqs = (c: DesktopClient) => c.logged('agent.state').map((m) => m.seq);
    expect(seqs(tab1)).toEqual(seqs(tab2));

    tab2.close();
    expect(await tab1.next((m) => m.type === 'desktop.presence' && m.payload.change === 'closed', 'tab 2 closed')).toMatchObject({ payload: { open: 1 } });
    tab1.close();
  });
});

describe('resume', () => {
  it('sends the snapshot and then, in order, the messages missed since lastSeq', async () => {
    const a = await newAgent('desk-resume');
    const { client, welcome } = await DesktopClient.connect(base, a.token);
    await client.command('r1', { type: 'login', extension: a.extension });
    const last = (await client.next((m) => m.type === 'agent.state', 'agent.state')).seq!;
    client.close();
    await client.closed;

    // While the desktop is away: a state change and messages recorded by another module.
    await until(async () => (await sql.query('SELECT count(*)::int AS n FROM desktop_connections WHERE user_id = $1', [a.id])).rows[0].n === 0, 'desktop closed');
    const res = await t.hotline.app.inject({ method: 'PUT', url: `/api/v1/agents/${a.id}/state`, headers: { authorization: `Bearer ${a.token}` }, payload: { state: 'not_ready', reason: 'meeting' } });
    expect(res.statusCode, res.body).toBe(200);
    await until(async () => (await sql.query("SELECT count(*)::int AS n FROM desktop_messages WHERE agent_id = $1 AND type = 'agent.state'", [a.id])).rows[0].n === 2, 'state message recorded');
    const offer = await desktop.record(t.hotline.db.db, a.id, 'call.offer', { callId: 'c-1', caller: '138****0000' });
    desktop.deliver(offer);
    await t.hotline.db.db.transaction().execute(async (tx) => {
      await desktop.record(tx, a.id, 'call.note', { n: 1 });
      await desktop.record(tx, a.id, 'call.note', { n: 2 });
    });

    const again = await DesktopClient.connect(base, a.token, { lastSeq: last });
    expect(again.welcome).toMatchObject({ resync: false, missed: 5 });
    expect(again.welcome.snapshot.agent).toMatchObject({ state: 'not_ready', reason: 'meeting' });
    expect(BigInt(again.welcome.lastSeq)).toBe(BigInt(last) + 5n);
    const after = again.client.messages.slice(again.client.messages.indexOf(again.welcome) + 1, again.client.messages.indexOf(again.welcome) + 6);
    expect(after.map((m) => m.type)).toEqual(['desktop.presence', 'agent.state', 'call.offer', 'call.note', 'call.note']);
    expect(after.map((m) => m.seq)).toEqual([1n, 2n, 3n, 4n, 5n].map((d) => (BigInt(last) + d).toString()));
    expect(after[4]!.payload).toEqual({ n: 2 });
    // Up to date: nothing replayed; a fresh desktop (no lastSeq) gets none either.
    expect(welcome.missed).toBe(0);
    again.client.close();
  });

  it('asks for a resync when the messages since lastSeq are past retention or the number is unknown', async () => {
    const a = await newAgent('desk-expired');
    for (let i = 0; i < 3; i++) await desktop.record(t.hotline.db.db, a.id, 'call.note', { i });
    // Age the first two past the 24 h retention (as if recorded two days ago) and run the sweep.
    await sql.query("ALTER TABLE desktop_messages DISABLE TRIGGER desktop_messages_no_update");
    await sql.query("UPDATE desktop_messages SET at = now() - interval '2 days' WHERE agent_id = $1 AND seq <= 2", [a.id]);
    await sql.query("ALTER TABLE desktop_messages ENABLE TRIGGER desktop_messages_no_update");
    await desktop.gateway.sweep();
    expect((await sql.query('SELECT seq::int FROM desktop_messages WHERE agent_id = $1', [a.id])).rows).toEqual([{ seq: 3 }]);

    const old = await DesktopClient.connect(base, a.token, { lastSeq: '1' });
    expect(old.welcome).toMatchObject({ resync: true, missed: 0, lastSeq: '3' });
    expect(old.welcome.snapshot.agent).toMatchObject({ agentId: a.id });
    // Number 4 is the first desktop's own presence message.
    const recent = await DesktopClient.connect(base, a.token, { lastSeq: '2' });
    expect(recent.welcome).toMatchObject({ resync: false, missed: 2, lastSeq: '4' });
    expect(recent.client.logged().slice(0, 2).map((m) => [m.seq, m.type])).toEqual([['3', 'call.note'], ['4', 'desktop.presence']]);
    const ahead = await DesktopClient.connect(base, a.token, { lastSeq: '99' });
    expect(ahead.welcome).toMatchObject({ resync: true, missed: 0 });
    for (const c of [old, recent, ahead]) c.client.close();
  });

  it('replays more than nine missed messages in number order (10 after 9, not after 1)', async () => {
    const a = await newAgent('desk-replay12');
    for (let i = 0; i < 12; i++) await desktop.record(t.hotline.db.db, a.id, 'call.note', { i });
    const { client, welcome } = await DesktopClient.connect(base, a.token, { lastSeq: '0' });
    expect(welcome).toMatchObject({ resync: false, missed: 12, lastSeq: '12' });
    await until(() => client.logged('call.note').length === 12, 'the replay');
    expect(client.logged('call.note').map((m: Msg) => m.payload.i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    client.close();
  });

  it('never hands a desktop a message twice or out of order while messages are recorded during its welcome', async () => {
    const a = await newAgent('desk-race');
    const writes = (async () => {
      for (let i = 0; i < 30; i++) desktop.deliver(await desktop.record(t.hotline.db.db, a.id, 'call.note', { i }));
    })();
    const tabs = await Promise.all([0, 1, 2].map(() => DesktopClient.connect(base, a.token, { lastSeq: '0' })));
    await writes;
    const total = (await sql.query('SELECT max(seq)::text AS s FROM desktop_messages WHERE agent_id = $1', [a.id])).rows[0].s as string;
    for (const { client } of tabs) {
      await until(() => client.logged().some((m) => m.seq === total), 'last message');
      const notes = client.logged('call.note').map((m: Msg) => m.payload.i as number);
      expect(notes).toEqual(notes.map((_, i) => i)); // 0..29: none missing, none twice
      client.close();
    }
  });
});
