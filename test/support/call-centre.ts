/**
 * A call centre for voice tests: the real service on a fresh database, wired to a fake Asterisk
 * over ARI, with queues, agents and an IVR menu made through the REST API as an operator would.
 * Timers of the call flow run 100× faster; the fake scales originate timeouts the same way.
 */
import pg from 'pg';
import { startFakeAsterisk, type FakeAsterisk, type FakeAsteriskOptions } from '../fake-asterisk/index.js';
import { scaledTimers } from '../../src/domain/timers.js';
import type { CallsExports } from '../../src/modules/calls/calls.module.js';
import { buildTestApp, type TestApp } from './app.js';
import { until } from './wait.js';

export const TIME_SCALE = 0.01;

export interface Agent {
  readonly id: string;
  readonly token: string;
  readonly extension: string;
}

export interface CallCentre {
  readonly t: TestApp;
  readonly asterisk: FakeAsterisk;
  readonly admin: Record<string, string>;
  readonly queues: Record<string, string>;
  readonly agents: Agent[];
  readonly calls: CallsExports;
  api<T = unknown>(method: string, url: string, body?: unknown, token?: string): Promise<{ status: number; body: T }>;
  ready(agent: Agent): Promise<void>;
  login(agent: Agent, state?: 'ready' | 'not_ready'): Promise<void>;
  agentState(agent: Agent): Promise<{ state: string; reason: string | null; callId: string | null }>;
  call(id: string): Promise<CallRecord>;
  callByChannel(channelId: string): Promise<CallRecord>;
  /** The fake channel of the agent leg ringing or up at this extension. */
  agentChannel(extension: string): string | undefined;
  sql<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<R[]>;
  /** Hangs up every channel the fake holds and waits until every call has ended (test cleanup). */
  endAllCalls(): Promise<void>;
  close(): Promise<void>;
}

export interface CallRecord {
  id: string;
  state: string;
  disposition: string | null;
  hangupBy: string | null;
  queueId: string | null;
  agentId: string | null;
  surveyResult: string | null;
  ivrPath: { node: string; digit: string | null; action: string }[];
  timeline: { type: string; data: Record<string, unknown> }[];
  offers: { agentId: string; outcome: string | null; cause: number | null }[];
  recordings: { name: string; durationSeconds: number | null; sizeBytes: number | null; state: string }[];
  ticketIds: string[];
  callbacks: { kind: string; attempts: number }[];
  flags: string[];
  priority: number | null;
  transfer: Record<string, string> | null;
}

export interface CentreOptions {
  readonly agents?: number;
  /** Extra queue settings for the general queue. */
  readonly general?: Record<string, unknown>;
  /** Publish an IVR menu (default true). */
  readonly menu?: boolean;
  readonly env?: Record<string, string>;
  readonly fake?: FakeAsteriskOptions;
  /** Reuse a fake Asterisk (several instances, or a restart of the service). */
  readonly asterisk?: FakeAsterisk;
  /** Join an existing centre's database instead of making one (a second instance). */
  readonly joinDbUrl?: string;
  readonly nodeId?: string;
  /** Use the test NATS server (pass the same NATS_STREAM / NATS_SUBJECT_PREFIX in env to share it). */
  readonly nats?: boolean;
}

export const MENU = {
  rootNodeId: 'main',
  defaultQueue: 'general',
  nodes: [
    {
      id: 'main', promptIds: ['menu-main'], timeoutSeconds: 5, maxRetries: 1,
      options: { '1': { action: 'progress_query' }, '2': { action: 'queue', queue: 'business', promptId: 'connecting-business' }, '9': { action: 'queue', queue: 'english' }, '8': { action: 'callback' } },
    },
  ],
};

