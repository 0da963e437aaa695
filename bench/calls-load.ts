/**
 * Sustained inbound load through the whole call flow, against the fake Asterisk:
 *
 *   npx tsx bench/calls-load.ts --rate 100 --seconds 300 --agents 500 --out bench/results/calls.md
 *
 * Callers dial 12345 at `--rate` per second (open loop) and go straight to the queue (no menu is
 * published). 500 agents are logged in; their phones answer after a random 1–3 s ring and they
 * talk 5–30 s, then hang up; the caller presses 1 at the survey. Callers wait at most a random
 * `--patience` (20–90 s) before giving up, as real callers do when 100 calls/s meet ~25 calls/s
 * of agent capacity. After the load, arrivals stop and every call is let finish.
 *
 * Checked from the database afterwards: every call the fake placed has a row and ended, none
 * `lost` or `failed`; no agent ever had two offers overlapping in time; no call was answered
 * twice or offered to two agents at once; no offer and no queue entry is left. Reported: calls
 * per disposition, offers, answer times, the service's CPU, and its memory (heap after a full
 * GC and RSS) at baseline, at the end of the load, and after the drain.
 */
import { appendFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startFakeAsterisk, type AriEvent } from '../test/fake-asterisk/index.js';
import { mb, pool, serveCallsApp, setupCentre, startCallsApp, type CallsProbe, type Mem } from './calls-support.js';
import { adminDbUrl, adminQuery, arg, Client, percentile, withDatabase } from './tickets-support.js';

const SELF = fileURLToPath(import.meta.url);

if (process.argv[2] === '--serve') {
  await serveCallsApp(process.argv[3]!, process.argv[4]!, Number(process.argv[5]));
} else {
  await main();
}

