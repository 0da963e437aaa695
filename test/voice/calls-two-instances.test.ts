/**
 * Exactly once under concurrency: two service instances share one database, each with its own
 * Asterisk. Callers arrive on both at once and a few agents serve them all: no agent is ever
 * offered two calls, no call is offered to two agents at a time, and nobody is stranded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAsterisk } from '../fake-asterisk/index.js';
import { callCentre, TIME_SCALE, type CallCentre } from '../support/call-centre.js';
import { until } from '../support/wait.js';

describe('two instances, one database', () => {
  let a: CallCentre;
  let b: CallCentre;
  let stopTalking = false;

  beforeAll(async () => {
    a = await callCentre({ agents: 4, menu: false, nodeId: 'ast1' });
    const fakeB = await startFakeAsterisk({ timeScale: TIME_SCALE, playbackMs: 30 });
    for (const ag of a.agents) fakeB.setEndpoint(`PJSIP/agent${ag.extension}`, { outcome: 'answer', answerAfterMs: 20, context: 'agents' });
    b = await callCentre({ joinDbUrl: a.t.dbUrl, asterisk: fakeB, nodeId: 'ast2', menu: false });
  });
  afterAll(async () => {
    stopTalking = true;
    await b?.close();
    await b?.asterisk.close();
    await a?.close();
  });

  it('serves every caller of both nodes, each offer to one agent, each agent one offer at a time', async () => {
    // Agents talk for a moment, then hang up; callers then skip the survey.
    const talk = async () => {
      const hungUp = new Set<string>();
      while (!stopTalking) {
        for (const fake of [a.asterisk, b.asterisk]) {
          for (const ch of fake.channels()) {
            if (ch.name.startsWith('PJSIP/agent') && ch.state === 'Up' && !hungUp.has(`${fake.port}/${ch.id}`)) {
              hungUp.add(`${fake.port}/${ch.id}`);
              setTimeout(() => {
                try {
                  fake.hangup(ch.id);
                } catch {
                  // already gone
                }
              }, 30 + Math.random() * 60);
            }
          }
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    void talk();
    for (const ag of a.agents) await a.login(ag);

    const callers: { fake: typeof a.asterisk; ch: string }[] = [];
    await Promise.all(Array.from({ length: 24 }, async (_, i) => {
      const fake = i % 2 === 0 ? a.asterisk : b.asterisk;
      callers.push({ fake, ch: await fake.inboundCall({ callerNumber: `1340000${String(i).padStart(4, '0')}` }) });
    }));
    // Both fakes hand out the same ids (same start second): the node keeps the calls apart.
    await until(async () => {
      const rows = await a.sql<{ n: string }>("SELECT count(*) AS n FROM calls WHERE state = 'ended'");
      return Number(rows[0]!.n) === 24;
    }, 'all 24 calls ended', 60_000);

    const calls = await a.sql<{ id: string; node_id: string; disposition: string }>('SELECT id, node_id, disposition FROM calls');
    expect(calls).toHaveLength(24);
    expect(calls.every((x) => x.disposition === 'answered')).toBe(true);
    expect(new Set(calls.map((x) => x.node_id))).toEqual(new Set(['ast1', 'ast2']));

    const offers = await a.sql<{ call_id: string; agent_id: string; offered_at: Date; ended_at: Date; outcome: string }>('SELECT call_id, agent_id, offered_at, ended_at, outcome FROM call_offers ORDER BY offered_at');
    // Each call answered exactly once.
    const answered = offers.filter((o) => o.outcome === 'answered');
    expect(answered).toHaveLength(24);
    expect(new Set(answered.map((o) => o.call_id)).size).toBe(24);
    // No agent's offers overlap, and no call's offers overlap.
    for (const key of ['agent_id', 'call_id'] as const) {
      const byKey = new Map<string, typeof offers>();
      for (const o of offers) byKey.set(o[key], [...(byKey.get(o[key]) ?? []), o]);
      for (const list of byKey.values()) {
        for (let i = 1; i < list.length; i++) expect(list[i]!.offered_at.getTime()).toBeGreaterThanOrEqual(list[i - 1]!.ended_at.getTime());
      }
    }
    // Both instances made offers: the ACD runs on each, with agents shared.
    const byNode = await a.sql<{ node_id: string; n: string }>('SELECT node_id, count(*) AS n FROM call_offers GROUP BY node_id');
    expect(byNode.map((r) => r.node_id).sort()).toEqual(['ast1', 'ast2']);
    expect(await a.sql('SELECT 1 FROM queue_entries')).toEqual([]);
    expect(callers).toHaveLength(24);
  });
});
