/**
 * The full path, end to end: a call through the fake Asterisk → queue → offer → screen-pop on a
 * real WebSocket desktop → answer → the draft ticket filled in, accepted and bound → hang-up
 * from the desktop → survey → wrap-up → ready; a desktop that reconnects mid-call resumes; and
 * an agent whose desktop is on one instance while the call is handled on another.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAsterisk } from '../fake-asterisk/index.js';
import { callCentre, TIME_SCALE, waitCallState, type Agent, type CallCentre } from '../support/call-centre.js';
import { DesktopClient, listen, type Msg } from '../support/desktop-client.js';
import { until } from '../support/wait.js';

describe('agent desktop, end to end', () => {
  let c: CallCentre;
  let base: string;
  let agent: Agent;
  beforeAll(async () => {
    c = await callCentre({ agents: 1, env: { CALLS_SURVEY_TIMEOUT_SECONDS: '60' } });
    agent = c.agents[0]!;
    base = await listen(c.t);
  });
  afterAll(async () => {
    await c?.close();
  });

  it('screen-pop, ticket, hang-up, survey, wrap-up, ready — with a reconnect in the middle', async () => {
    // An earlier ticket of this caller, for the history.
    const earlier = await c.api<{ ticket: { id: string; number: string } }>('POST', '/tickets', {
      channel: 'website', channelMeta: { submissionId: 'w-9' }, type: 'complaint', title: '路灯不亮', content: '小区门口路灯不亮已一周。', caller: { phone: '13800138000' },
    });
    const { client: desk, welcome } = await DesktopClient.connect(base, agent.token);
    expect(welcome.snapshot).toMatchObject({ agent: { state: 'offline' }, currentCall: null });
    const login = await desk.command('login-1', { type: 'login', extension: agent.extension });
    expect(login).toMatchObject({ ok: true });
    await desk.next((m) => m.type === 'agent.state' && m.payload.state === 'ready', 'ready');

    const ch = await c.asterisk.inboundCall({ callerNumber: '13800138000', callerName: 'Li' });
    await waitCallState(c, ch, 'ivr');
    c.asterisk.sendDtmf(ch, '0');
    const pop = await desk.next((m) => m.type === 'call.offered', 'screen-pop');
    const p = pop.payload as Record<string, Msg>;
    expect(p).toMatchObject({
      caller: { number: '13800138000', confidential: false },
      ivrPath: [expect.objectContaining({ digit: '0', action: 'operator' })],
      queue: { code: 'general' }, handOff: null, draftTicketId: expect.any(String), ringTimeoutSeconds: 5,
    });
    expect(p.history).toMatchObject({ recentTickets: [expect.objectContaining({ id: earlier.body.ticket.id, number: earlier.body.ticket.number })], openTickets: 1 });
    expect(typeof p.waitSeconds).toBe('number');
    const callId = pop.payload.callId as string;
    const draftId = pop.payload.draftTicketId as string;

    await desk.next((m) => m.type === 'call.connected', 'connected');
    await desk.next((m) => m.type === 'agent.state' && m.payload.state === 'on_call', 'on call');

    // The desktop drops and comes back: the snapshot shows the call, and nothing is lost.
    const lastSeq = desk.logged().at(-1)!.seq!;
    desk.close();
    await c.call(callId).then((r) => expect(r.state).toBe('connected'));
    const { client: desk2, welcome: w2 } = await DesktopClient.connect(base, agent.token, { lastSeq });
    expect(w2).toMatchObject({ resync: false, snapshot: { agent: { state: 'on_call', callId }, currentCall: { callId, state: 'connected', draftTicketId: draftId } } });
    expect((w2.snapshot as Record<string, Record<string, unknown>>).currentCall!.control).toMatchObject({ allowed: ['hold', 'transfer', 'consult', 'hangup'] });

    // The agent writes the request into the draft and accepts it: it is the call's ticket.
    const before = await c.api<{ version: number; status: string }>('GET', `/tickets/${draftId}`, undefined, agent.token);
    expect(before.body.status).toBe('draft');
    const edited = await c.api<{ status: string; version: number }>('PATCH', `/tickets/${draftId}`, {
      title: '噪音扰民', content: '楼下饭店油烟和噪音扰民，晚上十点后仍在营业。', type: 'complaint', caller: { name: '李女士' },
    }, agent.token);
    expect(edited.status, JSON.stringify(edited.body)).toBe(200);
    expect(edited.body).toMatchObject({ status: 'draft', version: before.body.version + 1, title: '噪音扰民' });
    const accepted = await c.api<{ status: string }>('POST', `/tickets/${draftId}/actions`, { action: 'accept' }, agent.token);
    expect(accepted.body.status).toBe('accepted');
    expect((await c.api<{ code: string }>('PATCH', `/tickets/${draftId}`, { title: '再改' }, agent.token)).body.code).toBe('not_a_draft');
    expect((await c.call(callId)).ticketIds).toEqual([draftId]);

    // Hold and back, then the agent hangs up from the desktop; the caller rates the service.
    expect(await desk2.command('hold-1', { type: 'hold' })).toMatchObject({ ok: true, result: { control: { held: true } } });
    await desk2.next((m) => m.type === 'call.held', 'held');
    const bad = await desk2.command('hold-2', { type: 'hold' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'call_command_refused', details: { allowed: ['unhold', 'transfer', 'consult', 'hangup'] } } });
    await desk2.command('unhold-1', { type: 'unhold' });
    await desk2.command('hangup-1', { type: 'hangup' });
    await desk2.next((m) => m.type === 'call.ended' && m.payload.next === 'survey', 'call ended → survey');
    await waitCallState(c, ch, 'survey');
    await until(() => c.asterisk.requests.some((r) => r.path === `/ari/channels/${ch}/play` && String(r.query.media).includes('survey-intro')), 'survey prompt');
    c.asterisk.sendDtmf(ch, '1');
    const ended = await waitCallState(c, ch, 'ended');
    expect(ended).toMatchObject({ disposition: 'answered', surveyResult: 'satisfied', hangupBy: 'agent' });
    expect(ended.ticketIds).toEqual([draftId]);
    expect((await c.api<{ status: string }>('GET', `/tickets/${draftId}`)).body.status).toBe('accepted'); // used: not cancelled

    // Wrap-up, ended from the desktop, then ready.
    await desk2.next((m) => m.type === 'agent.state' && m.payload.state === 'wrap_up', 'wrap-up');
    const wrap = await desk2.command('wrap-1', { type: 'end_wrap_up' });
    if (!wrap.ok) expect(wrap.error.code).toBe('agent_state_changed'); // the 1 s wrap-up may have ended by itself
    await desk2.next((m) => m.type === 'agent.state' && m.payload.state === 'ready', 'ready again');
    desk2.close();
  });
});

describe('desktop on one instance, call on another', () => {
  let a: CallCentre;
  let b: CallCentre;
  const tag = Date.now();
  const nats = { NATS_STREAM: `HOTLINE_E2E${tag}`, NATS_SUBJECT_PREFIX: `e2e${tag}` };
  beforeAll(async () => {
    a = await callCentre({ agents: 1, menu: false, nats: true, env: nats, nodeId: 'ast1' });
    const fakeB = await startFakeAsterisk({ timeScale: TIME_SCALE, playbackMs: 30 });
    fakeB.setEndpoint('PJSIP/agent1001', { outcome: 'answer', answerAfterMs: 20, context: 'agents' });
    b = await callCentre({ joinDbUrl: a.t.dbUrl, asterisk: fakeB, nodeId: 'ast2', menu: false, nats: true, env: nats });
  });
  afterAll(async () => {
    await b?.close();
    await b?.asterisk.close();
    await a?.close();
  });

  it('gets the screen-pop through NATS and controls the call on the other instance', async () => {
    const agent = a.agents[0]!;
    const baseA = await listen(a.t);
    const { client: desk } = await DesktopClient.connect(baseA, agent.token);
    await desk.command('login', { type: 'login' });
    // The caller lands on instance B's Asterisk; the agent's desktop is on instance A.
    const ch = await b.asterisk.inboundCall({ callerNumber: '13900139000' });
    const pop = await desk.next((m) => m.type === 'call.offered', 'screen-pop from B');
    const callId = pop.payload.callId as string;
    await desk.next((m) => m.type === 'call.connected', 'connected on B');
    expect(b.calls.router!.get(callId)).toBeDefined();
    expect(a.calls.router!.get(callId)).toBeUndefined();
    // A command on A runs on B, where the call is.
    expect(await desk.command('hold', { type: 'hold' })).toMatchObject({ ok: true, result: { callId, control: { held: true } } });
    expect(b.asterisk.bridges().find((x) => x.channels.includes(ch))?.id).toBe(`hold-${callId}`);
    const refused = await desk.command('hold-again', { type: 'hold' });
    expect(refused).toMatchObject({ ok: false, error: { code: 'call_command_refused' } });
    await desk.command('unhold', { type: 'unhold' });
    await desk.command('bye', { type: 'hangup' });
    await desk.next((m) => m.type === 'call.ended', 'ended on B');
    b.asterisk.hangup(ch);
    await waitCallState(b, ch, 'ended');
    desk.close();
  });
});
