/**
 * ACD decision latency with 1,000 callers waiting, against the fake Asterisk:
 *
 *   npx tsx bench/acd-latency.ts --waiting 1000 --samples 150 --out bench/results/calls.md
 *
 * Measured up to the moment the originate to the agent's phone reaches Asterisk (POST
 * /ari/channels, seen by the fake), from:
 *   - a caller being queued (the `queued` timeline row): ready agents are free and 1,000 other
 *     callers wait in a queue none of them is skilled for, so each decision looks past them;
 *   - an agent turning ready (their state-log row): 1,000 callers wait in a queue they cannot
 *     serve and more wait in one they can.
 * Decisions are taken one at a time (one sample every `--gap` ms), so each number is the
 * latency of one decision with the queue full, not of a backlog. Phones ring forever, so every
 * sample's agent stays busy and the waiting population only grows.
 */
import { appendFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startFakeAsterisk, type RecordedRequest } from '../test/fake-asterisk/index.js';
import { pool, serveCallsApp, setupCentre, startCallsApp } from './calls-support.js';
import { adminDbUrl, adminQuery, arg, Client, fmt, median, percentile, withDatabase } from './tickets-support.js';

const SELF = fileURLToPath(import.meta.url);

if (process.argv[2] === '--serve') {
  await serveCallsApp(process.argv[3]!, process.argv[4]!, Number(process.argv[5]));
} else {
  await main();
}

