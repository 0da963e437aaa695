/**
 * Wallboard fan-out to supervisor sockets:
 *
 *   npx tsx bench/desktop-fanout.ts --sockets 200 --samples 60 --out bench/results/desktop.md
 *
 * The real service runs in a child process on a fresh database; the benchmark opens `--sockets`
 * desktop WebSockets (10 supervisors, several sockets each), each subscribed to one queue's
 * wallboard. A sample is one database change: a caller row and its queue entry inserted and
 * committed. Measured from that commit to the wallboard_delta carrying the new waiting count on
 * every socket:
 *   - "all sockets": the time until the last socket has it, per change (p50/p99 over samples);
 *   - "per socket": every socket's own latency (p50/p99 over all sockets and samples);
 *   - "spread": last minus first socket per change: the fan-out itself, without the wait for the
 *     next once-a-second tick, which is most of the end-to-end time by design.
 * Each change comes 1-2 s (uniformly random) after the previous one was seen everywhere, so
 * changes land at every phase of the tick.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import WebSocket from 'ws';
import { ADMIN, AGENT_PASSWORD, adminDbUrl, adminQuery, arg, Client, fmt, median, percentile, serveApp, startAppProcess, withDatabase } from './tickets-support.js';

const SELF = fileURLToPath(import.meta.url);

if (process.argv[2] === '--serve') {
  await serveApp(process.argv[3]!, Number(process.argv[4]));
} else {
  await main();
}

interface Sock {
  ws: WebSocket;
  /** waiting count → when this socket first saw it. */
  seen: Map<number, number>;
  wake: (() => void) | undefined;
}

async function openSocket(base: string, token: string, queueId: string): Promise<Sock> {
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/api/v1/desktop/ws`);
  const sock: Sock = { ws, seen: new Map(), wake: undefined };
  let full!: () => void;
  const gotFull = new Promise<void>((r) => (full = r));
  ws.on('message', (data) => {
    const t = performance.now(); // before parsing: the benchmark's own JSON work is not the server's
    const m = JSON.parse((data as Buffer).toString('utf8')) as { type: string; queues?: Record<string, { waiting?: number }> };
    if (m.type === 'ping') ws.send('{"v":1,"type":"pong"}');
    if (m.type === 'wallboard') full();
    const w = m.queues?.[queueId]?.waiting;
    if ((m.type === 'wallboard_delta' || m.type === 'wallboard') && w !== undefined && !sock.seen.has(w)) {
      sock.seen.set(w, t);
      sock.wake?.();
    }
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ v: 1, type: 'hello', token }));
  ws.send(JSON.stringify({ v: 1, type: 'subscribe_wallboard', queueIds: [queueId] }));
  await gotFull;
  return sock;
}

async function seenBy(sock: Sock, waiting: number, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (!sock.seen.has(waiting)) {
    if (Date.now() > deadline) throw new Error(`socket never saw waiting=${waiting}`);
    await new Promise<void>((r) => {
      sock.wake = r;
      setTimeout(r, 200);
    });
  }
  return sock.seen.get(waiting)!;
}

async function main(): Promise<void> {
  const sockets = Number(arg('sockets', '200'));
  const samples = Number(arg('samples', '60'));
  const supervisors = Number(arg('supervisors', '10'));
  const out = arg('out', '');
  const load0 = loadavg()[0]!.toFixed(2);
  const admin = adminDbUrl();
  const dbName = `hotline_bench_desktop_${Date.now()}`;
  await adminQuery(admin, `CREATE DATABASE ${dbName}`);
  const dbUrl = withDatabase(admin, dbName);
  const app = await startAppProcess(SELF, dbUrl, 10);
  const http = new Client(app.base, 8);
  const sql = new pg.Client({ connectionString: dbUrl });
  await sql.connect();
  try {
    const adminToken = (await http.json<{ token: string }>('POST', '/api/v1/auth/login', null, ADMIN)).token;
    const queue = await http.json<{ id: string }>('POST', '/api/v1/queues', adminToken, { code: 'bench-general', name: '综合' });
    const tokens: string[] = [];
    for (let i = 0; i < supervisors; i++) {
      const username = `bench-sup-${i}`;
      await http.json('POST', '/api/v1/users', adminToken, { username, displayName: `班长${i}`, password: AGENT_PASSWORD, role: 'supervisor' });
      tokens.push((await http.json<{ token: string }>('POST', '/api/v1/auth/login', null, { username, password: AGENT_PASSWORD })).token);
    }
    console.log(`opening ${sockets} wallboard sockets…`);
    const socks: Sock[] = [];
    for (let i = 0; i < sockets; i += 20) {
      socks.push(...await Promise.all(Array.from({ length: Math.min(20, sockets - i) }, (_, j) => openSocket(app.base, tokens[(i + j) % tokens.length]!, queue.id))));
    }

    const all: number[] = [];
    const spread: number[] = [];
    const perSocket: number[] = [];
    app.resetCpu();
    for (let s = 1; s <= samples; s++) {
      await new Promise((r) => setTimeout(r, 1000 + Math.random() * 1000));
      const id = randomUUID();
      await sql.query('BEGIN');
      await sql.query(`INSERT INTO calls (id, node_id, channel_id, direction, state, queue_id, arrived_at, queued_at) VALUES ($1, 'ast1', $2, 'inbound', 'queued', $3, now(), now())`, [id, `bench-${id}`, queue.id]);
      await sql.query(`INSERT INTO queue_entries (call_id, queue_id, node_id, priority, enqueued_at, state) VALUES ($1, $2, 'ast1', 0, now(), 'waiting')`, [id, queue.id]);
      await sql.query('COMMIT');
      const t0 = performance.now();
      const times = await Promise.all(socks.map((k) => seenBy(k, s)));
      const rel = times.map((t) => t - t0);
      perSocket.push(...rel);
      all.push(Math.max(...rel));
      spread.push(Math.max(...rel) - Math.min(...rel));
      if (s % 10 === 0) console.log(`  ${s}/${samples}: all sockets ${fmt(Math.max(...rel))} ms, spread ${fmt(spread.at(-1)!)} ms`);
    }
    const cpu = await app.cpuPct();
    const sort = (xs: number[]) => [...xs].sort((a, b) => a - b);
    const [a, p, sp] = [sort(all), sort(perSocket), sort(spread)];
    const row = `| ${new Date().toISOString().slice(0, 16)} | ${sockets} | ${samples} | ${fmt(percentile(a, 50))} / ${fmt(percentile(a, 99))} | ${fmt(percentile(p, 50))} / ${fmt(percentile(p, 99))} | ${fmt(median(spread))} / ${fmt(percentile(sp, 99))} | ${cpu}% | ${load0} |`;
    console.log('\n| when | sockets | changes | all sockets p50 / p99 (ms) | per socket p50 / p99 (ms) | spread p50 / p99 (ms) | app CPU | load |');
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
    console.log(row);
    if (out) appendFileSync(out, `${row}\n`);
    for (const k of socks) k.ws.close();
  } finally {
    await sql.end();
    http.close();
    await app.stop();
    await adminQuery(admin, `DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  }
}
