/**
 * Screen-pop latency with many desktops connected, against the fake Asterisk:
 *
 *   npx tsx bench/desktop-screenpop.ts --desktops 2000 --rate 100 --seconds 60 --out bench/results/desktop.md
 *
 * `--desktops` WebSocket desktops stay open (up to 1,000 agents, the extension range 1000-1999; above
 * that each agent has several tabs open), each agent logged in at their extension and ready.
 * Callers dial at `--rate` per second and go straight to the queue; each
 * offer's screen-pop (`call.offered`) is timed from the ACD's offer (`offeredAt`, the moment the
 * decision was taken) to the message arriving at the desktop — which includes building it (the
 * caller's history, the draft ticket) and storing it in the agent's resumable log. Phones answer
 * after 0.5 s, agents talk 2–4 s and hang up, callers press 1 at the survey.
 */
import { appendFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { startFakeAsterisk, type AriEvent } from '../test/fake-asterisk/index.js';
import { mb, pool, serveCallsApp, setupCentre, startCallsApp, type Mem } from './calls-support.js';
import { adminDbUrl, adminQuery, arg, Client, fmt, median, percentile, withDatabase } from './tickets-support.js';

const SELF = fileURLToPath(import.meta.url);

if (process.argv[2] === '--serve') {
  await serveCallsApp(process.argv[3]!, process.argv[4]!, Number(process.argv[5]));
} else {
  await main();
}

async function main(): Promise<void> {
  const desktops = Number(arg('desktops', '2000'));
  const rate = Number(arg('rate', '100'));
  const seconds = Number(arg('seconds', '60'));
  const warmup = Number(arg('warmup', '5'));
  const out = arg('out', '');
  const load0 = loadavg()[0]!.toFixed(2);
  const admin = adminDbUrl();
  const dbName = `hotline_bench_pop_${Date.now()}`;
  await adminQuery(admin, `CREATE DATABASE ${dbName}`);
  const fake = await startFakeAsterisk({ playbackMs: 1000, timeScale: 1 });
  const app = await startCallsApp(SELF, withDatabase(admin, dbName), fake.url, Number(arg('pool', '20')));
  const client = new Client(app.base, 32);

  // Agent extensions are 1000-1999 (the dialplan's _1XXX): above 1,000 desktops, agents keep
  // several desktops open (tabs), and every tab gets the screen-pop.
  const agentsN = Math.min(desktops, 1000);
  const tabs = Math.ceil(desktops / agentsN);
  console.log(`setting up ${agentsN} agents, ${tabs} desktop(s) each…`);
  const centre = await setupCentre(client, agentsN, { wrapUpSeconds: 1, ringTimeoutSeconds: 20 });
  for (const a of centre.agents) fake.setEndpoint(`PJSIP/agent${a.extension}`, { outcome: 'answer', answerAfterMs: 500, context: 'agents' });

  console.log(`opening ${desktops} desktops…`);
  const wsBase = app.base.replace(/^http/, 'ws');
  const latencies: number[] = [];
  // Where the time goes: offer → message stored in the agent's log (built, recorded) → received.
  const toStored: number[] = [];
  const toReceived: number[] = [];
  let measuring = false;
  let pops = 0;
  const sockets: WebSocket[] = [];
  const seats = centre.agents.flatMap((a) => Array.from({ length: tabs }, () => a)).slice(0, desktops);
  await pool(seats, 50, async (a) => {
    const ws = new WebSocket(`${wsBase}/api/v1/desktop/ws`, { headers: { authorization: `Bearer ${a.token}` } });
    sockets.push(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('error', reject);
      ws.on('message', (data) => {
        const m = JSON.parse((data as Buffer).toString()) as { type: string; id?: string; ok?: boolean; at?: string; payload?: { offeredAt?: string } };
        if (m.type === 'ping') ws.send('{"v":1,"type":"pong"}');
        else if (m.type === 'welcome') ws.send(JSON.stringify({ v: 1, type: 'command', id: 'login', command: { type: 'login', extension: a.extension } }));
        else if (m.type === 'command_result' && m.id === 'login') {
          if (!m.ok) reject(new Error(`login ${a.extension}: ${JSON.stringify(m)}`));
          else resolve();
        } else if (m.type === 'call.offered' && m.payload?.offeredAt) {
          pops++;
          if (measuring) {
            const now = Date.now();
            latencies.push(now - Date.parse(m.payload.offeredAt));
            if (m.at) {
              toStored.push(Date.parse(m.at) - Date.parse(m.payload.offeredAt));
              toReceived.push(now - Date.parse(m.at));
            }
          }
        }
      });
      ws.once('open', () => ws.send('{"v":1,"type":"hello"}'));
    });
  });

  // The agents' phones and the callers.
  const callerOf = new Map<string, string>();
  fake.onEvent((e: AriEvent) => {
    const ch = e.channel as { id: string; name: string } | undefined;
    if (e.type === 'StasisStart' && ch && (e.args as string[])[0] === 'agent') {
      setTimeout(() => {
        try {
          fake.hangup(ch.id);
        } catch {
          // gone
        }
      }, 2000 + Math.random() * 2000);
    } else if (e.type === 'ChannelEnteredBridge' && ch && !ch.name.startsWith('PJSIP/agent') && (e.bridge as { bridge_type: string }).bridge_type === 'mixing') {
      for (const other of (e.bridge as { channels: string[] }).channels) if (other !== ch.id) callerOf.set(other, ch.id);
    } else if (e.type === 'ChannelHangupRequest' && ch?.name.startsWith('PJSIP/agent')) {
      const caller = callerOf.get(ch.id);
      callerOf.delete(ch.id);
      if (caller) {
        setTimeout(() => {
          try {
            fake.sendDtmf(caller, '1');
          } catch {
            // gone
          }
        }, 500);
      }
    }
  });

  console.log(`load: ${rate} calls/s for ${warmup} + ${seconds} s`);
  const t0 = performance.now();
  const total = Math.round(rate * (warmup + seconds));
  let placed = 0;
  await app.probe('cpu-reset');
  await new Promise<void>((resolve) => {
    const tick = () => {
      const elapsed = (performance.now() - t0) / 1000;
      if (!measuring && elapsed >= warmup) {
        measuring = true;
        void app.probe('cpu-reset');
      }
      const due = Math.min(total, Math.floor(elapsed * rate));
      while (placed < due) {
        placed++;
        void fake.inboundCall({ callerNumber: `137${String(placed).padStart(8, '0')}`, language: 'zh' }).catch(() => undefined);
      }
      if (placed >= total) return resolve();
      setTimeout(tick, 5);
    };
    tick();
  });
  await new Promise((r) => setTimeout(r, 3000));
  const cpu = await app.probe<number>('cpu');
  const mem = await app.probe<Mem>('mem');
  const s = [...latencies].sort((x, y) => x - y);
  const report = [
    `### desktop-screenpop ${new Date().toISOString()} — ${desktops} desktops (${agentsN} agents × ${tabs}), ${rate} offers/s × ${seconds} s (load average at start ${load0})`,
    '',
    `- screen-pops measured ${s.length} (of ${pops}); offer → desktop: p50 ${fmt(median(s))} ms, p95 ${fmt(percentile(s, 95))} ms, p99 ${fmt(percentile(s, 99))} ms, max ${fmt(s.at(-1) ?? NaN)} ms`,
    `- of which offer → stored in the agent's log p50 ${fmt(median(toStored))} / p99 ${fmt(percentile([...toStored].sort((x, y) => x - y), 99))} ms, stored → received p50 ${fmt(median(toReceived))} / p99 ${fmt(percentile([...toReceived].sort((x, y) => x - y), 99))} ms`,
    `- service CPU ${cpu} % of one core; heap after GC ${mb(mem.heapUsed)} MB, RSS ${mb(mem.rss)} MB`,
    '',
  ].join('\n');
  console.log(report);
  if (out) appendFileSync(out, `${report}\n`);
  for (const ws of sockets) ws.terminate();
  client.close();
  await app.stop();
  await fake.close();
  await adminQuery(admin, `DROP DATABASE ${dbName} WITH (FORCE)`);
  process.exit(0);
}
