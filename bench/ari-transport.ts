/**
 * ARI REST transport benchmark: `keepalive` (ours) vs `ari-client`, against the fake Asterisk
 * running in a child process (so its CPU does not count as our event-loop lag).
 *
 *   npx tsx bench/ari-transport.ts [--seconds 20] [--rates 100,300] [--transports keepalive,ari-client] [--burn 0] [--out bench/results/ari-transport.md]
 *
 * `--burn N` runs N extra busy-looping processes during the runs, to see the transports on a
 * contended machine (CI boxes, a node shared with Asterisk). Results are appended to `--out`.
 *
 * Each call: the fake places an inbound call into Stasis; the adapter answers, plays a short
 * prompt, waits for PlaybackFinished and hangs up. A call succeeds when all three requests
 * succeeded and StasisEnd arrived within 10 s. Reported per run: calls ok/failed, REST latency
 * p50/p95/p99/max, event-loop delay p99/max, peak RSS of the adapter process, peak open sockets.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { createTelephony } from '../src/adapters/ari/index.js';
import { createTransport } from '../src/adapters/ari/manager.js';
import type { AriTransport } from '../src/adapters/ari/transport.js';
import type { TransportKind } from '../src/adapters/ari/types.js';

const thisFile = fileURLToPath(import.meta.url);
const LAG_RESOLUTION_MS = 1;

// ------------------------------------------------------------------------------------------
// Child: the fake Asterisk, driven over IPC

type ToChild = { cmd: 'load'; rate: number; seconds: number } | { cmd: 'stats' };
type FromChild =
  | { kind: 'ready'; url: string; username: string; password: string }
  | { kind: 'placed'; placed: number; failed: number }
  | { kind: 'stats'; cpuPct: number };

async function serveFake(): Promise<void> {
  const { startFakeAsterisk } = await import('../test/fake-asterisk/index.js');
  const fake = await startFakeAsterisk({ playbackMs: 50 });
  const send = (m: FromChild): void => { process.send?.(m); };
  send({ kind: 'ready', url: fake.url, username: fake.username, password: fake.password });
  let cpu0 = process.cpuUsage();
  let wall0 = performance.now();
  process.on('message', (m: ToChild) => {
    if (m.cmd === 'stats') {
      const c = process.cpuUsage(cpu0);
      send({ kind: 'stats', cpuPct: Math.round(((c.user + c.system) / 1000 / (performance.now() - wall0)) * 100) });
      return;
    }
    cpu0 = process.cpuUsage();
    wall0 = performance.now();
    let sent = 0;
    let placed = 0;
    let failed = 0;
    const total = m.rate * m.seconds;
    const t0 = performance.now();
    const settled = (): void => {
      if (sent === total && placed + failed === total) send({ kind: 'placed', placed, failed });
    };
    // Paced by the clock, not by setInterval ticks, so a busy loop catches up instead of drifting.
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * m.rate));
      while (sent < due) {
        const n = sent++;
        fake.inboundCall({ callerNumber: `+86138${String(n).padStart(8, '0')}` }).then(
          () => { placed++; settled(); },
          () => { failed++; settled(); },
        );
      }
      if (sent >= total) clearInterval(timer);
    }, 5);
  });
  process.on('disconnect', () => { void fake.close().finally(() => process.exit(0)); });
}

// ------------------------------------------------------------------------------------------
// Parent: the adapter under load

interface RunResult {
  transport: TransportKind; rate: number; seconds: number; offered: number; ok: number; failed: number;
  errors: Record<string, number>; p50: number; p95: number; p99: number; max: number;
  lagP99: number; lagMax: number; rssPeakMb: number; socketsPeak: number; cpuPct: number; fakeCpuPct: number; drainSeconds: number; loadAvg: number;
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

async function startChild(): Promise<{ child: ChildProcess; ready: Extract<FromChild, { kind: 'ready' }> }> {
  const child = fork(thisFile, ['--serve-fake'], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ready = await new Promise<Extract<FromChild, { kind: 'ready' }>>((resolve, reject) => {
    child.once('message', (m: FromChild) => (m.kind === 'ready' ? resolve(m) : reject(new Error('unexpected message'))));
    child.once('exit', (code) => reject(new Error(`fake exited with ${String(code)}`)));
  });
  return { child, ready };
}

async function run(kind: TransportKind, rate: number, seconds: number): Promise<RunResult> {
  // The machine is shared; the 1-minute load average says how contended the run was.
  const loadAvg = Math.round((loadavg()[0] ?? 0) * 10) / 10;
  const { child, ready } = await startChild();
  const latencies: number[] = [];
  const telephony = createTelephony(
    { nodes: [{ id: 'bench', url: ready.url, username: ready.username, password: ready.password }], app: 'hotline', requestTimeoutMs: 5000, transport: kind },
    pino({ level: 'silent' }),
    {
      transportFactory: (k, o) => {
        const inner = createTransport(k, o);
        // Times every REST request (the resync lists included) without touching the transport.
        const timed: AriTransport = {
          kind: inner.kind, prepare: () => inner.prepare(), stats: () => inner.stats(), close: () => inner.close(),
          send: async (req) => {
            const t = performance.now();
            try {
              return await inner.send(req);
            } finally {
              latencies.push(performance.now() - t);
            }
          },
        };
        return timed;
      },
    },
  );
  await telephony.start();

  let ok = 0;
  let failed = 0;
  const errors: Record<string, number> = {};
  const fail = (err: unknown): void => {
    failed++;
    const code = (err as { code?: string }).code ?? (err instanceof Error ? err.message.slice(0, 60) : String(err));
    errors[code] = (errors[code] ?? 0) + 1;
  };
  const pending = new Map<string, { timer: NodeJS.Timeout; hungUp: boolean }>();
  telephony.on('StasisStart', async (e) => {
    const node = telephony.node(e.nodeId);
    const id = e.channel.id;
    const timer = setTimeout(() => { if (pending.delete(id)) fail(new Error('call not finished in 10 s')); }, 10_000);
    pending.set(id, { timer, hungUp: false });
    try {
      await node.channels.answer(id);
      await node.channels.play(id, 'sound:hello-world');
    } catch (err) {
      clearTimeout(timer);
      if (pending.delete(id)) fail(err);
      await node.channels.hangup(id).catch(() => undefined);
    }
  });
  telephony.on('PlaybackFinished', async (e) => {
    const id = e.playback.target_uri.replace(/^channel:/, '');
    const p = pending.get(id);
    if (!p) return;
    try {
      await telephony.node(e.nodeId).channels.hangup(id);
      p.hungUp = true;
    } catch (err) {
      clearTimeout(p.timer);
      pending.delete(id);
      fail(err);
    }
  });
  telephony.on('StasisEnd', (e) => {
    const p = pending.get(e.channel.id);
    if (!p) return;
    clearTimeout(p.timer);
    pending.delete(e.channel.id);
    if (p.hungUp) ok++;
    else fail(new Error('caller gone before our hangup'));
  });

  const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  lag.enable();
  let rssPeak = 0;
  let socketsPeak = 0;
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  // Open TCP sockets of this process (REST + the event socket), comparable across transports.
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    socketsPeak = Math.max(socketsPeak, process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length);
  }, 100);

  child.send({ cmd: 'load', rate, seconds } satisfies ToChild);
  const placed = await new Promise<Extract<FromChild, { kind: 'placed' }>>((resolve) => {
    child.on('message', (m: FromChild) => { if (m.kind === 'placed') resolve(m); });
  });
  const drainStart = performance.now();
  while (pending.size > 0 && performance.now() - drainStart < 15_000) await new Promise((r) => setTimeout(r, 50));
  const drainSeconds = (performance.now() - drainStart) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuPct = ((cpu.user + cpu.system) / 1000 / (performance.now() - wall0)) * 100;
  clearInterval(sampler);
  lag.disable();
  child.send({ cmd: 'stats' } satisfies ToChild);
  const fakeCpuPct = await new Promise<number>((resolve) => {
    child.on('message', (m: FromChild) => { if (m.kind === 'stats') resolve(m.cpuPct); });
  });
  for (const p of pending.values()) clearTimeout(p.timer);
  failed += placed.failed;
  if (placed.failed) errors.place_failed = placed.failed;

  await telephony.stop();
  child.disconnect();
  await new Promise((r) => child.once('exit', r));

  const sorted = latencies.sort((a, b) => a - b);
  const r2 = (n: number): number => Math.round(n * 10) / 10;
  return {
    transport: kind, rate, seconds, offered: rate * seconds, ok, failed, errors,
    p50: r2(pct(sorted, 50)), p95: r2(pct(sorted, 95)), p99: r2(pct(sorted, 99)), max: r2(sorted[sorted.length - 1] ?? 0),
    // The histogram includes the sampling interval itself; report only the delay beyond it.
    lagP99: r2(Math.max(0, lag.percentile(99) / 1e6 - LAG_RESOLUTION_MS)), lagMax: r2(Math.max(0, lag.max / 1e6 - LAG_RESOLUTION_MS)),
    rssPeakMb: Math.round(rssPeak / 1048576), socketsPeak, cpuPct: Math.round(cpuPct), fakeCpuPct, drainSeconds: r2(drainSeconds), loadAvg,
  };
}

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? dflt) : dflt;
}

async function main(): Promise<void> {
  const seconds = Number(arg('seconds', '20'));
  const rates = arg('rates', '100,300').split(',').map(Number);
  const kinds = arg('transports', 'keepalive,ari-client').split(',') as TransportKind[];
  const out = arg('out', 'bench/results/ari-transport.md');
  const burners = Array.from({ length: Number(arg('burn', '0')) }, () => fork(thisFile, ['--burn-cpu'], { execArgv: process.execArgv, stdio: ['ignore', 'ignore', 'ignore', 'ipc'] }));
  const results: RunResult[] = [];
  try {
    for (const rate of rates) {
      for (const kind of kinds) {
        console.log(`running ${kind} at ${rate} calls/s for ${seconds} s …`);
        const r = await run(kind, rate, seconds);
        console.log(JSON.stringify(r));
        results.push(r);
      }
    }
  } finally {
    for (const b of burners) b.kill();
  }
  const rows = results.map((r) =>
    `| ${r.transport} | ${r.rate} | ${r.offered} | ${r.ok} | ${r.failed} | ${r.p50} | ${r.p95} | ${r.p99} | ${r.max} | ${r.lagP99} | ${r.lagMax} | ${r.rssPeakMb} | ${r.socketsPeak} | ${r.cpuPct} | ${r.fakeCpuPct} | ${r.loadAvg} | ${Object.entries(r.errors).map(([k, v]) => `${k}: ${v}`).join(', ') || '-'} |`);
  const title = [
    '# ARI REST transport benchmark',
    '',
    'Recorded by `bench/ari-transport.ts` against the fake Asterisk (test/fake-asterisk) in a child process on the same machine (2 shared cores). Each call: inbound call into Stasis → answer → play `sound:hello-world` (50 ms in the fake) → PlaybackFinished → hangup → StasisEnd. Latency is per REST request, measured around the transport (resync lists included), so it includes time queued for a socket. Event-loop delay (beyond the 1 ms sampling interval), RSS, open TCP sockets (REST + event socket) and CPU are of the adapter process; "fake CPU" is the fake Asterisk process. "load avg" is the machine\'s 1-minute load average when the run started.',
    '',
  ].join('\n');
  const md = [
    `## Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC: ${seconds} s per rate${burners.length ? `, ${burners.length} busy-looping competitor process(es)` : ''}, Node ${process.version}`,
    '',
    '| transport | calls/s | offered | ok | failed | p50 ms | p95 ms | p99 ms | max ms | loop p99 ms | loop max ms | RSS peak MB | TCP sockets peak | CPU % of a core | fake CPU % | load avg | errors |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
  if (!existsSync(out)) writeFileSync(out, `${title}\n`);
  appendFileSync(out, `\n${md}`);
  console.log(md);
}

/** Spins in 50 ms slices and exits as soon as the parent is gone. */
function burn(): void {
  const t = Date.now();
  while (Date.now() - t < 50) Math.sqrt(Math.random());
  if (!process.connected) process.exit(0);
  setImmediate(burn);
}

if (process.argv.includes('--serve-fake')) await serveFake();
else if (process.argv.includes('--burn-cpu')) burn();
else await main();
