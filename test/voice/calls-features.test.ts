/**
 * Feature codes on agents' phones (`*11` login, `*12` logout, `*21` ready, `*22` not ready): the
 * state changes as if the agent had used the desktop, the phone hears the outcome, and the
 * service hangs up. Who dialled is the PJSIP endpoint, never the caller id the phone sends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callCentre, waitCallState, type Agent, type CallCentre } from '../support/call-centre.js';
import { until } from '../support/wait.js';

describe('agent feature codes', () => {
  let c: CallCentre;
  let a1: Agent;
  let a2: Agent;
  beforeAll(async () => {
    c = await callCentre({ agents: 2, menu: false });
    [a1, a2] = c.agents as [Agent, Agent];
  });
  afterAll(async () => {
    await c?.close();
  });

  /** Dials a code from a phone; resolves with the prompt it heard once the service hung up. */
  const dial = async (code: string, endpoint: string, callerNumber: string): Promise<string[]> => {
    const ch = await c.asterisk.inboundCall({ context: 'agents', exten: code, endpoint, callerNumber });
    await until(() => c.asterisk.requests.some((r) => r.method === 'DELETE' && r.path === `/ari/channels/${ch}`), `${code} hung up by the service`);
    expect(c.asterisk.requests.some((r) => r.method === 'POST' && r.path === `/ari/channels/${ch}/answer`)).toBe(true);
    return c.asterisk.requests.filter((r) => r.method === 'POST' && r.path === `/ari/channels/${ch}/play`).map((r) => r.query.media ?? '');
  };

  it('*11 logs the phone\'s agent in and ready; *22 not ready; *21 ready; *12 out', async () => {
    expect((await c.agentState(a1)).state).toBe('offline');
    expect(await dial('*11', 'PJSIP/agent1001', '1001')).toEqual(['sound:hotline/agent-logged-in']);
    expect(await c.agentState(a1)).toMatchObject({ state: 'ready' });
    expect(await dial('*22', 'PJSIP/agent1001', '1001')).toEqual(['sound:hotline/agent-not-ready']);
    expect(await c.agentState(a1)).toMatchObject({ state: 'not_ready', reason: 'break' });
    expect(await dial('*21', 'PJSIP/agent1001', '1001')).toEqual(['sound:hotline/agent-ready']);
    expect((await c.agentState(a1)).state).toBe('ready');
    expect(await dial('*12', 'PJSIP/agent1001', '1001')).toEqual(['sound:hotline/agent-logged-out']);
    expect((await c.agentState(a1)).state).toBe('offline');
    // The state log says the agent did it, at their phone.
    const log = await c.sql<{ state: string; actor_type: string; actor_id: string }>(
      'SELECT state, actor_type, actor_id FROM agent_state_log WHERE agent_id = $1 ORDER BY at, id', [a1.id]);
    expect(log.map((l) => l.state)).toEqual(['ready', 'not_ready', 'ready', 'offline']);
    expect(log.every((l) => l.actor_type === 'agent' && l.actor_id === a1.id)).toBe(true);
  });

  it('a logged-in agent at the phone is offered calls after *21', async () => {
    await dial('*11', 'PJSIP/agent1001', '1001');
    await dial('*22', 'PJSIP/agent1001', '1001');
    const caller = await c.asterisk.inboundCall({ callerNumber: '13500000001' });
    await waitCallState(c, caller, 'queued');
    await dial('*21', 'PJSIP/agent1001', '1001');
    expect((await waitCallState(c, caller, 'connected')).agentId).toBe(a1.id);
    // On a call, logging out from the phone is refused and changes nothing.
    expect(await dial('*12', 'PJSIP/agent1001', '1001')).toEqual(['sound:hotline/agent-feature-refused']);
    expect((await c.agentState(a1)).state).toBe('on_call');
    c.asterisk.hangup(caller);
    await waitCallState(c, caller, 'ended');
    await until(async () => (await c.agentState(a1)).state === 'ready', 'wrap-up over');
    await dial('*12', 'PJSIP/agent1001', '1001');
  });

  it('refuses what the state does not allow, and phones that belong to no agent', async () => {
    // Not logged in: ready and not ready are refused; logging out again is harmless.
    expect(await dial('*21', 'PJSIP/agent1002', '1002')).toEqual(['sound:hotline/agent-feature-refused']);
    expect(await dial('*12', 'PJSIP/agent1002', '1002')).toEqual(['sound:hotline/agent-logged-out']);
    expect((await c.agentState(a2)).state).toBe('offline');
    // Hot-desking: agent 1002 works at 1001's phone; 1002's own phone cannot log them in twice,
    // and the codes at 1001's phone act on whoever is logged in there.
    expect((await c.api('POST', '/agents/me/login', { extension: '1001', state: 'not_ready', reason: 'meeting' }, a2.token)).status).toBe(200);
    expect(await dial('*11', 'PJSIP/agent1002', '1002')).toEqual(['sound:hotline/agent-feature-refused']);
    expect(await dial('*11', 'PJSIP/agent1001', '1001')).toEqual(['sound:hotline/agent-logged-in']);
    expect((await c.agentState(a1)).state).toBe('offline');
    expect(await dial('*21', 'PJSIP/agent1001', '1001')).toEqual(['sound:hotline/agent-ready']);
    expect((await c.agentState(a2)).state).toBe('ready');
    expect(await dial('*12', 'PJSIP/agent1001', '1001')).toEqual(['sound:hotline/agent-logged-out']);
    // A spoofed caller id changes nothing: the trunk endpoint is nobody's phone.
    expect(await dial('*11', 'PJSIP/trunk', '1001')).toEqual(['sound:hotline/agent-phone-unknown']);
    expect((await c.agentState(a1)).state).toBe('offline');
    // No call row is made for any of these.
    expect(await c.sql("SELECT 1 FROM calls WHERE caller_number IN ('1001', '1002')")).toEqual([]);
  });
});
