/**
 * Waiting in a queue against the fake Asterisk: the holding bridge with music, position and
 * expected-wait announcements, the callback offer, what the maximum wait does (overflow to a
 * queue, to voicemail, to a callback), and a supervisor raising a caller's priority.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callCentre, waitCallState, type CallCentre } from '../support/call-centre.js';
import { until } from '../support/wait.js';

describe('waiting in a queue', () => {
  let c: CallCentre;
  let overflowTarget: string;
  beforeAll(async () => {
    c = await callCentre({ agents: 1, menu: false });
    overflowTarget = (await c.api<{ id: string }>('POST', '/queues', { code: 'overflow-desk', name: '溢出席', maxWaitSeconds: 600, callbackOfferSeconds: null })).body.id;
  });
  afterAll(async () => {
    await c?.close();
  });

  const played = (ch: string) => c.asterisk.requests.filter((r) => r.method === 'POST' && r.path === `/ari/channels/${ch}/play`).flatMap((r) => String(r.query.media).split(','));
  const setGeneral = async (patch: Record<string, unknown>) => {
    const r = await c.api('PATCH', `/queues/${c.queues.general}`, patch);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    await new Promise((res) => setTimeout(res, 2100)); // the call flow's queue snapshot refreshes within 2 s
  };

  it('waits in its own holding bridge with music, hearing its position and expected wait', async () => {
    await setGeneral({ announcementIntervalSeconds: 15, callbackOfferSeconds: null, maxWaitSeconds: 600, overflow: { action: 'none' } });
    const first = await c.asterisk.inboundCall({ callerNumber: '13600000001', language: 'zh' });
    await waitCallState(c, first, 'queued');
    const second = await c.asterisk.inboundCall({ callerNumber: '13600000002', language: 'zh' });
    const rec = await waitCallState(c, second, 'queued');
    const hold = c.asterisk.bridges().find((b) => b.id === `hold-${rec.id}`);
    expect(hold).toMatchObject({ bridge_type: 'holding' });
    expect(hold!.channels).toContain(second);
    expect(c.asterisk.requests.some((r) => r.method === 'POST' && r.path === `/ari/bridges/hold-${rec.id}/moh`)).toBe(true);
    // One caller ahead; nobody staffed, so no wait estimate is promised.
    await until(() => played(second).includes('sound:hotline/queue-position-before'), 'position announcement');
    expect(played(second)).toEqual(expect.arrayContaining(['sound:hotline/queue-position-before', 'sound:hotline/num-1', 'sound:hotline/queue-position-after']));
    expect(played(second)).not.toContain('sound:hotline/queue-wait-before');
    expect(played(first)).toContain('sound:hotline/queue-position-next');
    const announcement = (await c.call(rec.id)).timeline.find((e) => e.type === 'announcement');
    expect(announcement?.data).toEqual({ ahead: 1, expectedWaitSeconds: null });

    // A supervisor sees both, in order, and raises the second caller to the top class.
    const waiting = await c.api<{ items: { callId: string; position: number }[] }>('GET', `/queues/${c.queues.general}/waiting`);
    expect(waiting.body.items.map((w) => w.position)).toEqual([0, 1]);
    expect(waiting.body.items[1]!.callId).toBe(rec.id);
    const raised = await c.api<{ position: number; priority: number }>('POST', `/calls/${rec.id}/priority`, { priorityClass: 'emergency', reason: '110 联动转入' });
    expect(raised.status, JSON.stringify(raised.body)).toBe(200);
    expect(raised.body.position).toBe(0);
    expect((await c.api('POST', `/calls/${rec.id}/priority`, { priorityClass: 'assisted', reason: 'lower' })).body).toMatchObject({ code: 'priority_not_raised' });
    const agentToken = c.agents[0]!.token;
    expect((await c.api('POST', `/calls/${rec.id}/priority`, { priorityClass: 'emergency', reason: 'x' }, agentToken)).status).toBe(403);
    // The agent logs in and gets the raised caller first.
    await c.login(c.agents[0]!);
    expect((await waitCallState(c, second, 'connected')).timeline.some((e) => e.type === 'priority_raised')).toBe(true);
    for (const ch of [second, first]) c.asterisk.hangup(ch);
    await waitCallState(c, first, 'ended');
    await until(async () => (await c.agentState(c.agents[0]!)).state !== 'on_call', 'agent free');
    await c.api('POST', '/agents/me/logout', undefined, agentToken).catch(() => undefined);
    await until(async () => {
      const s = await c.agentState(c.agents[0]!);
      if (s.state === 'wrap_up') await c.ready(c.agents[0]!);
      if (s.state === 'ready' || s.state === 'not_ready') await c.api('POST', '/agents/me/logout', undefined, agentToken);
      return (await c.agentState(c.agents[0]!)).state === 'offline';
    }, 'agent logged out');
  });

  it('offers a callback after the configured wait: pressing 1 books it, keeping the caller\'s place', async () => {
    await setGeneral({ announcementIntervalSeconds: 0, callbackOfferSeconds: 1, maxWaitSeconds: 600 });
    const ch = await c.asterisk.inboundCall({ callerNumber: '13600000003' });
    await until(() => played(ch).includes('sound:hotline/callback-offer'), 'callback offer');
    c.asterisk.sendDtmf(ch, '1');
    const rec = await waitCallState(c, ch, 'ended');
    expect(rec).toMatchObject({ disposition: 'callback_requested', hangupBy: 'system' });
    expect(rec.callbacks).toEqual([expect.objectContaining({ kind: 'requested' })]);
    const task = (await c.api<{ items: { callId: string; priority: number; enqueuedAt: string; queueId: string }[] }>('GET', '/callbacks?kind=requested')).body.items.find((t) => t.callId === rec.id);
    expect(task).toMatchObject({ queueId: c.queues.general, priority: rec.priority });
    expect(task!.enqueuedAt).not.toBeNull();
    expect(played(ch)).toContain('sound:hotline/callback-registered');
  });

  it('after the maximum wait, overflows to the next queue keeping the caller\'s place', async () => {
    await setGeneral({ callbackOfferSeconds: null, maxWaitSeconds: 30, overflow: { action: 'queue', queueId: overflowTarget } });
    const ch = await c.asterisk.inboundCall({ callerNumber: '13600000004' });
    const rec = await until(async () => {
      const r = await c.callByChannel(ch).catch(() => undefined);
      return r?.queueId === overflowTarget ? r : undefined;
    }, 'overflow to the second queue');
    expect(rec.state).toBe('queued');
    expect(rec.timeline.filter((e) => e.type === 'overflow').map((e) => e.data)).toEqual([
      expect.objectContaining({ reason: 'max_wait', action: 'queue' }),
      expect.objectContaining({ queueId: overflowTarget, fromQueueId: c.queues.general }),
    ]);
    const entry = await c.sql<{ queue_id: string; enqueued_at: Date }>('SELECT queue_id, enqueued_at FROM queue_entries WHERE call_id = $1', [rec.id]);
    expect(entry[0]!.queue_id).toBe(overflowTarget);
    const queued = rec.timeline.find((e) => e.type === 'queued')!;
    expect(entry[0]!.enqueued_at.getTime()).toBeLessThanOrEqual(Date.parse((queued as unknown as { at: string }).at));
    // Both announcements carry the place the caller kept.
    const events = await c.sql<{ payload: { queueId: string; enqueuedAt: string } }>(
      "SELECT payload FROM outbox WHERE type = 'call.queued' AND payload->>'callId' = $1 ORDER BY seq", [rec.id]);
    expect(events.map((e) => [e.payload.queueId, e.payload.enqueuedAt])).toEqual([
      [c.queues.general, entry[0]!.enqueued_at.toISOString()], [overflowTarget, entry[0]!.enqueued_at.toISOString()],
    ]);
    c.asterisk.hangup(ch);
    expect((await waitCallState(c, ch, 'ended')).disposition).toBe('abandoned_queue');
  });

  it('after the maximum wait, takes a voicemail and makes it a callback task', async () => {
    await setGeneral({ callbackOfferSeconds: null, maxWaitSeconds: 30, overflow: { action: 'voicemail' } });
    const ch = await c.asterisk.inboundCall({ callerNumber: '13600000005' });
    await waitCallState(c, ch, 'voicemail');
    await until(() => c.asterisk.requests.some((r) => r.path === `/ari/channels/${ch}/record`), 'recording the message');
    const recording = c.asterisk.requests.find((r) => r.path === `/ari/channels/${ch}/record`)!;
    expect(recording.query).toMatchObject({ format: 'wav', beep: 'true', terminateOn: '#' });
    const rec = await waitCallState(c, ch, 'ended');
    expect(rec.disposition).toBe('voicemail');
    expect(rec.callbacks).toEqual([expect.objectContaining({ kind: 'voicemail' })]);
    expect(played(ch)).toEqual(expect.arrayContaining(['sound:hotline/voicemail-intro', 'sound:hotline/voicemail-saved']));
    const task = (await c.api<{ items: { callId: string; recordingName: string }[] }>('GET', '/callbacks?kind=voicemail')).body.items.find((t) => t.callId === rec.id);
    expect(task?.recordingName).toBe(`vm-${rec.id}`);
  });

  it('after the maximum wait, books a callback when the queue says so', async () => {
    await setGeneral({ callbackOfferSeconds: null, maxWaitSeconds: 30, overflow: { action: 'callback' } });
    const ch = await c.asterisk.inboundCall({ callerNumber: '13600000006' });
    const rec = await waitCallState(c, ch, 'ended');
    expect(rec).toMatchObject({ disposition: 'overflow_callback' });
    expect(rec.callbacks).toEqual([expect.objectContaining({ kind: 'overflow' })]);
    const done = await c.api<{ status: string }>('PATCH', `/callbacks/${(rec.callbacks[0] as unknown as { id: string }).id}`, { status: 'done' });
    expect(done.body.status).toBe('done');
    expect((await c.api<{ code: string }>('PATCH', `/callbacks/${(rec.callbacks[0] as unknown as { id: string }).id}`, { status: 'dismissed' })).body.code).toBe('callback_closed');
  });
});
