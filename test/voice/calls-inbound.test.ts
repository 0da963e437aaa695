/**
 * The inbound 12345 call end to end against the fake Asterisk: menu, queue, offer to an agent,
 * the recorded conversation, the survey and the call record.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callCentre, waitCallState, type CallCentre } from '../support/call-centre.js';
import { until } from '../support/wait.js';

describe('inbound call flow', () => {
  let c: CallCentre;
  beforeAll(async () => {
    c = await callCentre({ agents: 2 });
  });
  afterAll(async () => {
    await c?.close();
  });

  it('menu → queue → agent answers → recorded conversation → agent hangs up → survey → ended', async () => {
    const [a1] = c.agents;
    await c.login(a1!);
    const caller = await c.asterisk.inboundCall({ callerNumber: '13800138000', callerName: 'Zhang' });
    await until(() => c.asterisk.requests.some((r) => r.method === 'POST' && r.path === `/ari/channels/${caller}/play`), 'menu prompt');
    await waitCallState(c, caller, 'ivr');
    c.asterisk.sendDtmf(caller, '0');
    const connected = await waitCallState(c, caller, 'connected');
    expect(connected.agentId).toBe(a1!.id);
    expect(connected.ivrPath.map((s) => [s.digit, s.action])).toEqual([['0', 'operator']]);
    expect(await c.agentState(a1!)).toMatchObject({ state: 'on_call', callId: connected.id });

    const originate = c.asterisk.requests.find((r) => r.method === 'POST' && r.path === '/ari/channels' && r.query.endpoint === 'PJSIP/agent1001');
    expect(originate?.query).toMatchObject({ app: 'hotline', timeout: '5', callerId: '"Zhang" <13800138000>' });
    const bridge = c.asterisk.bridges().find((b) => b.id === `call-${connected.id}`);
    expect(bridge?.bridge_type).toBe('mixing');
    expect(bridge?.channels).toEqual(expect.arrayContaining([caller, c.agentChannel('1001')]));
    expect(c.asterisk.requests.some((r) => r.path === `/ari/bridges/call-${connected.id}/record`)).toBe(true);

    const agentLeg = c.agentChannel('1001')!;
    c.asterisk.hangup(agentLeg);
    await waitCallState(c, caller, 'survey');
    await until(() => c.asterisk.requests.some((r) => r.method === 'POST' && r.path === `/ari/channels/${caller}/play` && r.body === null && String(r.query.media).includes('survey-intro')), 'survey prompt');
    c.asterisk.sendDtmf(caller, '1');
    const ended = await waitCallState(c, caller, 'ended');
    expect(ended).toMatchObject({ disposition: 'answered', hangupBy: 'agent', surveyResult: 'satisfied' });
    expect(ended.timeline.map((e) => e.type)).toEqual(expect.arrayContaining(['arrived', 'answered', 'caller_flags', 'ivr_choice', 'queued', 'offer', 'offer_result', 'connected', 'survey', 'ended']));
    expect(ended.offers).toEqual([expect.objectContaining({ agentId: a1!.id, outcome: 'answered' })]);
    await until(async () => (await c.call(ended.id)).recordings[0]?.state === 'done', 'recording finished');
    // One second of wrap-up (the queue's setting), then ready again.
    await until(async () => (await c.agentState(a1!)).state === 'ready', 'agent ready after wrap-up');
  });
});