export async function callCentre(o: CentreOptions = {}): Promise<CallCentre> {
  const asterisk = o.asterisk ?? (await startFakeAsterisk({ timeScale: TIME_SCALE, playbackMs: 30, channelVars: ['CASE_ID', 'CASE_TYPE', 'ORIGIN_CENTRE', 'CALLER_LOCATION', 'ORIGINAL_CALLER', 'PARTNER_LINE', 'TRANSFER_KIND', 'DIALED_NUMBER'], ...o.fake }));
  const t = await buildTestApp({
    ARI_URL: asterisk.url, ARI_USER: asterisk.username, ARI_PASSWORD: asterisk.password, ARI_NODE_IDS: o.nodeId ?? 'ast1',
    ACD_SWEEP_MS: '200', CALLS_MISSED_MIN_WAIT_SECONDS: '0', ...o.env,
  }, { timers: scaledTimers(TIME_SCALE), ...(o.joinDbUrl ? { dbUrl: o.joinDbUrl } : {}), ...(o.nats ? { withNats: true } : {}) });
  const admin = { authorization: `Bearer ${t.adminToken}` };
  const api = async <T>(method: string, url: string, body?: unknown, token?: string): Promise<{ status: number; body: T }> => {
    const res = await t.hotline.app.inject({ method: method as 'GET', url: `/api/v1${url}`, headers: token ? { authorization: `Bearer ${token}` } : admin, ...(body !== undefined ? { payload: body as object } : {}) });
    return { status: res.statusCode, body: (res.body ? res.json() : null) as T };
  };
  const must = async <T>(method: string, url: string, body?: unknown, token?: string): Promise<T> => {
    const r = await api<T>(method, url, body, token);
    if (r.status >= 300) throw new Error(`${method} ${url} → ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };

  const queues: Record<string, string> = {};
  const agents: Agent[] = [];
  if (!o.joinDbUrl) {
    const english = await must<{ id: string }>('POST', '/skills', { code: 'english', name: '英语' });
    const business = await must<{ id: string }>('POST', '/skills', { code: 'business', name: '企业服务' });
    queues.general = (await must<{ id: string }>('POST', '/queues', { code: 'general', name: '综合', maxWaitSeconds: 300, ringTimeoutSeconds: 5, wrapUpSeconds: 1, announcementIntervalSeconds: 30, callbackOfferSeconds: null, ...o.general })).id;
    queues.business = (await must<{ id: string }>('POST', '/queues', { code: 'business', name: '企业服务专席', requiredSkills: [{ skillId: business.id, minLevel: 2 }], ringTimeoutSeconds: 5, wrapUpSeconds: 1, callbackOfferSeconds: null })).id;
    queues.english = (await must<{ id: string }>('POST', '/queues', { code: 'english', name: 'English', language: 'en', requiredSkills: [{ skillId: english.id, minLevel: 1 }], ringTimeoutSeconds: 5, wrapUpSeconds: 1, callbackOfferSeconds: null })).id;
    queues.skills = JSON.stringify({ english: english.id, business: business.id });
    if (o.menu !== false) await must('PUT', '/ivr/menu', { document: MENU, note: 'voice test menu' });
    for (let i = 0; i < (o.agents ?? 2); i++) {
      const extension = String(1001 + i);
      const user = await t.createUser(`agent${extension}`, 'agent');
      await must('POST', '/agents', { userId: user.id, extension, languages: ['zh'] });
      asterisk.setEndpoint(`PJSIP/agent${extension}`, { outcome: 'answer', answerAfterMs: 20, context: 'agents', callerName: `Agent ${extension}`, callerNumber: extension });
      agents.push({ id: user.id, token: user.token, extension });
    }
  }
  const calls = t.hotline.modules.get('calls')!.exports as CallsExports;
  await until(async () => (await t.hotline.app.inject('/readyz')).json<{ checks: { ari?: { status: string } } }>().checks.ari?.status === 'up', 'ARI connected');
  await until(() => calls.router!.readyNodes().every((n) => n.connected), 'node reconciled');

  // A small pool: tests wait on several calls at once, and one client must not run queries concurrently.
  const client = new pg.Pool({ connectionString: t.dbUrl, max: 4 });

  const centre: CallCentre = {
    t, asterisk, admin, queues, agents, calls, api,
    async login(agent, state = 'ready') {
      await must('POST', '/agents/me/login', { state, ...(state === 'not_ready' ? { reason: 'break' } : {}) }, agent.token);
    },
    async ready(agent) {
      await must('PUT', `/agents/${agent.id}/state`, { state: 'ready' }, agent.token);
    },
    async agentState(agent) {
      return must('GET', `/agents/${agent.id}/state`, undefined, agent.token);
    },
    async call(id) {
      return must<CallRecord>('GET', `/calls/${id}`);
    },
    async callByChannel(channelId) {
      const rows = await centre.sql<{ id: string }>('SELECT id FROM calls WHERE channel_id = $1', [channelId]);
      if (!rows[0]) throw new Error(`no call for channel ${channelId}`);
      return centre.call(rows[0].id);
    },
    agentChannel(extension) {
      return asterisk.channels().find((c) => c.name.startsWith(`PJSIP/agent${extension}-`))?.id;
    },
    async sql(text, values = []) {
      return (await client.query(text, values)).rows;
    },
    async endAllCalls() {
      for (const ch of asterisk.channels()) {
        try {
          asterisk.hangup(ch.id);
        } catch {
          // gone meanwhile (an agent leg hung up with its caller)
        }
      }
      await until(async () => (await centre.sql("SELECT 1 FROM calls WHERE state <> 'ended'")).length === 0, 'all calls ended');
    },
    async close() {
      await client.end();
      await t.close();
      if (!o.asterisk) await asterisk.close();
    },
  };
  return centre;
}

/** Waits until the call (found by its caller channel) reaches a state. */
export async function waitCallState(c: CallCentre, channelId: string, state: string, timeoutMs = 10_000): Promise<CallRecord> {
  return until(async () => {
    const rows = await c.sql<{ id: string; state: string }>('SELECT id, state FROM calls WHERE channel_id = $1', [channelId]);
    return rows[0]?.state === state ? c.call(rows[0].id) : undefined;
  }, `call on ${channelId} to be ${state}`, timeoutMs);
}