async function main(): Promise<void> {
  const rate = Number(arg('rate', '100'));
  const seconds = Number(arg('seconds', '300'));
  const agentsN = Number(arg('agents', '500'));
  const [patMin, patMax] = arg('patience', '20-90').split('-').map(Number) as [number, number];
  const out = arg('out', '');
  const load0 = loadavg()[0]!.toFixed(2);
  const admin = adminDbUrl();
  const dbName = `hotline_bench_calls_${Date.now()}`;
  await adminQuery(admin, `CREATE DATABASE ${dbName}`);
  const dbUrl = withDatabase(admin, dbName);
  const fake = await startFakeAsterisk({ playbackMs: 1500, timeScale: 1 });
  const app = await startCallsApp(SELF, dbUrl, fake.url, 20);
  const client = new Client(app.base, 32);
  const rnd = (a: number, b: number) => a + Math.random() * (b - a);

  console.log(`setting up ${agentsN} agents…`);
  const centre = await setupCentre(client, agentsN);
  for (const a of centre.agents) fake.setEndpoint(`PJSIP/agent${a.extension}`, { outcome: 'answer', answerAfterMs: rnd(1000, 3000), context: 'agents' });
  await pool(centre.agents, 16, async (a) => void (await client.json('POST', '/api/v1/agents/me/login', a.token, { state: 'ready' })));

  // The agents' phones and the callers, driven from Asterisk's events.
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };
  const safely = (fn: () => void) => {
    try {
      fn();
    } catch {
      // the channel is already gone
    }
  };
  const connected = new Set<string>();
  const callerOfAgentLeg = new Map<string, string>();
  let answeredLegs = 0;
  fake.onEvent((e: AriEvent) => {
    const ch = e.channel as { id: string; name: string } | undefined;
    if (e.type === 'StasisStart' && ch && (e.args as string[])[0] === 'agent') {
      answeredLegs++;
      const ext = ch.name.slice('PJSIP/agent'.length, 'PJSIP/agent'.length + 4);
      // Next ring of this phone: another random 1–3 s.
      fake.setEndpoint(`PJSIP/agent${ext}`, { outcome: 'answer', answerAfterMs: rnd(1000, 3000) });
      later(rnd(5000, 30_000), () => safely(() => fake.hangup(ch.id)));
    } else if (e.type === 'ChannelEnteredBridge' && ch && (e.bridge as { bridge_type: string }).bridge_type === 'mixing') {
      const bridge = e.bridge as { channels: string[] };
      if (!ch.name.startsWith('PJSIP/agent')) connected.add(ch.id);
      const agentLeg = bridge.channels.find((id) => id !== ch.id);
      if (!ch.name.startsWith('PJSIP/agent') && agentLeg) callerOfAgentLeg.set(agentLeg, ch.id);
    } else if (e.type === 'ChannelHangupRequest' && ch?.name.startsWith('PJSIP/agent')) {
      const caller = callerOfAgentLeg.get(ch.id);
      callerOfAgentLeg.delete(ch.id);
      // The survey: 1 = 满意.
      if (caller) later(800, () => safely(() => fake.sendDtmf(caller, '1')));
    }
  });

  console.log(`load: ${rate} calls/s for ${seconds} s`);
  const baseline = await app.probe<Mem>('mem');
  await app.probe('cpu-reset');
  const t0 = performance.now();
  let placed = 0;
  let placeErrors = 0;
  const total = Math.round(rate * seconds);
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
      while (placed < due) {
        placed++;
        const n = `139${String(placed).padStart(8, '0')}`;
        void fake.inboundCall({ callerNumber: n, language: 'zh' }).then((id) => {
          later(rnd(patMin, patMax) * 1000, () => {
            if (!connected.has(id)) safely(() => fake.hangup(id));
          });
        }).catch(() => placeErrors++);
      }
      if (placed >= total) return resolve();
      setTimeout(tick, 5);
    };
    tick();
  });
  const loadSeconds = (performance.now() - t0) / 1000;
  const cpu = await app.probe<number>('cpu');
  const atEnd = await app.probe<Mem>('mem');
  console.log(`placed ${placed} calls in ${loadSeconds.toFixed(1)} s; draining…`);

  const sql = new pg.Client({ connectionString: dbUrl });
  await sql.connect();
  const drainStart = performance.now();
  for (;;) {
    const live = Number((await sql.query<{ n: string }>("SELECT count(*) AS n FROM calls WHERE state <> 'ended'")).rows[0]!.n);
    if (live === 0 || performance.now() - drainStart > 300_000) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  await new Promise((r) => setTimeout(r, 3000)); // wrap-ups end, recordings are measured
  const afterDrain = await app.probe<Mem>('mem');
  const router = await app.probe<CallsProbe>('calls');

  const q = async <R>(text: string) => (await sql.query<R & pg.QueryResultRow>(text)).rows;
  const rows = await q<{ n: string }>('SELECT count(*) AS n FROM calls');
  const notEnded = await q<{ n: string }>("SELECT count(*) AS n FROM calls WHERE state <> 'ended'");
  const byDisposition = await q<{ disposition: string; n: string }>('SELECT disposition, count(*) AS n FROM calls GROUP BY 1 ORDER BY 2 DESC');
  const overlapsAgent = await q<{ n: string }>(`SELECT count(*) AS n FROM call_offers a JOIN call_offers b ON a.agent_id = b.agent_id AND a.id < b.id
    AND a.offered_at < coalesce(b.ended_at, 'infinity') AND b.offered_at < coalesce(a.ended_at, 'infinity')`);
  const overlapsCall = await q<{ n: string }>(`SELECT count(*) AS n FROM call_offers a JOIN call_offers b ON a.call_id = b.call_id AND a.id < b.id
    AND a.offered_at < coalesce(b.ended_at, 'infinity') AND b.offered_at < coalesce(a.ended_at, 'infinity')`);
  const answeredTwice = await q<{ n: string }>("SELECT count(*) AS n FROM (SELECT call_id FROM call_offers WHERE outcome = 'answered' GROUP BY call_id HAVING count(*) > 1) x");
  const open = await q<{ n: string }>('SELECT count(*) AS n FROM call_offers WHERE outcome IS NULL');
  const entries = await q<{ n: string }>('SELECT count(*) AS n FROM queue_entries');
  const offers = await q<{ outcome: string; n: string }>('SELECT outcome, count(*) AS n FROM call_offers GROUP BY 1 ORDER BY 2 DESC');
  const waits = (await q<{ s: number }>("SELECT extract(epoch FROM connected_at - queued_at)::float AS s FROM calls WHERE disposition = 'answered' ORDER BY 1")).map((r) => r.s);
  const slAnswered = waits.filter((w) => w <= 15).length;
  const answered = waits.length;
  const ok = Number(rows[0]!.n) === placed - placeErrors && Number(notEnded[0]!.n) === 0 && Number(overlapsAgent[0]!.n) === 0 && Number(overlapsCall[0]!.n) === 0
    && Number(answeredTwice[0]!.n) === 0 && Number(open[0]!.n) === 0 && Number(entries[0]!.n) === 0
    && !byDisposition.some((d) => d.disposition === 'lost' || d.disposition === 'failed') && placeErrors === 0;

  const report = [
    `### calls-load ${new Date().toISOString()} — ${rate} calls/s × ${seconds} s, ${agentsN} agents (load average at start ${load0})`,
    '',
    `- placed ${placed} calls in ${loadSeconds.toFixed(1)} s (${(placed / loadSeconds).toFixed(1)}/s), placing errors ${placeErrors}; call rows ${rows[0]!.n}, not ended ${notEnded[0]!.n}`,
    `- dispositions: ${byDisposition.map((d) => `${d.disposition} ${d.n}`).join(', ')}`,
    `- offers: ${offers.map((o) => `${o.outcome ?? 'open'} ${o.n}`).join(', ')}; agent legs answered (fake) ${answeredLegs}`,
    `- invariants: overlapping offers per agent ${overlapsAgent[0]!.n}, per call ${overlapsCall[0]!.n}; calls answered twice ${answeredTwice[0]!.n}; open offers ${open[0]!.n}; queue entries left ${entries[0]!.n} → **${ok ? 'all hold' : 'VIOLATED'}**`,
    `- wait to answer: p50 ${percentile(waits, 50)?.toFixed(1)} s, p95 ${percentile(waits, 95)?.toFixed(1)} s; answered within 15 s ${answered ? ((slAnswered / answered) * 100).toFixed(1) : '–'} %`,
    `- service CPU during the load ${cpu} % of one core; ACD passes ${router.acd.passes}, offers ${router.acd.offers}, failed passes ${router.acd.failures}`,
    `- service memory (heap after GC / RSS, MB): baseline ${mb(baseline.heapUsed)} / ${mb(baseline.rss)}, end of load ${mb(atEnd.heapUsed)} / ${mb(atEnd.rss)}, after drain ${mb(afterDrain.heapUsed)} / ${mb(afterDrain.rss)}; live sessions after drain ${router.sessions}, bound keys ${router.boundKeys}`,
    '',
  ].join('\n');
  console.log(report);
  if (out) appendFileSync(out, `${report}\n`);

  for (const t of timers) clearTimeout(t);
  await sql.end();
  client.close();
  await app.stop();
  await fake.close();
  await adminQuery(admin, `DROP DATABASE ${dbName} WITH (FORCE)`);
  process.exit(ok ? 0 : 1);
}
