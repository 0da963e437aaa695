/**
 * The caller-facing menu against the fake Asterisk: keys, retries, the progress query by ticket
 * number, callbacks from the menu, caller flags (elderly, harassment), languages, opening hours,
 * and a deployment with no menu published.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callCentre, waitCallState, type CallCentre } from '../support/call-centre.js';
import { until } from '../support/wait.js';

describe('IVR', () => {
  let c: CallCentre;
  beforeAll(async () => {
    c = await callCentre({ agents: 1 });
  });
  afterAll(async () => {
    await c?.close();
  });

  /** Media URIs played to a channel so far, in order. */
  const played = (ch: string) => c.asterisk.requests.filter((r) => r.method === 'POST' && r.path === `/ari/channels/${ch}/play`).flatMap((r) => String(r.query.media).split(','));
  const promptPlayed = (ch: string, id: string) => until(() => played(ch).includes(`sound:hotline/${id}`), `${id} played`);

  async function hangupAndEnd(ch: string) {
    if (c.asterisk.channels().some((x) => x.id === ch)) c.asterisk.hangup(ch);
    return waitCallState(c, ch, 'ended');
  }

  it('greets, plays the menu, and after a wrong key and silence sends the caller to the default queue', async () => {
    const ch = await c.asterisk.inboundCall({ callerNumber: '13700000001' });
    await promptPlayed(ch, 'menu-main');
    expect(played(ch).slice(0, 3)).toEqual(['sound:hotline/greeting', 'sound:hotline/recording-notice', 'sound:hotline/menu-main']);
    c.asterisk.sendDtmf(ch, '7');
    await promptPlayed(ch, 'menu-invalid');
    const rec = await waitCallState(c, ch, 'queued'); // one retry, then silence: the default queue
    expect(rec.queueId).toBe(c.queues.general);
    expect(rec.ivrPath.map((s) => [s.digit, s.action])).toEqual([['7', 'invalid'], [null, 'queue']]);
    expect((await hangupAndEnd(ch)).disposition).toBe('abandoned_queue');
  });

  it('a key or a hang-up right at arrival is not lost while the call row is being written', async () => {
    const quick = await c.asterisk.inboundCall({ callerNumber: '13700000012' });
    c.asterisk.sendDtmf(quick, '9');
    expect((await waitCallState(c, quick, 'queued')).queueId).toBe(c.queues.english);
    c.asterisk.hangup(quick);
    const gone = await c.asterisk.inboundCall({ callerNumber: '13700000013' });
    c.asterisk.hangup(gone);
    expect((await waitCallState(c, gone, 'ended')).disposition).toBe('abandoned_ivr');
  });

  it('progress query: the caller keys the ticket number and hears its status; a wrong number is refused', async () => {
    const intake = await c.api<{ ticket: { number: string } }>('POST', '/tickets', {
      channel: 'phone', callId: randomUUID(), type: 'complaint', title: '噪音扰民', content: '楼下商铺夜间施工噪音很大，影响休息。', caller: { phone: '13700000002' },
    });
    expect(intake.status).toBe(201);
    const number = intake.body.ticket.number;
    const ch = await c.asterisk.inboundCall({ callerNumber: '13700000002' });
    await waitCallState(c, ch, 'ivr');
    c.asterisk.sendDtmf(ch, '1');
    await promptPlayed(ch, 'progress-enter-ticket');
    c.asterisk.sendDtmf(ch, '99999999999999#');
    await promptPlayed(ch, 'progress-not-found');
    c.asterisk.sendDtmf(ch, `${number.slice(2)}#`);
    await promptPlayed(ch, 'ticket-status-accepted');
    const readout = played(ch);
    const at = readout.indexOf('sound:hotline/progress-ticket-number');
    expect(readout.slice(at + 1, at + 15)).toEqual([...number.slice(2)].map((d) => `sound:hotline/num-${d}`));
    await promptPlayed(ch, 'progress-more');
    c.asterisk.sendDtmf(ch, '0'); // an agent, please
    const rec = await waitCallState(c, ch, 'queued');
    const queries = rec.timeline.filter((e) => e.type === 'progress_query').map((e) => e.data);
    expect(queries).toEqual([expect.objectContaining({ found: false }), expect.objectContaining({ number, found: true, status: 'accepted' })]);
    expect(rec.ivrPath.map((s) => s.action)).toEqual(['progress_query']);
    expect((await hangupAndEnd(ch)).disposition).toBe('abandoned_queue');
  });

  it('progress query of another caller\'s ticket is not found (the number alone reveals nothing)', async () => {
    const intake = await c.api<{ ticket: { number: string } }>('POST', '/tickets', {
      channel: 'phone', callId: randomUUID(), type: 'consultation', title: '社保咨询', content: '咨询灵活就业人员社保缴费标准。', caller: { phone: '13700000003' },
    });
    const ch = await c.asterisk.inboundCall({ callerNumber: '13700000004' });
    await waitCallState(c, ch, 'ivr');
    c.asterisk.sendDtmf(ch, '1');
    await promptPlayed(ch, 'progress-enter-ticket');
    c.asterisk.sendDtmf(ch, `${intake.body.ticket.number.slice(2)}#`);
    await promptPlayed(ch, 'progress-not-found');
    expect(played(ch)).not.toContain('sound:hotline/ticket-status-accepted');
    c.asterisk.hangup(ch);
    expect((await waitCallState(c, ch, 'ended')).disposition).toBe('abandoned_ivr');
  });

  it('a caller who heard their status and hung up was served by self-service', async () => {
    const intake = await c.api<{ ticket: { number: string } }>('POST', '/tickets', {
      channel: 'phone', callId: randomUUID(), type: 'help', title: '路灯不亮', content: '小区门口路灯连续三天不亮。', caller: { phone: '13700000005' },
    });
    const ch = await c.asterisk.inboundCall({ callerNumber: '13700000005' });
    await waitCallState(c, ch, 'ivr');
    c.asterisk.sendDtmf(ch, `1`);
    await promptPlayed(ch, 'progress-enter-ticket');
    c.asterisk.sendDtmf(ch, `${intake.body.ticket.number.slice(2)}#`);
    await promptPlayed(ch, 'progress-more');
    c.asterisk.hangup(ch);
    expect((await waitCallState(c, ch, 'ended')).disposition).toBe('self_served');
  });

  it('a callback from the menu: the task is registered and the caller told so', async () => {
    const ch = await c.asterisk.inboundCall({ callerNumber: '13700000006' });
    await waitCallState(c, ch, 'ivr');
    c.asterisk.sendDtmf(ch, '8');
    const rec = await waitCallState(c, ch, 'ended');
    expect(rec).toMatchObject({ disposition: 'callback_requested', hangupBy: 'system' });
    expect(rec.callbacks).toEqual([expect.objectContaining({ kind: 'requested' })]);
    expect(played(ch)).toContain('sound:hotline/callback-registered');
  });

  it('English: the caller\'s channel language follows the queue', async () => {
    const ch = await c.asterisk.inboundCall({ callerNumber: '13700000007', language: 'zh' }); // as [from-trunk] sets it
    await waitCallState(c, ch, 'ivr');
    c.asterisk.sendDtmf(ch, '9');
    const rec = await waitCallState(c, ch, 'queued');
    expect(rec.queueId).toBe(c.queues.english);
    expect(c.asterisk.requests.some((r) => r.path === `/ari/channels/${ch}/variable` && r.query.variable === 'CHANNEL(language)' && r.query.value === 'en')).toBe(true);
    await hangupAndEnd(ch);
  });

  it('elderly callers skip the menu; harassment gets a warning, or the call ended, as the profile says', async () => {
    await c.api('PUT', '/caller-profiles/13700000008', { flags: ['elderly'] });
    const elderly = await c.asterisk.inboundCall({ callerNumber: '13700000008' });
    const e = await waitCallState(c, elderly, 'queued');
    expect(played(elderly)).toContain('sound:hotline/elderly-priority');
    expect(played(elderly)).not.toContain('sound:hotline/menu-main');
    expect(e.flags).toEqual(['elderly']);
    await hangupAndEnd(elderly);

    await c.api('PUT', '/caller-profiles/13700000009', { flags: ['harassment'], harassmentAction: 'warn' });
    const warned = await c.asterisk.inboundCall({ callerNumber: '13700000009' });
    await promptPlayed(warned, 'menu-main');
    expect(played(warned)[0]).toBe('sound:hotline/harassment-warning');
    await hangupAndEnd(warned);

    await c.api('PUT', '/caller-profiles/13700000009', { flags: ['harassment'], harassmentAction: 'disconnect' });
    const cut = await c.asterisk.inboundCall({ callerNumber: '13700000009' });
    const r = await waitCallState(c, cut, 'ended');
    expect(r).toMatchObject({ disposition: 'rejected', hangupBy: 'system' });
    expect(played(cut)).toEqual(['sound:hotline/harassment-warning', 'sound:hotline/harassment-disconnect']);
  });

  it('a specialist desk out of hours sends the caller to the general queue, saying so', async () => {
    const closed = await c.api<{ id: string }>('POST', '/schedules', { code: 'never-open', name: '从不开放', weekly: {} });
    expect(closed.status).toBe(201);
    await c.api('PATCH', `/queues/${c.queues.business}`, { scheduleId: closed.body.id });
    c.calls.router!.readyNodes(); // (the directory refreshes within two seconds)
    await new Promise((r) => setTimeout(r, 2100));
    const ch = await c.asterisk.inboundCall({ callerNumber: '13700000010' });
    await waitCallState(c, ch, 'ivr');
    c.asterisk.sendDtmf(ch, '2');
    const rec = await waitCallState(c, ch, 'queued');
    expect(rec.queueId).toBe(c.queues.general);
    expect(rec.timeline.find((e) => e.type === 'queued')?.data).toMatchObject({ closedQueueId: c.queues.business });
    await promptPlayed(ch, 'after-hours-specialist');
    await hangupAndEnd(ch);
    await c.api('PATCH', `/queues/${c.queues.business}`, { scheduleId: null });
  });
});

describe('IVR without a published menu, and without the tickets service', () => {
  let c: CallCentre;
  beforeAll(async () => {
    c = await callCentre({ agents: 1, menu: false });
  });
  afterAll(async () => {
    await c?.close();
  });

  it('with no menu published the caller goes straight to the fallback queue', async () => {
    const ch = await c.asterisk.inboundCall({ callerNumber: '13700000011' });
    const rec = await waitCallState(c, ch, 'queued');
    expect(rec.queueId).toBe(c.queues.general);
    expect(rec.timeline.find((e) => e.type === 'queued')?.data).toMatchObject({ noMenu: true });
    c.asterisk.hangup(ch);
    await waitCallState(c, ch, 'ended');
  });
});
