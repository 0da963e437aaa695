/**
 * Chinese full-text search over 1,000,000 tickets through the product's search path
 * (GET /api/v1/tickets?q=…: jieba query tokens, the weighted tsquery plan and the trigram
 * fallback of src/modules/tickets), against the whole app in a child process on 127.0.0.1.
 *
 *   npx tsx bench/tickets-search.ts [--tickets 1000000] [--distinct 100000] [--queries 300] [--runs 3]
 *                                   [--rebuild] [--database-url postgres://…/postgres] [--out bench/results/tickets.md]
 *
 * The data set is generated once into the database `hotline_bench_search` (kept for later runs;
 * `--rebuild` makes it again): realistic 12345 requests from bench/tickets-corpus.ts, spread over a
 * year, eight districts and their streets. Tokenising a million texts with jieba would dominate on
 * two cores, so `--distinct` texts are tokenised once with the product's own `indexDocument`
 * (the exact tokens intake stores) and reused; the tsvector is built by PostgreSQL exactly as the
 * tickets repository does. Secondary indexes are dropped during the load and recreated from their
 * own definitions afterwards (bulk index builds are far faster than a million index inserts).
 */
import { appendFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import pino from 'pino';
import { migrate } from '../src/adapters/db/migrator.js';
import { indexDocument } from '../src/modules/tickets/search.js';
import { generateQuery, generateRequest, rng } from './tickets-corpus.js';
import { adminDbUrl, adminQuery, agentToken, arg, Client, databaseExists, fmt, median, percentile, serveApp, startAppProcess, withDatabase } from './tickets-support.js';

const thisFile = fileURLToPath(import.meta.url);
const DB_NAME = 'hotline_bench_search';
const BATCH = 5000;
const STATUSES = ['closed', 'closed', 'closed', 'closed', 'evaluated', 'revisited', 'dispatched', 'in_progress', 'accepted', 'replied'] as const;
const CHANNELS = ['phone', 'phone', 'phone', 'phone', 'website', 'mobile_app', 'mini_program'] as const;

async function generate(url: string, total: number, distinct: number): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  await migrate(pool, pino({ level: 'warn' }));
  const r = rng(42);
  let t0 = performance.now();
  const texts = Array.from({ length: distinct }, () => {
    const req = generateRequest(r);
    return { ...req, search: indexDocument(req.title, req.content) };
  });
  console.log(`tokenised ${distinct} distinct texts with jieba in ${fmt((performance.now() - t0) / 1000)} s`);

  const c = await pool.connect();
  try {
    const { rows: indexes } = await c.query<{ indexname: string; indexdef: string }>(`
      SELECT i.indexname, i.indexdef FROM pg_indexes i
       WHERE i.tablename = 'tickets' AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conname = i.indexname)`);
    for (const ix of indexes) await c.query(`DROP INDEX ${pg.escapeIdentifier(ix.indexname)}`);
    t0 = performance.now();
    const year = 365 * 86_400_000;
    const end = Date.parse('2025-11-01T00:00:00+08:00');
    for (let done = 0; done < total; done += BATCH) {
      const n = Math.min(BATCH, total - done);
      const cols: Record<string, unknown[]> = { number: [], channel: [], meta: [], call: [], type: [], title: [], content: [], address: [], area: [], status: [], at: [], own: [], expanded: [] };
      for (let i = 0; i < n; i++) {
        const seq = done + i;
        const text = texts[Math.floor(r() * distinct)]!;
        const at = new Date(end - Math.floor(r() * year));
        const day = new Date(at.getTime() + 8 * 3600_000).toISOString().slice(0, 10).replaceAll('-', '');
        const channel = CHANNELS[Math.floor(r() * CHANNELS.length)]!;
        cols.number!.push(`GD${day}${String(seq).padStart(7, '0')}`);
        cols.channel!.push(channel);
        cols.meta!.push(channel === 'phone' ? '{}' : JSON.stringify(channel === 'mini_program' ? { openId: `o${seq}` } : { submissionId: `s${seq}` }));
        cols.call!.push(channel === 'phone' ? `bench-call-${seq}` : null);
        cols.type!.push(text.type);
        cols.title!.push(text.title);
        cols.content!.push(text.content);
        cols.address!.push(text.address);
        cols.area!.push(text.areaCode);
        cols.status!.push(STATUSES[Math.floor(r() * STATUSES.length)]!);
        cols.at!.push(at);
        cols.own!.push(text.search.own);
        cols.expanded!.push(text.search.expanded);
      }
      await c.query(`
        INSERT INTO tickets (number, channel, channel_meta, call_id, type, title, content, address, area_code, status, created_by_type, created_at, updated_at, closed_at, search_vector)
        SELECT number, channel, meta::jsonb, call, type, title, content, address, area, status, 'system', at, at, CASE WHEN status IN ('closed', 'revisited', 'evaluated') THEN at END,
               setweight(to_tsvector('simple', own), 'A') || setweight(to_tsvector('simple', expanded), 'D')
          FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::timestamptz[], $12::text[], $13::text[])
               AS x(number, channel, meta, call, type, title, content, address, area, status, at, own, expanded)`,
      [cols.number, cols.channel, cols.meta, cols.call, cols.type, cols.title, cols.content, cols.address, cols.area, cols.status, cols.at, cols.own, cols.expanded]);
      if ((done / BATCH) % 20 === 0) console.log(`  ${done + n} rows, ${fmt((performance.now() - t0) / 1000)} s`);
    }
    console.log(`inserted ${total} tickets in ${fmt((performance.now() - t0) / 1000)} s`);
    t0 = performance.now();
    await c.query("SET maintenance_work_mem = '512MB'");
    for (const ix of indexes) await c.query(ix.indexdef);
    await c.query('ANALYZE tickets');
    console.log(`rebuilt ${indexes.length} indexes and analysed in ${fmt((performance.now() - t0) / 1000)} s`);
  } finally {
    c.release();
    await pool.end();
  }
}

