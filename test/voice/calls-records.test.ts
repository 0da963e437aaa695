/**
 * Call records through the API: the list with filters and keyset pages, the full record,
 * recording download (supervisors only, every access audited), tickets bound to a call,
 * numbers masked for roles that do not need them, and caller profiles.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callCentre, waitCallState, type CallCentre, type CallRecord } from '../support/call-centre.js';
import { until } from '../support/wait.js';

describe('call records', () => {
  let c: CallCentre;
  let answered: CallRecord;
  let abandoned: CallRecord;
  let supervisor: string;
  let operator: string;

  beforeAll(async () => {
    c = await callCentre({ agents: 2, menu: false });
    supervisor = (await c.t.createUser('sup1', 'supervisor')).token;
    operator = (await c.t.createUser('ops1', 'operator')).token;
    await c.login(c.agents[0]!);
    const ch = await c.asterisk.inboundCall({ callerNumber: '13500000001' });
    await waitCallState(c, ch, 'connected');
    await new Promise((r) => setTimeout(r, 150)); // a little conversation to record
    c.asterisk.hangup(ch);
    answered = await waitCallState(c, ch, 'ended');
    await until(async () => (await c.call(answered.id)).recordings[0]?.sizeBytes != null, 'recording measured');
    answered = await c.call(answered.id);
    await c.api('POST', '/agents/me/logout', undefined, c.agents[0]!.token).catch(() => undefined);
    await until(async () => {
      const s = await c.agentState(c.agents[0]!);
      if (s.state === 'wrap_up') await c.ready(c.agents[0]!);
      if (s.state === 'ready') await c.api('POST', '/agents/me/logout', undefined, c.agents[0]!.token);
      return (await c.agentState(c.agents[0]!)).state === 'offline';
    }, 'agent logged out');
    const ch2 = await c.asterisk.inboundCall({ callerNumber: '13500000002' });
    await waitCallState(c, ch2, 'queued');
    c.asterisk.hangup(ch2);
    abandoned = await waitCallState(c, ch2, 'ended');
  });
  afterAll(async () => {
    await c?.close();
  });

  it('keeps the recording with its name, duration and size', () => {
    expect(answered.recordings).toEqual([expect.objectContaining({ name: expect.stringMatching(new RegExp(`^call-${answered.id}-1-[0-9a-f]{8}$`)), state: 'done' })]);
    expect(answered.recordings[0]!.durationSeconds).toBeGreaterThanOrEqual(0);
    expect(answered.recordings[0]!.sizeBytes).toBeGreaterThan(0);
  });

  it('lists calls newest first, with filters and keyset pages', async () => {
    const all = await c.api<{ items: { id: string }[]; next: string | null }>('GET', '/calls?limit=1');
    expect(all.body.items.map((x) => x.id)).toEqual([abandoned.id]);
    const page2 = await c.api<{ items: { id: string }[]; next: string | null }>('GET', `/calls?limit=1&before=${encodeURIComponent(all.body.next!)}`);
    expect(page2.body.items.map((x) => x.id)).toEqual([answered.id]);
    const byDisposition = await c.api<{ items: { id: string }[] }>('GET', '/calls?disposition=answered');
    expect(byDisposition.body.items.map((x) => x.id)).toEqual([answered.id]);
    const byPhone = await c.api<{ items: { id: string }[] }>('GET', `/calls?callerPhone=${encodeURIComponent('+86 135 0000 0002')}`);
    expect(byPhone.body.items.map((x) => x.id)).toEqual([abandoned.id]);
    const byAgent = await c.api<{ items: { id: string }[] }>('GET', `/calls?agentId=${c.agents[0]!.id}`);
    expect(byAgent.body.items.map((x) => x.id)).toEqual([answered.id]);
    expect((await c.api<{ code: string }>('GET', '/calls?from=2026-12-02T10:00:00Z&to=2026-12-02T09:00:00Z')).body.code).toBe('invalid_time_range');
    expect((await c.api<{ code: string }>('GET', '/calls?disposition=nope')).body.code).toBe('validation_failed');
    expect((await c.api<{ code: string }>('GET', '/calls?before=garbage')).body.code).toBe('validation_failed');
  });

  it('agents see only the calls offered to them; operators see masked numbers', async () => {
    const mine = await c.api<{ items: { id: string; callerNumber: string }[] }>('GET', '/calls', undefined, c.agents[0]!.token);
    expect(mine.body.items.map((x) => x.id)).toEqual([answered.id]);
    expect(mine.body.items[0]!.callerNumber).toBe('13500000001');
    expect((await c.api('GET', `/calls/${abandoned.id}`, undefined, c.agents[0]!.token)).status).toBe(403);
    expect((await c.api('GET', `/calls/${answered.id}`, undefined, c.agents[1]!.token)).status).toBe(403);
    const ops = await c.api<{ callerNumber: string }>('GET', `/calls/${answered.id}`, undefined, operator);
    expect(ops.body.callerNumber).toBe('*******0001');
    expect((await c.api('GET', `/calls/${randomUUID()}`)).status).toBe(404);
  });

  it('lets supervisors download a recording, audits each access, and refuses everyone else', async () => {
    const name = answered.recordings[0]!.name;
    const res = await c.t.hotline.app.inject({ method: 'GET', url: `/api/v1/calls/${answered.id}/recordings/${name}`, headers: { authorization: `Bearer ${supervisor}` } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('audio/wav');
    expect(res.rawPayload.length).toBe(answered.recordings[0]!.sizeBytes);
    for (const token of [operator, c.agents[0]!.token]) {
      expect((await c.api('GET', `/calls/${answered.id}/recordings/${name}`, undefined, token)).status).toBe(403);
    }
    expect((await c.api<{ code: string }>('GET', `/calls/${abandoned.id}/recordings/${name}`, undefined, supervisor)).body.code).toBe('recording_not_found');
    const audit = await c.sql<{ action: string; outcome: string; actor_role: string }>("SELECT action, outcome, actor_role FROM audit_log WHERE action = 'call.recording.read' ORDER BY at");
    expect(audit.map((a) => [a.outcome, a.actor_role])).toEqual(expect.arrayContaining([['success', 'supervisor'], ['denied', 'operator'], ['denied', 'agent']]));
  });

  it('binds tickets to a call, several of them, and finds calls by ticket', async () => {
    const ticket = async (title: string) => (await c.api<{ ticket: { id: string } }>('POST', '/tickets', {
      channel: 'phone', callId: answered.id, type: 'consultation', title, content: `${title}的具体情况说明。`, caller: { phone: '13500000001' },
    })).body.ticket.id;
    // Tickets taken on the call are bound to it at intake.
    const t1 = await ticket('公积金提取');
    const t2 = await ticket('医保报销');
    // The first is the draft the call carried from its offer: unused, it was cancelled at the end of the call.
    const [draft, ...taken] = (await c.call(answered.id)).ticketIds;
    expect(taken).toEqual([t1, t2]);
    expect((await c.api<{ status: string; title: string }>('GET', `/tickets/${draft}`)).body).toMatchObject({ status: 'cancelled', title: '来电诉求（待填写）' });
    // A later ticket about the same call (another channel) is bound by hand.
    const web = (await c.api<{ ticket: { id: string } }>('POST', '/tickets', {
      channel: 'website', channelMeta: { submissionId: 'web-1' }, type: 'suggestion', title: '网上补充', content: '来电后在网站补充的意见。', caller: { phone: '13500000001' },
    })).body.ticket.id;
    const both = await c.api<{ ticketIds: string[] }>('POST', `/calls/${answered.id}/tickets`, { ticketId: web }, c.agents[0]!.token);
    expect(both.body.ticketIds).toEqual([draft, t1, t2, web]);
    expect((await c.api<{ ticketIds: string[] }>('POST', `/calls/${answered.id}/tickets`, { ticketId: t1 })).body.ticketIds).toEqual([draft, t1, t2, web]); // idempotent
    expect((await c.api<{ code: string }>('POST', `/calls/${answered.id}/tickets`, { ticketId: randomUUID() })).body.code).toBe('ticket_not_found');
    const found = await c.api<{ items: { id: string }[] }>('GET', `/calls?ticketId=${web}`);
    expect(found.body.items.map((x) => x.id)).toEqual([answered.id]);
    expect((await c.call(answered.id)).timeline.filter((e) => e.type === 'ticket_bound').map((e) => e.data.ticketId)).toEqual([draft, t1, t2, web]);
  });

  it('caller profiles: set, read, validate, remove (supervisors only)', async () => {
    expect((await c.api('PUT', '/caller-profiles/13500000009', { flags: ['assisted'] }, supervisor)).status).toBe(200);
    expect((await c.api<{ flags: string[]; harassmentAction: string }>('GET', '/caller-profiles/+8613500000009', undefined, supervisor)).body).toMatchObject({ flags: ['assisted'], harassmentAction: 'warn' });
    expect((await c.api<{ code: string }>('PUT', '/caller-profiles/13500000009', { flags: ['vip'] }, supervisor)).body.code).toBe('validation_failed');
    expect((await c.api('PUT', '/caller-profiles/13500000009', { flags: [] }, c.agents[0]!.token)).status).toBe(403);
    expect((await c.api('DELETE', '/caller-profiles/13500000009', undefined, supervisor)).status).toBe(204);
    expect((await c.api<{ code: string }>('GET', '/caller-profiles/13500000009', undefined, supervisor)).body.code).toBe('caller_profile_not_found');
  });
});
