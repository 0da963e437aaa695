/**
 * Two instances sharing one database and one NATS stream: a desktop on instance A receives what
 * instance B records, agent-state changes made on B are recorded once and reach A, and the
 * welcome counts desktops open on either instance.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { DesktopExports } from '../../src/modules/desktop/desktop.module.js';
import { buildTestApp, type TestApp } from '../support/app.js';
import { until } from '../support/wait.js';
import { DesktopClient, listen } from '../support/desktop-client.js';

let a: TestApp;
let b: TestApp;
let baseA: string;
let baseB: string;
let sql: pg.Client;
const tag = Date.now();
const nats = { NATS_STREAM: `HOTLINE_DESK${tag}`, NATS_SUBJECT_PREFIX: `desk${tag}` };

beforeAll(async () => {
  a = await buildTestApp(nats, { withNats: true });
  b = await buildTestApp(nats, { withNats: true, dbUrl: a.dbUrl });
  baseA = await listen(a);
  baseB = await listen(b);
  sql = new pg.Client({ connectionString: a.dbUrl });
  await sql.connect();
});
afterAll(async () => {
  await sql.end();
  await b.close();
  await a.close();
});

const exportsOf = (t: TestApp) => t.hotline.modules.get('desktop')!.exports as DesktopExports;

async function newAgent(name: string, extension: string): Promise<{ id: string; token: string }> {
  const user = await a.createUser(name, 'agent');
  const res = await a.hotline.app.inject({ method: 'POST', url: '/api/v1/agents', headers: { authorization: `Bearer ${a.adminToken}` }, payload: { userId: user.id, extension } });
  expect(res.statusCode, res.body).toBe(201);
  return user;
}

/** The agent-state versions stored in the agent's desktop log, in log order. */
async function recordedVersions(agentId: string): Promise<number[]> {
  const rows = await sql.query<{ v: number }>("SELECT (payload->>'version')::int AS v FROM desktop_messages WHERE agent_id = $1 AND type = 'agent.state' ORDER BY seq", [agentId]);
  return rows.rows.map((r) => r.v);
}

