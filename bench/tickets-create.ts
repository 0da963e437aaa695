/**
 * Sustained ticket creation through the real HTTP API: POST /api/v1/tickets (phone intake,
 * accepted at once) against the whole app in a child process on 127.0.0.1, at a fixed target
 * rate (open loop, so a slow server shows as a lower achieved rate and queueing, not as politely
 * fewer requests), with keep-alive and a bound on requests in flight.
 *
 *   npx tsx bench/tickets-create.ts [--rate 300] [--seconds 60] [--warmup 5] [--concurrency 64] [--runs 3]
 *                                   [--pool 20] [--database-url postgres://…/postgres] [--out bench/results/tickets.md]
 *
 * Each run uses a fresh database. Reported per run: achieved rate, latency p50/p95/p99/max, errors,
 * app-process CPU, and how long the event consumers (duplicates analysis, SLA, webhooks) took
 * to drain the outbox after the load stopped.
 */
import { appendFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { generateRequest, rng } from './tickets-corpus.js';
import { adminDbUrl, adminQuery, agentToken, arg, Client, fmt, median, percentile, serveApp, startAppProcess, withDatabase } from './tickets-support.js';

const thisFile = fileURLToPath(import.meta.url);

interface RunResult { sent: number; ok: number; errors: Record<string, number>; seconds: number; rate: number; p50: number; p95: number; p99: number; max: number; cpu: number; drainSeconds: number; late: number }

async function load(client: Client, token: string, rate: number, seconds: number, concurrency: number, seed: number, record: boolean): Promise<Omit<RunResult, 'cpu' | 'drainSeconds'>> {
  const r = rng(seed);
  const total = Math.round(rate * seconds);
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  let inFlight = 0;
  let ok = 0;
  let late = 0;
  let release: (() => void) | undefined;
  const t0 = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((res) => setTimeout(res, wait));
    else if (wait < -100) late++; // the schedule slipped by more than 100 ms
    while (inFlight >= concurrency) await new Promise<void>((res) => { release = res; });
    const req = generateRequest(r);
    // A fifth of the callers call more than once: the duplicates consumer has real work.
    const phone = `139${String(Math.floor(r() * (r() < 0.2 ? 2000 : 5_000_000))).padStart(8, '0')}`;
    const body = {
      channel: 'phone', callId: `bench-${seed}-${i}`, type: req.type, title: req.title, content: req.content,
      address: req.address, areaCode: req.areaCode, caller: { phone },
    };
    inFlight++;
    pending.push(client.send('POST', '/api/v1/tickets', token, body).then((res) => {
      if (res.status === 201) {
        ok++;
        latencies.push(res.ms);
      } else {
        errors[String(res.status)] = (errors[String(res.status)] ?? 0) + 1;
        if (record && Object.values(errors).reduce((a, b) => a + b, 0) <= 3) console.error(`HTTP ${res.status}: ${res.body.slice(0, 300)}`);
      }
    }, (err: Error) => {
      errors[err.message] = (errors[err.message] ?? 0) + 1;
    }).finally(() => {
      inFlight--;
      release?.();
    }));
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    sent: total, ok, errors, seconds: elapsed, rate: ok / elapsed, late,
    p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99), max: latencies.at(-1) ?? NaN,
  };
}

async function outboxDrained(url: string, timeoutMs: number): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const t0 = performance.now();
  try {
    for (;;) {
      const { rows } = await c.query<{ n: string }>('SELECT count(*) AS n FROM outbox WHERE published_at IS NULL');
      if (Number(rows[0]!.n) === 0 || performance.now() - t0 > timeoutMs) return (performance.now() - t0) / 1000;
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await c.end();
  }
}

async function oneRun(run: number, opts: { rate: number; seconds: number; warmup: number; concurrency: number; pool: number }): Promise<RunResult> {
  const admin = adminDbUrl();
  const name = `hotline_bench_create_${process.pid}_${run}`;
  await adminQuery(admin, `DROP DATABASE IF EXISTS ${name}`);
  await adminQuery(admin, `CREATE DATABASE ${name}`);
  const url = withDatabase(admin, name);
  const app = await startAppProcess(thisFile, url, opts.pool);
  const client = new Client(app.base, opts.concurrency);
  try {
    const token = await agentToken(client, 'benchagent');
    if (opts.warmup > 0) await load(client, token, opts.rate, opts.warmup, opts.concurrency, 1000 + run, false);
    await outboxDrained(url, 60_000);
    // A running system has planner statistics; a fresh database gets them from autovacuum only a
    // minute or so later, and until then duplicate analysis plans as if the tables were empty.
    await adminQuery(url, 'ANALYZE');
    app.resetCpu();
    const res = await load(client, token, opts.rate, opts.seconds, opts.concurrency, run + 1, true);
    const cpu = await app.cpuPct();
    const drainSeconds = await outboxDrained(url, 300_000);
    return { ...res, cpu, drainSeconds };
  } finally {
    client.close();
    await app.stop();
    await adminQuery(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === '--serve') {
    await serveApp(process.argv[3]!, Number(process.argv[4]));
    return;
  }
  const opts = {
    rate: Number(arg('rate', '300')), seconds: Number(arg('seconds', '60')), warmup: Number(arg('warmup', '5')),
    concurrency: Number(arg('concurrency', '64')), pool: Number(arg('pool', '20')),
  };
  const runs = Number(arg('runs', '3'));
  const out = arg('out', '');
  const load1 = loadavg()[0]!.toFixed(1);
  const results: RunResult[] = [];
  for (let run = 1; run <= runs; run++) {
    const r = await oneRun(run, opts);
    results.push(r);
    console.log(`run ${run}: ${r.ok}/${r.sent} ok in ${fmt(r.seconds)} s = ${fmt(r.rate)}/s; p50 ${fmt(r.p50)} p95 ${fmt(r.p95)} p99 ${fmt(r.p99)} max ${fmt(r.max)} ms; errors ${JSON.stringify(r.errors)}; late ${r.late}; app CPU ${r.cpu}%; outbox drained ${fmt(r.drainSeconds)} s after`);
  }
  const m = (f: (r: RunResult) => number) => fmt(median(results.map(f)));
  const summary = `median of ${runs}: ${m((r) => r.rate)}/s, p50 ${m((r) => r.p50)} ms, p95 ${m((r) => r.p95)} ms, p99 ${m((r) => r.p99)} ms`;
  console.log(summary);
  if (out) {
    const rows = results.map((r, i) => `| ${i + 1} | ${opts.rate} | ${r.ok}/${r.sent} | ${fmt(r.rate)} | ${fmt(r.p50)} | ${fmt(r.p95)} | ${fmt(r.p99)} | ${fmt(r.max)} | ${JSON.stringify(r.errors)} | ${r.cpu} % | ${fmt(r.drainSeconds)} s |`);
    appendFileSync(out, [
      '', `### Ticket creation, ${new Date().toISOString()} (load avg ${load1} at start)`, '',
      `${opts.seconds} s per run after ${opts.warmup} s warm-up, ${opts.concurrency} requests in flight at most, app pool ${opts.pool}.`, '',
      '| run | target/s | ok/sent | achieved/s | p50 ms | p95 ms | p99 ms | max ms | errors | app CPU | outbox drained after |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |', ...rows, '', `**${summary}**`, '',
    ].join('\n'));
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