async function until<T>(probe: () => Promise<T | undefined | false>, what: string, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main(): Promise<void> {
  const waiting = Number(arg('waiting', '1000'));
  const samples = Number(arg('samples', '150'));
  const gap = Number(arg('gap', '100'));
  const out = arg('out', '');
  const load0 = loadavg()[0]!.toFixed(2);
  const admin = adminDbUrl();
  const dbName = `hotline_bench_acd_${Date.now()}`;
  await adminQuery(admin, `CREATE DATABASE ${dbName}`);
  const dbUrl = withDatabase(admin, dbName);
  const fake = await startFakeAsterisk({ playbackMs: 200, timeScale: 1 });
  const app = await startCallsApp(SELF, dbUrl, fake.url, 20);
  const client = new Client(app.base, 16);
  const sql = new pg.Client({ connectionString: dbUrl });
  await sql.connect();
  const count = async (text: string, values: unknown[] = []) => Number((await sql.query<{ n: string }>(text, values)).rows[0]!.n);

  console.log('setting up…');
  // Phones ring (and agents stay busy) for the whole run: no ring timeout hands a caller on.
  const centre = await setupCentre(client, samples * 2, { ringTimeoutSeconds: 120 });
  for (const a of centre.agents) fake.setEndpoint(`PJSIP/agent${a.extension}`, { outcome: 'ring', context: 'agents' });
  const skill = await client.json<{ id: string }>('POST', '/api/v1/skills', centre.admin, { code: 'nobody', name: '无人具备' });
  await client.json('POST', '/api/v1/queues', centre.admin, { code: 'unserved', name: '无人专席', requiredSkills: [{ skillId: skill.id, minLevel: 1 }], maxWaitSeconds: 3600, announcementIntervalSeconds: 0, callbackOfferSeconds: null });
  await client.json('PUT', '/api/v1/ivr/menu', centre.admin, {
    document: {
      rootNodeId: 'main', defaultQueue: 'general',
      nodes: [{ id: 'main', promptIds: ['menu-main'], timeoutSeconds: 2, maxRetries: 0, options: { '1': { action: 'queue', queue: 'general' } }, noInput: { action: 'queue', queue: 'unserved' } }],
    },
  });
  const originated = new Map<string, number>();
  fake.onRequest((r: RecordedRequest) => {
    if (r.method === 'POST' && r.path === '/ari/channels' && r.query.channelId) originated.set(r.query.channelId, Date.now());
  });

  console.log(`queueing ${waiting} callers nobody can serve…`);
  await pool(Array.from({ length: waiting }, (_, i) => i), 50, async (i) => void (await fake.inboundCall({ callerNumber: `138${String(i).padStart(8, '0')}`, language: 'zh' })));
  await until(async () => (await count("SELECT count(*) AS n FROM queue_entries")) >= waiting || undefined, `${waiting} queued`);

  // From a caller being queued.
  const queuedAgents = centre.agents.slice(0, samples);
  await pool(queuedAgents, 8, async (a) => void (await client.json('POST', '/api/v1/agents/me/login', a.token, { state: 'ready' })));
  const fromQueued: number[] = [];
  for (let i = 0; i < samples; i++) {
    const ch = await fake.inboundCall({ callerNumber: `137${String(i).padStart(8, '0')}`, language: 'zh' });
    fake.sendDtmf(ch, '1'); // to the general queue, where agents are free
    const offer = await until(async () => (await sql.query<{ channel_id: string; call_id: string }>(
      "SELECT o.channel_id, o.call_id FROM call_offers o JOIN calls c ON c.id = o.call_id WHERE c.channel_id = $1", [ch])).rows[0], 'offer', 20_000).catch(async (err: unknown) => {
      console.log(JSON.stringify((await sql.query('SELECT state, queue_id, ivr_path FROM calls WHERE channel_id = $1', [ch])).rows), await count("SELECT count(*) AS n FROM agent_states WHERE state = 'ready'"));
      throw err;
    });
    const sent = await until(async () => originated.get(offer.channel_id), 'originate');
    const queued = (await sql.query<{ at: Date }>("SELECT at FROM call_events WHERE call_id = $1 AND type = 'queued'", [offer.call_id])).rows[0]!.at;
    fromQueued.push(sent - queued.getTime());
    await new Promise((r) => setTimeout(r, gap));
  }

  // From an agent turning ready, with callers waiting in the general queue.
  console.log('queueing callers for the agents to come…');
  await pool(Array.from({ length: samples }, (_, i) => i), 20, async (i) => {
    const ch = await fake.inboundCall({ callerNumber: `136${String(i).padStart(8, '0')}`, language: 'zh' });
    fake.sendDtmf(ch, '1');
  });
  await until(async () => (await count("SELECT count(*) AS n FROM queue_entries WHERE state = 'waiting'")) >= waiting + samples || undefined, 'general callers queued');
  const fromReady: number[] = [];
  for (const a of centre.agents.slice(samples)) {
    await client.json('POST', '/api/v1/agents/me/login', a.token, { state: 'ready' });
    const offer = await until(async () => (await sql.query<{ channel_id: string }>('SELECT channel_id FROM call_offers WHERE agent_id = $1', [a.id])).rows[0], 'offer');
    const sent = await until(async () => originated.get(offer.channel_id), 'originate');
    const ready = (await sql.query<{ at: Date }>("SELECT at FROM agent_state_log WHERE agent_id = $1 AND state = 'ready' ORDER BY id LIMIT 1", [a.id])).rows[0]!.at;
    fromReady.push(sent - ready.getTime());
    await new Promise((r) => setTimeout(r, gap));
  }
  const waitingAtEnd = await count("SELECT count(*) AS n FROM queue_entries WHERE state = 'waiting'");

  const line = (name: string, xs: number[]) => {
    const s = [...xs].sort((x, y) => x - y);
    return `- from ${name}: p50 ${fmt(median(s))} ms, p95 ${fmt(percentile(s, 95))} ms, p99 ${fmt(percentile(s, 99))} ms, max ${fmt(s.at(-1)!)} ms (${s.length} decisions)`;
  };
  const report = [
    `### acd-latency ${new Date().toISOString()} — ${waiting} callers waiting (load average at start ${load0})`,
    '',
    line('a caller being queued', fromQueued),
    line('an agent turning ready', fromReady),
    `- callers still waiting at the end: ${waitingAtEnd}`,
    '',
  ].join('\n');
  console.log(report);
  if (out) appendFileSync(out, `${report}\n`);

  await sql.end();
  client.close();
  await app.stop();
  await fake.close();
  await adminQuery(admin, `DROP DATABASE ${dbName} WITH (FORCE)`);
  process.exit(0);
}
