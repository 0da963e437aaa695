/**
 * Our ACD against the fake Asterisk: who gets which caller (priority classes, skills, longest
 * idle), what a no-answer or busy phone does, and every way a caller leaves.
 */
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { callCentre, waitCallState, type Agent, type CallCentre } from '../support/call-centre.js';
import { until } from '../support/wait.js';

describe('ACD and call endings', () => {
  let c: CallCentre;
  let a1: Agent;
  let a2: Agent;
  let a3: Agent;

  beforeAll(async () => {
    c = await callCentre({ agents: 3 });
    [a1, a2, a3] = c.agents as [Agent, Agent, Agent];
  });
  afterAll(async () => {
    await c?.close();
  });
  afterEach(async () => {
    // Every test starts with all agents logged out and the phones answering.
    await until(async () => (await c.sql('SELECT 1 FROM calls WHERE state <> $1', ['ended'])).length === 0, 'all calls ended');
    for (const a of c.agents) {
      c.asterisk.setEndpoint(`PJSIP/agent${a.extension}`, { outcome: 'answer', answerAfterMs: 20 });
      const s = await c.agentState(a);
      if (s.state === 'wrap_up') await c.ready(a);
      if ((await c.agentState(a)).state !== 'offline') await c.api('POST', '/agents/me/logout', undefined, a.token);
    }
  });

  /** A caller who dials 12345 and presses 0 at the menu. */
  async function caller(number: string): Promise<string> {
    const ch = await c.asterisk.inboundCall({ callerNumber: number });
    await waitCallState(c, ch, 'ivr');
    c.asterisk.sendDtmf(ch, '0');
    return ch;
  }

  async function loginInOrder(...agents: Agent[]): Promise<void> {
    for (const a of agents) {
      await c.login(a);
      await new Promise((r) => setTimeout(r, 15)); // distinct idle_since: a defined longest-idle order
    }
  }

  it('no answer: the agent goes not-ready (no_answer) and the caller, first in line, goes to the next agent', async () => {
    c.asterisk.setEndpoint('PJSIP/agent1001', { outcome: 'noanswer' });
    await loginInOrder(a1, a2);
    const ch = await caller('13900000001');
    const rec = await waitCallState(c, ch, 'connected');
    expect(rec.agentId).toBe(a2.id);
    expect(rec.offers.map((o) => [o.agentId, o.outcome, o.cause])).toEqual([[a1.id, 'no_answer', 19], [a2.id, 'answered', null]]);
    expect(await c.agentState(a1)).toMatchObject({ state: 'not_ready', reason: 'no_answer' });
    expect(rec.timeline.filter((e) => e.type === 'queued')).toHaveLength(1); // never re-queued at the back
    c.asterisk.hangup(ch);
    await waitCallState(c, ch, 'ended');
  });

  it('busy (486): the same, with cause 17', async () => {
    c.asterisk.setEndpoint('PJSIP/agent1002', { outcome: 'busy' });
    await loginInOrder(a2, a3);
    const ch = await caller('13900000002');
    const rec = await waitCallState(c, ch, 'connected');
    expect(rec.offers.map((o) => [o.agentId, o.outcome, o.cause])).toEqual([[a2.id, 'busy', 17], [a3.id, 'answered', null]]);
    expect(await c.agentState(a2)).toMatchObject({ state: 'not_ready', reason: 'no_answer' });
    c.asterisk.hangup(ch);
    await waitCallState(c, ch, 'ended');
  });

  it('a failed originate (phone not registered) counts as the agent not answering', async () => {
    c.asterisk.setEndpoint('PJSIP/agent1001', { outcome: 'answer', online: false });
    await loginInOrder(a1, a2);
    const ch = await caller('13900000003');
    const rec = await waitCallState(c, ch, 'connected');
    expect(rec.offers.map((o) => [o.agentId, o.outcome])).toEqual([[a1.id, 'failed'], [a2.id, 'answered']]);
    expect(await c.agentState(a1)).toMatchObject({ state: 'not_ready', reason: 'no_answer' });
    c.asterisk.setEndpoint('PJSIP/agent1001', { outcome: 'answer', online: true });
    c.asterisk.hangup(ch);
    await waitCallState(c, ch, 'ended');
  });

  it('abandoned in the queue: recorded as such, with one missed-call task per number per day', async () => {
    const first = await caller('13900000004');
    await waitCallState(c, first, 'queued');
    c.asterisk.hangup(first);
    const r1 = await waitCallState(c, first, 'ended');
    expect(r1).toMatchObject({ disposition: 'abandoned_queue', hangupBy: 'caller' });
    expect(r1.callbacks).toEqual([expect.objectContaining({ kind: 'missed', attempts: 1 })]);
    expect(c.asterisk.bridges().find((b) => b.id === `hold-${r1.id}`)).toBeUndefined();

    const second = await caller('13900000004');
    await waitCallState(c, second, 'queued');
    c.asterisk.hangup(second);
    const r2 = await waitCallState(c, second, 'ended');
    expect(r2.callbacks).toEqual([expect.objectContaining({ kind: 'missed', attempts: 2 })]);
    const tasks = await c.api<{ items: { phone: string; attempts: number; lastCallId: string }[] }>('GET', '/callbacks?status=open&kind=missed');
    expect(tasks.body.items.filter((t) => t.phone === '13900000004')).toEqual([expect.objectContaining({ attempts: 2, lastCallId: r2.id })]);
  });

  it('abandoned while the agent rings: the agent leg is hung up and the agent is ready again, keeping their place', async () => {
    c.asterisk.setEndpoint('PJSIP/agent1003', { outcome: 'ring' });
    await c.login(a3);
    const before = await c.sql<{ idle_since: Date }>('SELECT idle_since FROM agent_states WHERE agent_id = $1', [a3.id]);
    const ch = await caller('13900000005');
    await waitCallState(c, ch, 'offering');
    await until(() => c.agentChannel('1003'), 'agent phone ringing');
    c.asterisk.hangup(ch);
    const rec = await waitCallState(c, ch, 'ended');
    expect(rec.disposition).toBe('abandoned_ringing');
    expect(rec.offers).toEqual([expect.objectContaining({ agentId: a3.id, outcome: 'caller_abandoned' })]);
    await until(() => c.agentChannel('1003') === undefined, 'agent leg hung up');
    expect(await c.agentState(a3)).toMatchObject({ state: 'ready' });
    const after = await c.sql<{ idle_since: Date }>('SELECT idle_since FROM agent_states WHERE agent_id = $1', [a3.id]);
    expect(after[0]!.idle_since.getTime()).toBe(before[0]!.idle_since.getTime());
  });

  it('the caller hangs up on a connected call: the agent leg ends and the agent goes to wrap-up, then ready', async () => {
    await c.login(a1);
    const ch = await caller('13900000006');
    const rec = await waitCallState(c, ch, 'connected');
    c.asterisk.hangup(ch);
    const ended = await waitCallState(c, ch, 'ended');
    expect(ended).toMatchObject({ disposition: 'answered', hangupBy: 'caller', surveyResult: null });
    await until(() => c.agentChannel('1001') === undefined, 'agent leg hung up');
    expect((await c.agentState(a1)).state).toBe('wrap_up');
    await until(async () => (await c.agentState(a1)).state === 'ready', 'wrap-up over');
    expect(rec.id).toBe(ended.id);
  });

  it('priority classes: emergency transfer > elderly > normal, whatever the arrival order', async () => {
    await c.api('PUT', '/caller-profiles/13900000008', { flags: ['elderly'] });
    const normal = await caller('13900000007');
    await waitCallState(c, normal, 'queued');
    const elderly = await c.asterisk.inboundCall({ callerNumber: '13900000008' }); // skips the menu
    await waitCallState(c, elderly, 'queued');
    const emergency = await c.asterisk.inboundCall({ callerNumber: '110', context: 'from-emergency', exten: '110', endpoint: 'PJSIP/emergency', vars: { CASE_ID: 'CASE-2026-0042', TRANSFER_KIND: 'emergency', ORIGINAL_CALLER: '13900000009' } });
    const em = await waitCallState(c, emergency, 'queued');
    expect(em.transfer).toMatchObject({ caseId: 'CASE-2026-0042', transferKind: 'emergency', originalCaller: '13900000009' });
    expect(em.flags).toContain('emergency_linkage');

    const order: string[] = [];
    for (const a of [a1, a2, a3]) {
      await c.login(a);
      const served = await until(async () => {
        const rows = await c.sql<{ channel_id: string }>("SELECT channel_id FROM calls WHERE agent_id = $1 AND state = 'connected'", [a.id]);
        return rows[0]?.channel_id;
      }, `a caller for ${a.extension}`);
      order.push(served);
    }
    expect(order).toEqual([emergency, elderly, normal]);
    for (const ch of order) c.asterisk.hangup(ch);
  });

  it('skills: the best skill level first, then the longest idle; unskilled agents are never offered', async () => {
    const skills = JSON.parse(c.queues.skills!) as { business: string };
    await c.api('PATCH', `/agents/${a1.id}`, { skills: [{ skillId: skills.business, level: 2 }] });
    await c.api('PATCH', `/agents/${a2.id}`, { skills: [{ skillId: skills.business, level: 4 }] });
    await c.api('PATCH', `/agents/${a3.id}`, { skills: [] });
    await loginInOrder(a3, a1, a2); // a3 idle longest but unskilled; a1 longer than a2
    const ch = await c.asterisk.inboundCall({ callerNumber: '13900000010' });
    await waitCallState(c, ch, 'ivr');
    c.asterisk.sendDtmf(ch, '2');
    const rec = await waitCallState(c, ch, 'connected');
    expect(rec.queueId).toBe(c.queues.business);
    expect(rec.agentId).toBe(a2.id);
    expect(rec.ivrPath.map((s) => [s.digit, s.action])).toEqual([['2', 'queue']]);

    const ch2 = await c.asterisk.inboundCall({ callerNumber: '13900000011' });
    await waitCallState(c, ch2, 'ivr');
    c.asterisk.sendDtmf(ch2, '2');
    expect((await waitCallState(c, ch2, 'connected')).agentId).toBe(a1.id);
    // A general caller goes to the one left, whatever their skills.
    const ch3 = await caller('13900000012');
    expect((await waitCallState(c, ch3, 'connected')).agentId).toBe(a3.id);
    for (const x of [ch, ch2, ch3]) c.asterisk.hangup(x);
    for (const a of [a1, a2, a3]) await c.api('PATCH', `/agents/${a.id}`, { skills: [] });
  });

  it('skills changed while an agent is ready are used from the next pass on', async () => {
    const skills = JSON.parse(c.queues.skills!) as { business: string };
    await c.api('PATCH', `/agents/${a1.id}`, { skills: [] });
    await loginInOrder(a1);
    // The general caller makes the ACD read a1 (and keep their skills: none).
    const general = await caller('13900000016');
    expect((await waitCallState(c, general, 'connected')).agentId).toBe(a1.id);
    c.asterisk.hangup(general);
    await until(async () => (await c.agentState(a1)).state === 'ready' || undefined, 'a1 ready again');
    const ch = await c.asterisk.inboundCall({ callerNumber: '13900000017' });
    await waitCallState(c, ch, 'ivr');
    c.asterisk.sendDtmf(ch, '2');
    await waitCallState(c, ch, 'queued');
    await new Promise((r) => setTimeout(r, 300));
    expect((await c.callByChannel(ch)).state).toBe('queued'); // a1 has no business skill
    const patched = await c.api('PATCH', `/agents/${a1.id}`, { skills: [{ skillId: skills.business, level: 2 }] });
    expect(patched.status).toBe(200);
    // No kick: the ACD's sweep finds the caller, and a1's new skills.
    expect((await waitCallState(c, ch, 'connected')).agentId).toBe(a1.id);
    c.asterisk.hangup(ch);
    await c.api('PATCH', `/agents/${a1.id}`, { skills: [] });
  });

  it('longest idle first among equals, and an agent is never offered two calls', async () => {
    await loginInOrder(a2, a1);
    const chans = [await caller('13900000013'), await caller('13900000014'), await caller('13900000015')];
    const first = await waitCallState(c, chans[0]!, 'connected');
    expect(first.agentId).toBe(a2.id);
    const second = await waitCallState(c, chans[1]!, 'connected');
    expect(second.agentId).toBe(a1.id);
    // The third waits: both agents are busy, and nobody got a second offer.
    await new Promise((r) => setTimeout(r, 300));
    expect((await c.callByChannel(chans[2]!)).state).toBe('queued');
    const open = await c.sql<{ agent_id: string; n: string }>('SELECT agent_id, count(*) AS n FROM call_offers WHERE outcome IS NULL GROUP BY agent_id');
    expect(open).toEqual([]);
    c.asterisk.hangup(chans[0]!);
    // a2 finishes wrap-up and takes the third caller.
    const third = await waitCallState(c, chans[2]!, 'connected');
    expect(third.agentId).toBe(a2.id);
    for (const x of chans.slice(1)) c.asterisk.hangup(x);
  });

  it('the repair sweep: a ready agent the ACD was never told of gets the caller; callers nobody ready can serve cost it no search', async () => {
    // Three callers for the English desk, which none of the (Chinese-speaking) agents can take.
    const english: string[] = [];
    for (const n of ['13900000071', '13900000072', '13900000073']) {
      const ch = await c.asterisk.inboundCall({ callerNumber: n });
      await waitCallState(c, ch, 'ivr');
      c.asterisk.sendDtmf(ch, '9');
      await waitCallState(c, ch, 'queued');
      english.push(ch);
    }
    await loginInOrder(a1, a2);
    const acd = c.calls.acd as unknown as { idle(): Promise<void>; deps: { repo: { lockBestWaiting: (...a: unknown[]) => Promise<unknown> } } };
    await acd.idle();
    const repo = acd.deps.repo;
    const search = repo.lockBestWaiting.bind(repo);
    let searches = 0;
    let general = '';
    repo.lockBestWaiting = async (...a: unknown[]) => {
      searches++;
      return search(...a);
    };
    try {
      // Sweeps run every 200 ms here; each used to search once per ready agent.
      await new Promise((r) => setTimeout(r, 1000));
      expect(searches).toBe(0);
      expect((await c.agentState(a1)).state).toBe('ready');

      // A caller for the general queue while nobody is ready; then an agent turns ready behind
      // the ACD's back (no kick): the sweep finds them.
      await c.api('PUT', `/agents/${a1.id}/state`, { state: 'not_ready', reason: 'break' }, a1.token);
      await c.api('PUT', `/agents/${a2.id}/state`, { state: 'not_ready', reason: 'break' }, a2.token);
      general = await caller('13900000074');
      await waitCallState(c, general, 'queued');
      await c.sql("UPDATE agent_states SET state = 'ready', reason = NULL, idle_since = now(), version = version + 1 WHERE agent_id = $1", [a1.id]);
      const rec = await waitCallState(c, general, 'connected');
      expect(rec.agentId).toBe(a1.id);
      expect(searches).toBeGreaterThan(0);
    } finally {
      repo.lockBestWaiting = search;
    }
    for (const x of [...english, general]) c.asterisk.hangup(x);
  });

  it('a backlog is served in short passes: each commits after a bounded number of searches, and the rest follows at once', async () => {
    const chans = [await caller('13900000081'), await caller('13900000082'), await caller('13900000083')];
    for (const ch of chans) await waitCallState(c, ch, 'queued');
    for (const a of [a1, a2, a3]) await c.login(a, 'not_ready');
    type Acd = { idle(): Promise<void>; settings: { maxSearchesPerPass: number }; pass: (...a: unknown[]) => Promise<unknown[]>; deps: { repo: { lockBestWaiting: (...a: unknown[]) => Promise<unknown> } } };
    const acd = c.calls.acd as unknown as Acd;
    const repo = acd.deps.repo;
    const search = repo.lockBestWaiting.bind(repo);
    const pass = acd.pass.bind(acd);
    const budget = acd.settings.maxSearchesPerPass;
    let searches = 0;
    const perPass: number[] = [];
    repo.lockBestWaiting = async (...a: unknown[]) => {
      searches++;
      return search(...a);
    };
    acd.pass = async (...a: unknown[]) => {
      const before = searches;
      try {
        return await pass(...a);
      } finally {
        perPass.push(searches - before);
      }
    };
    (acd.settings).maxSearchesPerPass = 1;
    // Another instance's pass holds the ACD lock while all three agents turn ready, so their
    // kicks (and the sweep) pile up into one backlog.
    const holder = new pg.Client({ connectionString: c.t.dbUrl });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1::bigint)', [String(0x414344_12345)]);
      for (const a of [a1, a2, a3]) expect((await c.api('PUT', `/agents/${a.id}/state`, { state: 'ready' }, a.token)).status).toBe(200);
      await new Promise((r) => setTimeout(r, 300));
      expect(perPass).toEqual([]);
      await holder.query('SELECT pg_advisory_unlock($1::bigint)', [String(0x414344_12345)]);
      const served = await Promise.all(chans.map((ch) => waitCallState(c, ch, 'connected')));
      expect(new Set(served.map((r) => r.agentId))).toEqual(new Set([a1.id, a2.id, a3.id]));
      await acd.idle();
      expect(Math.max(...perPass)).toBe(1);
      expect(perPass.filter((n) => n > 0).length).toBeGreaterThanOrEqual(3);
      const open = await c.sql<{ agent_id: string; n: string }>('SELECT agent_id, count(*) AS n FROM call_offers WHERE outcome IS NULL GROUP BY agent_id');
      expect(open).toEqual([]);
    } finally {
      await holder.end();
      (acd.settings).maxSearchesPerPass = budget;
      repo.lockBestWaiting = search;
      acd.pass = pass;
    }
    for (const ch of chans) c.asterisk.hangup(ch);
  });

  it('the best caller is searched again when the head of the line leaves while the search waits for its lock', async () => {
    const chans = [await caller('13900000091'), await caller('13900000092')];
    for (const ch of chans) await waitCallState(c, ch, 'queued');
    const [head, next] = [await c.callByChannel(chans[0]!), await c.callByChannel(chans[1]!)];
    const repo = (c.calls.acd as unknown as { deps: { repo: { lockBestWaiting(tx: unknown, q: readonly string[], live: number): Promise<{ callId: string } | undefined> } } }).deps.repo;
    const other = new pg.Client({ connectionString: c.t.dbUrl });
    await other.connect();
    try {
      // The head's entry is being removed by a transaction that has not committed yet.
      await other.query('BEGIN');
      await other.query('DELETE FROM queue_entries WHERE call_id = $1', [head.id]);
      const found = c.t.hotline.db.db.transaction().execute((tx) => repo.lockBestWaiting(tx, [head.queueId!], 6));
      await new Promise((r) => setTimeout(r, 200));
      await other.query('COMMIT');
      expect((await found)?.callId).toBe(next.id);
    } finally {
      await other.end();
    }
    for (const ch of chans) c.asterisk.hangup(ch);
  });
});