interface RunResult { p50: number; p95: number; p99: number; max: number; mean: number; zeroHits: number; avgHits: number; errors: number; slowest: { q: string; ms: number; hits: number }[] }

async function queries(client: Client, token: string, count: number, seed: number): Promise<RunResult> {
  const r = rng(seed);
  const latencies: number[] = [];
  let zeroHits = 0;
  let hits = 0;
  let errors = 0;
  const timed: { q: string; ms: number; hits: number }[] = [];
  for (let i = 0; i < count; i++) {
    const q = generateQuery(r);
    const res = await client.send('GET', `/api/v1/tickets?limit=20&q=${encodeURIComponent(q)}`, token);
    if (res.status !== 200) {
      errors++;
      if (errors <= 3) console.error(`${q}: HTTP ${res.status} ${res.body.slice(0, 200)}`);
      continue;
    }
    latencies.push(res.ms);
    const n = (JSON.parse(res.body) as { items: unknown[] }).items.length;
    hits += n;
    if (n === 0) zeroHits++;
    timed.push({ q, ms: res.ms, hits: n });
  }
  latencies.sort((a, b) => a - b);
  return {
    p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99), max: latencies.at(-1) ?? NaN,
    mean: latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length), zeroHits, avgHits: hits / Math.max(1, latencies.length), errors,
    slowest: timed.sort((a, b) => b.ms - a.ms).slice(0, 3),
  };
}

function slowest(r: RunResult): string {
  return r.slowest.map((x) => `${x.q} ${fmt(x.ms)} ms (${x.hits} hits)`).join(', ');
}

async function main(): Promise<void> {
  if (process.argv[2] === '--serve') {
    await serveApp(process.argv[3]!, Number(process.argv[4]));
    return;
  }
  const total = Number(arg('tickets', '1000000'));
  const distinct = Number(arg('distinct', '100000'));
  const count = Number(arg('queries', '300'));
  const runs = Number(arg('runs', '3'));
  const out = arg('out', '');
  const admin = adminDbUrl();
  const url = withDatabase(admin, DB_NAME);
  if (process.argv.includes('--rebuild') || !(await databaseExists(admin, DB_NAME))) {
    await adminQuery(admin, `DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
    await adminQuery(admin, `CREATE DATABASE ${DB_NAME}`);
    await generate(url, total, distinct);
  }
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const { rows } = await c.query<{ n: string; size: string }>("SELECT count(*) AS n, pg_size_pretty(pg_total_relation_size('tickets')) AS size FROM tickets");
  await c.end();
  console.log(`tickets: ${rows[0]!.n} (${rows[0]!.size} with indexes)`);

  const load1 = loadavg()[0]!.toFixed(1);
  const app = await startAppProcess(thisFile, url, 10);
  const client = new Client(app.base, 4);
  const results: RunResult[] = [];
  try {
    const token = await agentToken(client, `searchagent${Date.now()}`);
    await queries(client, token, 30, 999); // warm the caches and the jieba dictionary
    for (let run = 1; run <= runs; run++) {
      const res = await queries(client, token, count, run);
      results.push(res);
      console.log(`run ${run}: ${count} queries; p50 ${fmt(res.p50)} p95 ${fmt(res.p95)} p99 ${fmt(res.p99)} max ${fmt(res.max)} ms; mean ${fmt(res.mean)} ms; avg hits ${fmt(res.avgHits)}/20; zero-hit ${res.zeroHits}; errors ${res.errors}; slowest ${slowest(res)}`);
    }
  } finally {
    client.close();
    await app.stop();
  }
  const m = (f: (r: RunResult) => number) => fmt(median(results.map(f)));
  const summary = `median of ${runs} runs over ${rows[0]!.n} tickets: p50 ${m((r) => r.p50)} ms, p95 ${m((r) => r.p95)} ms, p99 ${m((r) => r.p99)} ms`;
  console.log(summary);
  if (out) {
    appendFileSync(out, [
      '', `### Full-text search, ${new Date().toISOString()} (load avg ${load1} at start)`, '',
      `${rows[0]!.n} tickets (${rows[0]!.size} with indexes), ${count} queries per run, one at a time, \`limit=20\`.`, '',
      '| run | p50 ms | p95 ms | p99 ms | max ms | mean ms | avg hits | zero-hit queries | errors |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      ...results.map((r, i) => `| ${i + 1} | ${fmt(r.p50)} | ${fmt(r.p95)} | ${fmt(r.p99)} | ${fmt(r.max)} | ${fmt(r.mean)} | ${fmt(r.avgHits)} | ${r.zeroHits} | ${r.errors} |`),
      '', `**${summary}**`, '', `Slowest queries per run: ${results.map((r, i) => `run ${i + 1}: ${slowest(r)}`).join('; ')}.`, '',
    ].join('\n'));
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