describe('desktops across instances', () => {
  it('delivers a message recorded on instance B to the desktop on instance A', async () => {
    const agent = await newAgent('cluster-1', '1801');
    const { client, welcome } = await DesktopClient.connect(baseA, agent.token);
    // The per-instance consumers attach in the background; wait until B's records flow to A.
    await until(async () => {
      const m = await exportsOf(b).record(b.hotline.db.db, agent.id, 'call.note', { probe: true });
      exportsOf(b).deliver(m); // B has no desktop of this agent: nothing happens there
      return client.logged('call.note').length > 0;
    }, 'first message through NATS', 20_000, 500);

    const offer = await exportsOf(b).record(b.hotline.db.db, agent.id, 'call.offer', { callId: 'c-42', queue: '综合' });
    exportsOf(b).deliver(offer);
    const got = await client.next((m) => m.type === 'call.offer', 'call.offer from B');
    expect(got).toMatchObject({ seq: offer.seq, payload: { callId: 'c-42', queue: '综合' } });
    // Every number after the welcome arrives once, in order.
    const seqs = client.logged().map((m) => BigInt(m.seq!));
    expect(seqs[0]).toBe(BigInt(welcome.lastSeq) + 1n);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + BigInt(i)));
    client.close();
  });

  it('records each agent-state change at most once and never after a newer one, whichever instance consumes it, and A shows the changes made on B', async () => {
    const agent = await newAgent('cluster-2', '1802');
    const { client } = await DesktopClient.connect(baseA, agent.token);
    const onB = await DesktopClient.connect(baseB, agent.token);
    expect(onB.welcome.desktops).toBe(2);

    const put = (payload: Record<string, unknown>) => b.hotline.app.inject({ method: 'PUT', url: `/api/v1/agents/${agent.id}/state`, headers: { authorization: `Bearer ${agent.token}` }, payload });
    expect((await b.hotline.app.inject({ method: 'POST', url: '/api/v1/agents/me/login', headers: { authorization: `Bearer ${agent.token}` }, payload: {} })).statusCode).toBe(200);
    for (const reason of ['break', 'meal', 'training']) expect((await put({ state: 'not_ready', reason })).statusCode).toBe(200);
    expect((await put({ state: 'ready' })).statusCode).toBe(200);

    for (const c of [client, onB.client]) await c.next((m) => m.type === 'agent.state' && m.payload.version === 6, 'the last change');
    const recorded = await recordedVersions(agent.id);
    // Two instances share the consumer, so an intermediate change can be consumed after a newer
    // one: it is then dropped, never shown after the newer state. Each version appears at most
    // once, in increasing order, and the last one is always recorded.
    expect(recorded.at(-1)).toBe(6);
    expect(recorded).toEqual([...new Set(recorded)].sort((x, y) => x - y));
    expect(recorded.every((v) => v >= 2 && v <= 6)).toBe(true);
    // Both desktops saw exactly what was recorded.
    const seen = (c: DesktopClient) => c.logged('agent.state').map((m) => m.payload.version);
    expect(seen(client)).toEqual(recorded);
    expect(seen(onB.client)).toEqual(recorded);
    client.close();
    onB.client.close();
  });

  it('drops an agent-state change consumed after a newer one, so a desktop never goes back to an older state', async () => {
    const agent = await newAgent('cluster-4', '1804');
    const { client } = await DesktopClient.connect(baseA, agent.token);
    const event = (version: number, state: string) => ({
      id: randomUUID(), type: 'agent.state_changed', subject: `${nats.NATS_SUBJECT_PREFIX}.agent.state_changed`,
      occurredAt: new Date().toISOString(), payload: { agentId: agent.id, version, state },
    });
    // The older change is published only once the newer one is shown, and handled (by either
    // instance) before the next one: it arrives late, as when the other instance was slow.
    const newer = event(41, 'ready');
    await b.hotline.events.publisher.publish(newer);
    await client.next((m) => m.type === 'agent.state' && m.payload.version === 41, 'version 41');
    const older = event(40, 'not_ready');
    await b.hotline.events.publisher.publish(older);
    await b.hotline.events.publisher.publish(newer); // a re-publish is dropped too
    await until(async () => (await sql.query("SELECT 1 FROM consumed_events WHERE event_id = $1", [older.id])).rowCount === 1, 'the older change handled');
    const marker = event(42, 'not_ready');
    await b.hotline.events.publisher.publish(marker);
    await client.next((m) => m.type === 'agent.state' && m.payload.version === 42, 'version 42');
    expect(await recordedVersions(agent.id)).toEqual([41, 42]);
    expect(client.logged('agent.state').map((m) => m.payload.version)).toEqual([41, 42]);
    client.close();
  });

  it('gives each instance a consumer of its own that is removed when the instance stops, closing its desktops with 1001', async () => {
    const nc = await connect({ servers: inject('natsUrl') });
    const jsm = await jetstreamManager(nc);
    const names: string[] = [];
    for await (const c of jsm.consumers.list(nats.NATS_STREAM)) names.push(c.name);
    expect(names.filter((n) => n.startsWith('desktop-fanout-'))).toHaveLength(2);
    expect(names).toContain('desktop-agent-state');
    const fanout = await jsm.consumers.info(nats.NATS_STREAM, names.find((n) => n.startsWith('desktop-fanout-'))!);
    expect(fanout.config.inactive_threshold).toBeGreaterThan(0);
    expect(fanout.config.deliver_policy).toBe('new');

    const c = await buildTestApp(nats, { withNats: true, dbUrl: a.dbUrl });
    await until(async () => {
      const now: string[] = [];
      for await (const x of jsm.consumers.list(nats.NATS_STREAM)) now.push(x.name);
      return now.filter((n) => n.startsWith('desktop-fanout-')).length === 3;
    }, 'third consumer');
    // A desktop on the stopping instance is told why, and can resume on another one.
    const agent = await newAgent('cluster-3', '1803');
    const { client, welcome } = await DesktopClient.connect(await listen(c), agent.token);
    await c.close();
    expect(await client.closed).toEqual({ code: 1001, reason: 'server_shutting_down' });
    const resumed = await DesktopClient.connect(baseA, agent.token, { lastSeq: welcome.lastSeq });
    expect(resumed.welcome).toMatchObject({ resync: false, desktops: 1 });
    resumed.client.close();
    const after: string[] = [];
    for await (const x of jsm.consumers.list(nats.NATS_STREAM)) after.push(x.name);
    expect(after.filter((n) => n.startsWith('desktop-fanout-'))).toHaveLength(2);
    await nc.close();
  });
});
