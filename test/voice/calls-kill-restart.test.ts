/**
 * The service itself dies (kill -9) with callers queued and a call connected, and starts again:
 * Asterisk kept the channels, the rows kept the state, and the new process carries on — the
 * queue in its order, the conversation connected and recorded, the survey after it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAsterisk, type FakeAsterisk } from '../fake-asterisk/index.js';
import { createTestDatabase } from '../support/db.js';
import { freePort, startServer, type ServerProcess } from '../support/process.js';
import { until } from '../support/wait.js';

const ADMIN = { username: 'root', password: 'Bootstrap-Pa55word!' };
const AGENT_PASSWORD = 'Correct-Horse-9-Battery';

describe('service killed and restarted during calls', () => {
  let asterisk: FakeAsterisk;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let sql: pg.Client;
  let dataDir: string;
  let server: ServerProcess | undefined;
  let port: number;

  const env = () => ({
    NODE_ENV: 'test', LOG_LEVEL: 'warn', DATABASE_URL: db.url, DATA_DIR: dataDir, JWT_SECRET: 'kill-restart-secret-kill-restart-secret-0123',
    BOOTSTRAP_ADMIN_USER: ADMIN.username, BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    ARI_URL: asterisk.url, ARI_USER: asterisk.username, ARI_PASSWORD: asterisk.password, ARI_NODE_IDS: 'ast1', ACD_SWEEP_MS: '200',
  });
  async function api<T = Record<string, unknown>>(method: string, url: string, token: string | null, body?: unknown): Promise<T> {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1${url}`, {
      method, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${url} → ${res.status} ${text}`);
    return (text ? JSON.parse(text) : null) as T;
  }
  const login = async (username: string, password: string) => (await api<{ token: string }>('POST', '/auth/login', null, { username, password })).token;
  const stateOf = async (channelId: string) => (await sql.query<{ id: string; state: string; agent_id: string | null; disposition: string | null; survey_result: string | null }>('SELECT id, state, agent_id, disposition, survey_result FROM calls WHERE channel_id = $1', [channelId])).rows[0];
  const waitState = (ch: string, state: string) => until(async () => ((await stateOf(ch))?.state === state ? stateOf(ch) : undefined), `${ch} ${state}`, 20_000);
  async function start(): Promise<void> {
    server = startServer(env(), port);
    await server.waitReady();
    await until(async () => {
      const r = await (await fetch(`http://127.0.0.1:${port}/readyz`)).json() as { checks: { calls?: { nodes?: { connected: boolean }[] } } };
      return r.checks.calls?.nodes?.every((n) => n.connected);
    }, 'service reconciled with Asterisk', 20_000);
  }

  beforeAll(async () => {
    asterisk = await startFakeAsterisk({ timeScale: 0.01, playbackMs: 20 });
    db = await createTestDatabase();
    sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    dataDir = await mkdtemp(path.join(tmpdir(), 'hotline-kill-'));
    port = await freePort();
    await start();
  });
  afterAll(async () => {
    server?.proc.kill('SIGKILL');
    await server?.exited;
    await sql.end();
    await asterisk.close();
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('carries on with the queue in order and the connected call connected and recorded', async () => {
    const admin = await login(ADMIN.username, ADMIN.password);
    await api('POST', '/queues', admin, { code: 'general', name: '综合', wrapUpSeconds: 1, ringTimeoutSeconds: 10, callbackOfferSeconds: null });
    const tokens: string[] = [];
    for (const ext of ['1001', '1002']) {
      const user = await api<{ id: string }>('POST', '/users', admin, { username: `agent${ext}`, displayName: `座席${ext}`, password: AGENT_PASSWORD, role: 'agent' });
      await api('POST', '/agents', admin, { userId: user.id, extension: ext });
      asterisk.setEndpoint(`PJSIP/agent${ext}`, { outcome: 'answer', answerAfterMs: 20, context: 'agents' });
      tokens.push(await login(`agent${ext}`, AGENT_PASSWORD));
    }
    await api('POST', '/agents/me/login', tokens[0]!, { state: 'ready' });
    const talking = await asterisk.inboundCall({ callerNumber: '13200000001' });
    const talkingRow = await waitState(talking, 'connected');
    const first = await asterisk.inboundCall({ callerNumber: '13200000002' });
    await waitState(first, 'queued');
    const second = await asterisk.inboundCall({ callerNumber: '13200000003' });
    await waitState(second, 'queued');

    server!.proc.kill('SIGKILL');
    await server!.exited;
    await until(() => !asterisk.isAppConnected('hotline'), 'app gone from Asterisk');
    // Asterisk keeps every channel (and the recording) while the app is away.
    expect(asterisk.channels().map((c) => c.id)).toEqual(expect.arrayContaining([talking, first, second]));

    await start();
    expect((await stateOf(talking))!.state).toBe('connected');
    expect((await stateOf(first))!.state).toBe('queued');
    expect((await stateOf(second))!.state).toBe('queued');
    const recovered = await sql.query("SELECT call_id FROM call_events WHERE type = 'recovered'");
    expect(recovered.rows).toHaveLength(3);
    const recording = await sql.query<{ state: string }>('SELECT state FROM call_recordings WHERE call_id = $1', [talkingRow.id]);
    expect(recording.rows).toEqual([{ state: 'recording' }]);

    // The next agent takes the first caller, not the second.
    await api('POST', '/agents/me/login', tokens[1]!, { state: 'ready' });
    await waitState(first, 'connected');
    expect((await stateOf(second))!.state).toBe('queued');

    // The conversation that survived ends as any other: agent hangs up, caller rates it.
    const agentLeg = asterisk.channels().find((c) => c.name.startsWith('PJSIP/agent1001-'))!;
    asterisk.hangup(agentLeg.id);
    await waitState(talking, 'survey');
    await until(() => asterisk.requests.some((r) => r.path === `/ari/channels/${talking}/play` && String(r.query.media).includes('survey-intro')), 'survey prompt');
    asterisk.sendDtmf(talking, '1');
    expect(await waitState(talking, 'ended')).toMatchObject({ disposition: 'answered', survey_result: 'satisfied' });
    await until(async () => (await sql.query<{ state: string }>('SELECT state FROM call_recordings WHERE call_id = $1', [talkingRow.id])).rows[0]?.state === 'done', 'recording finished');
    // Agent 1001 is back after wrap-up and takes the second caller.
    expect((await waitState(second, 'connected')).agent_id).toBe((await api<{ id: string }>('GET', '/agents/me', tokens[0]!)).id);
  });
});
