/**
 * Call control from the desktop against the fake Asterisk: hold, blind transfers (queue,
 * number, a failed one, a barred one), consultation and three-way calls, hanging up, auto-answer
 * phones, wrap-up, and supervisors' monitor / whisper / barge through ARI snoop. Each command
 * is checked against the call's state.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../src/domain/auth.js';
import { callCentre, waitCallState, type Agent, type CallCentre } from '../support/call-centre.js';
import { until } from '../support/wait.js';

describe('call control', () => {
  let c: CallCentre;
  let a1: Agent;
  let a2: Agent;
  let a3: Agent;
  let supervisor: { id: string; token: string };

  const principal = (id: string, role: Principal['role'] = 'agent'): Principal => ({ kind: 'user', id, name: id, role, departmentId: null, centreId: 'main' });
  const cmd = (a: { id: string }, command: Record<string, unknown>, role: Principal['role'] = 'agent') => c.calls.control!.command(principal(a.id, role), command as { type: string });
  const refused = async (p: Promise<unknown>) => p.then(() => {
    throw new Error('expected a refusal');
  }, (err: unknown) => err as { code: string; details?: Record<string, unknown> });
  const bridgeOf = (ch: string) => c.asterisk.bridges().find((b) => b.channels.includes(ch));

  beforeAll(async () => {
    c = await callCentre({ agents: 3, menu: false, env: { CALLS_SURVEY_TIMEOUT_SECONDS: '60' } });
    [a1, a2, a3] = c.agents as [Agent, Agent, Agent];
    supervisor = await c.t.createUser('sup-ctl', 'supervisor');
    await c.api('POST', '/agents', { userId: supervisor.id, extension: '1009' });
    c.asterisk.setEndpoint('PJSIP/agent1009', { outcome: 'answer', answerAfterMs: 20, context: 'agents' });
  });
  afterAll(async () => {
    await c?.close();
  });
  afterEach(async () => {
    await c.endAllCalls();
    for (const a of c.agents) {
      c.asterisk.setEndpoint(`PJSIP/agent${a.extension}`, { outcome: 'answer', answerAfterMs: 20 });
      await c.api('PATCH', `/agents/${a.id}`, { autoAnswer: false });
      await until(async () => {
        const s = await c.agentState(a);
        if (s.state === 'wrap_up' || s.state === 'not_ready') await c.ready(a);
        if (s.state === 'ready') await c.api('POST', '/agents/me/logout', undefined, a.token);
        return (await c.agentState(a)).state === 'offline';
      }, 'agent logged out');
    }
  });

  /** A caller connected to `agent` (the only one logged in). */
  async function connected(agent: Agent, number: string): Promise<{ ch: string; id: string }> {
    await c.login(agent);
    const ch = await c.asterisk.inboundCall({ callerNumber: number });
    const rec = await waitCallState(c, ch, 'connected');
    return { ch, id: rec.id };
  }

  it('hold and unhold: the caller waits with music in the holding bridge, then comes back', async () => {
    const { ch, id } = await connected(a1, '13100000001');
    const refusal = await refused(cmd(a1, { type: 'unhold' }));
    expect(refusal).toMatchObject({ code: 'call_command_refused', details: { allowed: ['hold', 'transfer', 'consult', 'hangup'] } });
    expect(await refused(cmd(a2, { type: 'hold' }))).toMatchObject({ code: 'no_current_call' });
    const held = await cmd(a1, { type: 'hold' });
    expect(held).toMatchObject({ callId: id, command: 'hold', control: { held: true } });
    expect(bridgeOf(ch)).toMatchObject({ id: `hold-${id}`, bridge_type: 'holding' });
    expect(c.asterisk.requests.some((r) => r.path === `/ari/bridges/hold-${id}/moh`)).toBe(true);
    await cmd(a1, { type: 'unhold' });
    expect(bridgeOf(ch)).toMatchObject({ id: `call-${id}`, bridge_type: 'mixing' });
    const rec = await c.call(id);
    expect(rec.timeline.map((e) => e.type)).toEqual(expect.arrayContaining(['hold', 'unhold']));
  });

  it('blind transfer to a queue: the agent is released, the caller keeps their place and another agent answers', async () => {
    const { ch, id } = await connected(a1, '13100000002');
    const skills = JSON.parse(c.queues.skills!) as { business: string };
    await c.api('PATCH', `/agents/${a2.id}`, { skills: [{ skillId: skills.business, level: 3 }] });
    await c.login(a2);
    const r = await cmd(a1, { type: 'transfer', target: { kind: 'queue', queueId: c.queues.business } });
    expect(r).toMatchObject({ command: 'transfer', transferId: expect.any(String) });
    expect(['wrap_up', 'ready']).toContain((await c.agentState(a1)).state);
    const rec = await until(async () => {
      const x = await c.call(id);
      return x.state === 'connected' && x.agentId === a2.id ? x : undefined;
    }, 'answered by the second agent');
    expect(rec.queueId).toBe(c.queues.business);
    expect(rec.offers.filter((o) => o.outcome === 'answered').map((o) => o.agentId)).toEqual([a1.id, a2.id]);
    expect((rec as unknown as { transfers: { kind: string; outcome: string }[] }).transfers).toEqual([expect.objectContaining({ kind: 'queue', outcome: 'queued' })]);
    await until(() => bridgeOf(ch)?.channels.includes(c.agentChannel('1002') ?? '-'), 'caller bridged with the second agent');
    await c.api('PATCH', `/agents/${a2.id}`, { skills: [] });
  });

  it('blind transfer to 110 with the case hand-off; when 110 hangs up the call ends', async () => {
    c.asterisk.setEndpoint('Local/110@hotline-outbound/n', { outcome: 'answer', answerAfterMs: 20 });
    const { ch, id } = await connected(a1, '13100000003');
    await cmd(a1, { type: 'transfer', target: { kind: 'number', number: '110', label: '公安' } });
    const rec = await waitCallState(c, ch, 'transferred');
    const originate = c.asterisk.requests.find((x) => x.method === 'POST' && x.path === '/ari/channels' && x.query.endpoint === 'Local/110@hotline-outbound/n')!;
    expect(originate.query).toMatchObject({ app: 'hotline', appArgs: `outbound,${id}` });
    expect(JSON.stringify(originate.body)).toContain(id); // CASE_ID for the receiving platform
    expect(c.asterisk.requests.some((x) => x.path === `/ari/channels/${ch}/play` && String(x.query.media).includes('transfer-110'))).toBe(true);
    const outbound = c.asterisk.channels().find((x) => x.name.startsWith('Local/110@hotline-outbound'))!;
    // The state is stored before the legs are bridged (persist, then act).
    await until(() => [ch, outbound.id].every((x) => bridgeOf(ch)?.channels.includes(x)), 'caller bridged with 110');
    expect(['wrap_up', 'ready']).toContain((await c.agentState(a1)).state);
    c.asterisk.hangup(outbound.id);
    const ended = await waitCallState(c, ch, 'ended');
    expect(ended.disposition).toBe('answered');
    expect(rec.id).toBe(id);
    expect((ended as unknown as { transfers: { kind: string; target: string; outcome: string }[] }).transfers).toEqual([expect.objectContaining({ kind: 'number', target: '110', outcome: 'connected' })]);
  });

  it('a transfer the far end does not take brings the caller back to the queue, first in line', async () => {
    c.asterisk.setEndpoint('Local/12315@hotline-outbound/n', { outcome: 'busy' });
    const { ch, id } = await connected(a1, '13100000004');
    await cmd(a1, { type: 'transfer', target: { kind: 'number', number: '12315' } });
    const rec = await waitCallState(c, ch, 'queued');
    expect(rec.timeline.filter((e) => e.type === 'transfer').map((e) => e.data.step ?? 'requested')).toEqual(['requested', 'failed']);
    expect(c.asterisk.requests.some((x) => x.path === `/ari/channels/${ch}/play` && String(x.query.media).includes('transfer-failed'))).toBe(true);
    await c.login(a3);
    expect((await waitCallState(c, ch, 'connected')).agentId).toBe(a3.id);
    expect(rec.id).toBe(id);
  });

  it('refuses numbers off the allow-list, and nothing changes', async () => {
    const { id } = await connected(a1, '13100000005');
    for (const number of ['0085212345678', '16812345678', '12345']) {
      expect(await refused(cmd(a1, { type: 'transfer', target: { kind: 'number', number } }))).toMatchObject({ code: 'destination_barred' });
    }
    expect(await refused(cmd(a1, { type: 'transfer' }))).toMatchObject({ code: 'target_required' });
    expect((await c.call(id)).state).toBe('connected');
  });

  it('consult an expert seat, then a three-way call, then the agent leaves and the caller gets the survey', async () => {
    const { ch, id } = await connected(a1, '13100000006');
    await cmd(a1, { type: 'consult', target: { kind: 'agent', extension: '1003' } });
    expect(bridgeOf(ch)).toMatchObject({ id: `hold-${id}` });
    const expert = await until(() => c.asterisk.channels().find((x) => x.name.startsWith('PJSIP/agent1003-') && x.state === 'Up'), 'expert answers');
    await until(() => bridgeOf(expert.id)?.id === `call-${id}`, 'expert with the agent');
    await until(() => c.calls.router!.get(id)!.controlView().consult === 'talking', 'consult talking');
    expect(c.calls.router!.get(id)!.controlView()).toMatchObject({ consult: 'talking', held: true });
    expect(await refused(cmd(a1, { type: 'hold' }))).toMatchObject({ code: 'call_command_refused', details: { allowed: ['conference', 'cancel_consult', 'hangup'] } });
    await cmd(a1, { type: 'conference' });
    expect(bridgeOf(ch)?.channels).toEqual(expect.arrayContaining([ch, expert.id, c.agentChannel('1001')]));
    await cmd(a1, { type: 'hangup' });
    await waitCallState(c, ch, 'survey');
    await until(() => !c.asterisk.channels().some((x) => x.id === expert.id), 'expert leg ended with the agent');
    c.asterisk.sendDtmf(ch, '3');
    const ended = await waitCallState(c, ch, 'ended');
    expect(ended).toMatchObject({ surveyResult: 'dissatisfied', hangupBy: 'agent' });
    expect(ended.timeline.filter((e) => e.type === 'consult').map((e) => e.data.step)).toEqual(['dialing', 'talking', 'conference', 'completed']);
  });

  it('a consultation nobody takes leaves the caller on hold; cancel brings them back', async () => {
    c.asterisk.setEndpoint('PJSIP/agent1003', { outcome: 'busy' });
    const { ch, id } = await connected(a1, '13100000007');
    await cmd(a1, { type: 'consult', target: { kind: 'agent', extension: '1003' } });
    await until(() => c.calls.router!.get(id)!.controlView().consult === 'none', 'consult failed');
    expect(c.calls.router!.get(id)!.controlView()).toMatchObject({ held: true });
    await cmd(a1, { type: 'unhold' });
    expect(bridgeOf(ch)?.id).toBe(`call-${id}`);
    // And a cancelled one.
    c.asterisk.setEndpoint('PJSIP/agent1003', { outcome: 'ring' });
    await cmd(a1, { type: 'consult', target: { kind: 'agent', extension: '1003' } });
    await until(() => c.agentChannel('1003'), 'expert ringing');
    await cmd(a1, { type: 'cancel_consult' });
    await until(() => c.agentChannel('1003') === undefined, 'consult leg hung up');
    expect(bridgeOf(ch)?.id).toBe(`call-${id}`);
    expect(c.calls.router!.get(id)!.controlView()).toMatchObject({ held: false, consult: 'none' });
  });

  it('auto-answer phones: the offer shows first, the phone is called (told to answer) when the agent accepts', async () => {
    await c.api('PATCH', `/agents/${a2.id}`, { autoAnswer: true });
    // A ring timeout of 100 s (1 s at the tests' time scale) to press answer in.
    await c.api('PATCH', `/queues/${c.queues.general}`, { ringTimeoutSeconds: 100 });
    await new Promise((r) => setTimeout(r, 2100));
    await c.login(a2);
    const ch = await c.asterisk.inboundCall({ callerNumber: '13100000008' });
    const rec = await waitCallState(c, ch, 'offering');
    await new Promise((r) => setTimeout(r, 200));
    expect(c.agentChannel('1002')).toBeUndefined();
    await until(() => c.calls.router!.get(rec.id)?.controlView().awaitingAnswer, 'offer awaiting the agent');
    await cmd(a2, { type: 'answer' });
    await waitCallState(c, ch, 'connected');
    const originate = c.asterisk.requests.filter((x) => x.method === 'POST' && x.path === '/ari/channels' && x.query.endpoint === 'PJSIP/agent1002').at(-1)!;
    expect(JSON.stringify(originate.body)).toContain('answer-after=0');
    // Not accepted in time: the agent goes not-ready, the caller waits for the next agent.
    c.asterisk.hangup(ch);
    await waitCallState(c, ch, 'ended');
    await until(async () => {
      const s = await c.agentState(a2);
      if (s.state === 'wrap_up') await c.ready(a2);
      return (await c.agentState(a2)).state === 'ready';
    }, 'a2 ready');
    const ch2 = await c.asterisk.inboundCall({ callerNumber: '13100000009' });
    await until(async () => (await c.agentState(a2)).state === 'not_ready', 'unanswered offer → not ready');
    expect((await c.agentState(a2)).reason).toBe('no_answer');
    expect((await c.callByChannel(ch2)).offers).toEqual([expect.objectContaining({ agentId: a2.id, outcome: 'no_answer' })]);
    // Nobody else is ready: the caller is back in the queue, waiting for the next agent.
    expect((await waitCallState(c, ch2, 'queued')).offers).toHaveLength(1);
    await c.api('PATCH', `/queues/${c.queues.general}`, { ringTimeoutSeconds: 5 });
  });

  it('ends wrap-up from the desktop', async () => {
    await c.api('PATCH', `/queues/${c.queues.general}`, { wrapUpSeconds: 60 });
    await new Promise((r) => setTimeout(r, 2100));
    const { ch } = await connected(a1, '13100000010');
    c.asterisk.hangup(ch);
    await waitCallState(c, ch, 'ended');
    expect((await c.agentState(a1)).state).toBe('wrap_up');
    expect(await cmd(a1, { type: 'end_wrap_up' })).toEqual({ state: 'ready' });
    expect(await refused(cmd(a1, { type: 'end_wrap_up' }))).toMatchObject({ code: 'agent_state_changed' });
    await c.api('PATCH', `/queues/${c.queues.general}`, { wrapUpSeconds: 1 });
  });

  it('supervisors monitor, whisper and barge through a snoop of the agent\'s channel', async () => {
    const { ch, id } = await connected(a1, '13100000011');
    expect(await refused(cmd(supervisor, { type: 'monitor', agentId: a1.id }, 'agent'))).toMatchObject({ code: 'role_forbidden' });
    await cmd(supervisor, { type: 'monitor', agentId: a1.id }, 'supervisor');
    const snoop = c.asterisk.requests.find((x) => x.path === `/ari/channels/${c.agentChannel('1001')}/snoop`)!;
    expect(snoop.query).toMatchObject({ spy: 'both', whisper: 'none', app: 'hotline' });
    const supLeg = await until(() => c.asterisk.channels().find((x) => x.name.startsWith('PJSIP/agent1009-') && x.state === 'Up'), 'supervisor phone answers');
    await until(() => bridgeOf(supLeg.id)?.id.startsWith('mon-'), 'supervisor hears the snoop');
    expect(bridgeOf(supLeg.id)!.channels.some((x) => x.startsWith('') && c.asterisk.channels().find((y) => y.id === x)?.name.startsWith('Snoop/'))).toBe(true);
    expect(await refused(cmd(supervisor, { type: 'whisper', agentId: a1.id }, 'supervisor'))).toMatchObject({ code: 'already_monitoring' });
    await cmd(supervisor, { type: 'stop_monitor' }, 'supervisor');
    await until(() => !c.asterisk.channels().some((x) => x.id === supLeg.id || x.name.startsWith('Snoop/')), 'monitor legs gone');

    await cmd(supervisor, { type: 'whisper', agentId: a1.id }, 'supervisor');
    expect(c.asterisk.requests.filter((x) => x.path.endsWith('/snoop')).at(-1)!.query).toMatchObject({ spy: 'both', whisper: 'out' });
    await cmd(supervisor, { type: 'stop_monitor' }, 'supervisor');

    await cmd(supervisor, { type: 'barge', agentId: a1.id }, 'supervisor');
    const barger = await until(() => c.asterisk.channels().find((x) => x.name.startsWith('PJSIP/agent1009-') && x.state === 'Up' && bridgeOf(x.id)?.id === `call-${id}`), 'supervisor in the call');
    expect(bridgeOf(ch)?.channels).toEqual(expect.arrayContaining([ch, barger.id, c.agentChannel('1001')]));
    c.asterisk.hangup(ch);
    await waitCallState(c, ch, 'ended');
    await until(() => !c.asterisk.channels().some((x) => x.id === barger.id), 'barger hung up with the call');
    const monitors = await until(async () => {
      const m = ((await c.call(id)) as unknown as { monitors: { mode: string; endedAt: string | null }[] }).monitors;
      return m.every((x) => x.endedAt !== null) ? m : undefined;
    }, 'monitors ended');
    expect(monitors.map((m) => m.mode)).toEqual(['monitor', 'whisper', 'barge']);
  });
});
