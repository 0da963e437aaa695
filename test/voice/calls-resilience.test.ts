/**
 * Recovery with callers queued and calls connected: an ARI outage (events lost meanwhile) and
 * an Asterisk restart. Waiting callers keep their order, connected calls stay connected and
 * recorded, and calls whose channels vanished end with the right disposition.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { callCentre, waitCallState, type Agent, type CallCentre } from '../support/call-centre.js';
import { until } from '../support/wait.js';

describe('recovery after ARI outages and Asterisk restarts', () => {
  let c: CallCentre;
  let a1: Agent;
  let a2: Agent;
  beforeAll(async () => {
    c = await callCentre({ agents: 2, menu: false, env: { CALLS_SURVEY_TIMEOUT_SECONDS: '60' } });
    [a1, a2] = c.agents as [Agent, Agent];
  });
  afterAll(async () => {
    await c?.close();
  });
  afterEach(async () => {
    c.asterisk.setDown(false);
    await c.endAllCalls();
    for (const a of c.agents) {
      await until(async () => {
        const s = await c.agentState(a);
        if (s.state === 'wrap_up' || (s.state === 'not_ready')) await c.ready(a);
        if (s.state === 'ready') await c.api('POST', '/agents/me/logout', undefined, a.token);
        return (await c.agentState(a)).state === 'offline';
      }, 'agent logged out');
    }
  });

  const reconnected = async () => {
    await until(() => c.calls.router!.readyNodes().every((n) => n.connected), 'node reconciled after reconnect');
    await new Promise((r) => setTimeout(r, 200)); // let the sessions' reconcile steps run
  };

  it('an ARI outage: lost events are made good from the snapshot', async () => {
    await c.login(a1);
    const talking = await c.asterisk.inboundCall({ callerNumber: '13300000001' });
    const talkingRec = await waitCallState(c, talking, 'connected');
    await c.login(a2);
    const agentLeaves = await c.asterisk.inboundCall({ callerNumber: '13300000002' });
    await waitCallState(c, agentLeaves, 'connected');
    const first = await c.asterisk.inboundCall({ callerNumber: '13300000003' });
    await waitCallState(c, first, 'queued');
    const leaves = await c.asterisk.inboundCall({ callerNumber: '13300000004' });
    await waitCallState(c, leaves, 'queued');
    const second = await c.asterisk.inboundCall({ callerNumber: '13300000005' });
    await waitCallState(c, second, 'queued');

    c.asterisk.setDown(true); // the event socket is cut; Asterisk keeps the calls
    await until(() => !c.asterisk.isAppConnected('hotline'), 'app disconnected');
    c.asterisk.hangup(leaves); // nobody hears this
    c.asterisk.hangup(c.agentChannel('1002')!); // nor this: the agent hung up on the caller
    c.asterisk.setDown(false);
    await reconnected();

    expect((await waitCallState(c, leaves, 'ended')).disposition).toBe('abandoned_queue');
    const surveyed = await waitCallState(c, agentLeaves, 'survey');
    expect(surveyed.timeline.some((e) => e.type === 'recovered')).toBe(true);
    // The survey of the call whose agent left works as after any agent hang-up.
    await until(() => c.asterisk.requests.some((r) => r.path === `/ari/channels/${agentLeaves}/play` && String(r.query.media).includes('survey-intro')), 'survey prompt');
    c.asterisk.sendDtmf(agentLeaves, '2');
    // The call still talking is still connected, still in its bridge, still recorded.
    expect((await c.call(talkingRec.id)).state).toBe('connected');
    expect(c.asterisk.bridges().find((b) => b.id === `call-${talkingRec.id}`)?.channels).toEqual(expect.arrayContaining([talking, c.agentChannel('1001')]));
    expect((await c.call(talkingRec.id)).recordings).toEqual([expect.objectContaining({ state: 'recording' })]);
    // Waiting callers kept their order: the first free agent takes the first of them.
    c.asterisk.hangup(talking);
    expect((await waitCallState(c, talking, 'ended')).disposition).toBe('answered');
    const firstRec = await waitCallState(c, first, 'connected');
    const [secondRow] = await c.sql<{ connected_at: Date | null }>('SELECT connected_at FROM calls WHERE channel_id = $1', [second]);
    const [firstRow] = await c.sql<{ connected_at: Date }>('SELECT connected_at FROM calls WHERE id = $1', [firstRec.id]);
    if (secondRow!.connected_at) expect(secondRow!.connected_at.getTime()).toBeGreaterThanOrEqual(firstRow!.connected_at.getTime());
    expect((await waitCallState(c, agentLeaves, 'ended')).surveyResult).toBe('basically_satisfied');
  });

  it('an agent who answers during the outage: the leg cannot enter Stasis, and the caller is offered again', async () => {
    c.asterisk.setEndpoint('PJSIP/agent1001', { outcome: 'answer', answerAfterMs: 300 });
    await c.login(a1);
    const ch = await c.asterisk.inboundCall({ callerNumber: '13300000006' });
    await waitCallState(c, ch, 'offering');
    await until(() => c.agentChannel('1001'), 'agent phone ringing');
    c.asterisk.setDown(true);
    // Asterisk refuses Stasis to an app without its socket (STASISSTATUS=FAILED): the answered leg ends.
    await until(() => c.agentChannel('1001') === undefined, 'answered leg gone');
    c.asterisk.setEndpoint('PJSIP/agent1001', { outcome: 'answer', answerAfterMs: 20 });
    c.asterisk.setDown(false);
    await reconnected();
    const rec = await waitCallState(c, ch, 'connected');
    expect(rec.offers.map((o) => [o.agentId, o.outcome])).toEqual([[a1.id, 'lost'], [a1.id, 'answered']]);
    // The answer is stored before the legs are bridged.
    await until(() => c.asterisk.bridges().find((b) => b.id === `call-${rec.id}`)?.channels.includes(ch), 'caller bridged');
  });

  it('an offer whose agent phone gave up during the outage goes back to the head of the line', async () => {
    c.asterisk.setEndpoint('PJSIP/agent1002', { outcome: 'ring' });
    await c.login(a2);
    const ch = await c.asterisk.inboundCall({ callerNumber: '13300000007' });
    await waitCallState(c, ch, 'offering');
    await until(() => c.agentChannel('1002'), 'agent phone ringing');
    c.asterisk.setDown(true);
    await until(() => !c.asterisk.isAppConnected('hotline'), 'app disconnected');
    c.asterisk.hangup(c.agentChannel('1002')!);
    // Before the reconnect: the re-offer may be placed the moment the offer settles.
    c.asterisk.setEndpoint('PJSIP/agent1002', { outcome: 'answer', answerAfterMs: 20 });
    c.asterisk.setDown(false);
    await reconnected();
    const rec = await until(async () => {
      const r = await c.callByChannel(ch);
      return r.offers[0]?.outcome ? r : undefined;
    }, 'offer settled');
    expect(rec.offers[0]).toMatchObject({ agentId: a2.id, outcome: 'lost' });
    // Not the agent's fault as far as we know: ready again, and the caller is offered again.
    expect((await waitCallState(c, ch, 'connected')).agentId).toBe(a2.id);
  });

  it('a call that cannot be stored at once is retried; if the database stays away it is refused with congestion', async () => {
    await c.login(a1);
    const arrive = vi.spyOn(c.calls.ledger, 'arrive')
      .mockRejectedValueOnce(new Error('timeout exceeded when trying to connect'))
      .mockRejectedValueOnce(new Error('timeout exceeded when trying to connect'));
    try {
      const served = await c.asterisk.inboundCall({ callerNumber: '13300000010' });
      expect((await waitCallState(c, served, 'connected')).agentId).toBe(a1.id);
      expect(arrive).toHaveBeenCalledTimes(3);
      arrive.mockRejectedValue(new Error('timeout exceeded when trying to connect'));
      const refused = await c.asterisk.inboundCall({ callerNumber: '13300000011' });
      const hangup = await until(() => c.asterisk.requests.find((r) => r.method === 'DELETE' && r.path === `/ari/channels/${refused}`), 'refused');
      expect(hangup.query).toMatchObject({ reason: 'congestion' });
      expect(await c.sql('SELECT 1 FROM calls WHERE channel_id = $1', [refused])).toEqual([]);
    } finally {
      arrive.mockRestore();
    }
  });

  it('an Asterisk restart: every call it held is lost, agents are freed, callers who waited get a callback', async () => {
    await c.login(a1);
    const talking = await c.asterisk.inboundCall({ callerNumber: '13300000008' });
    const talkingRec = await waitCallState(c, talking, 'connected');
    const waiting = await c.asterisk.inboundCall({ callerNumber: '13300000009' });
    const waitingRec = await waitCallState(c, waiting, 'queued');
    await c.asterisk.restart();
    await reconnected();
    const lostTalk = await waitCallState(c, talking, 'ended');
    const lostWait = await waitCallState(c, waiting, 'ended');
    expect(lostTalk).toMatchObject({ disposition: 'lost', hangupBy: 'system' });
    expect(lostWait).toMatchObject({ disposition: 'lost', hangupBy: 'system' });
    expect(lostWait.callbacks).toEqual([expect.objectContaining({ kind: 'missed' })]);
    expect(lostTalk.id).toBe(talkingRec.id);
    expect(lostWait.id).toBe(waitingRec.id);
    await until(async () => (await c.agentState(a1)).state !== 'on_call', 'agent freed');
    expect(['wrap_up', 'ready']).toContain((await c.agentState(a1)).state);
    expect(await c.sql('SELECT 1 FROM queue_entries')).toEqual([]);
  });
});
