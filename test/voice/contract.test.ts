// Contract test: each recorded Asterisk 23.4.1 trace is replayed against the fake with
// unmodified ari-client (same REST calls, same far-end actions), and the fake must produce
// the same event sequence, fields, field order, values and REST statuses/bodies.
import type { Client } from 'ari-client';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { connectAri, channelIdOf, type AriSession } from '../fake-asterisk/ari-session.js';
import { startFakeAsterisk, type AriEvent, type FakeAsterisk, type FakeAsteriskOptions, type RecordedRequest } from '../fake-asterisk/index.js';
import { isMediaNoise, loadTrace, Normaliser, traceEvents, traceRest, tracesAvailable, TRACES_DIR, type RestRecord, type TraceRecord } from '../fake-asterisk/traces.js';

const available = tracesAvailable();
if (!available) console.warn(`[contract] ${TRACES_DIR} not found: trace contract tests skipped`);

interface Ctx {
  fake: FakeAsterisk;
  s: AriSession;
  client: Client;
  records: TraceRecord[];
}

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

/** The trace's first inbound channel, so the fake's caller matches it field for field. */
function firstChannel(records: TraceRecord[]): Record<string, unknown> {
  const e = traceEvents(records).find((x) => x.type === 'StasisStart');
  return e!.channel as Record<string, unknown>;
}

function inboundFrom(records: TraceRecord[]): Parameters<FakeAsterisk['inboundCall']>[0] {
  const ch = firstChannel(records) as {
    name: string;
    protocol_id: string;
    caller: { name: string; number: string };
    dialplan: { context: string; exten: string };
  };
  return {
    callerNumber: ch.caller.number,
    callerName: ch.caller.name,
    exten: ch.dialplan.exten,
    context: ch.dialplan.context,
    endpoint: ch.name.replace(/-[0-9a-f]{8}$/, ''),
    protocolId: ch.protocol_id,
  };
}

async function scenario(name: string, opts: FakeAsteriskOptions, drive: (c: Ctx) => Promise<void>): Promise<Ctx> {
  const records = loadTrace(name);
  const fake = await startFakeAsterisk({ channelVars: ['CASE_ID'], playbackMs: 20, timeScale: 0.02, ...opts });
  const s = await connectAri(fake.url, fake.username, fake.password, 'hotline');
  cleanup = async () => {
    s.close();
    await fake.close();
  };
  const c = { fake, s, client: s.client, records };
  await drive(c);
  return c;
}

/** Events, REST statuses and bodies of the run must match the trace after normalisation. */
function expectMatchesTrace({ s, fake, records }: Ctx): void {
  const want = traceEvents(records);
  const got = s.received.filter((e) => !isMediaNoise(e));
  expect(got.map((e) => e.type)).toEqual(want.map((e) => e.type));
  const nw = new Normaliser();
  const ng = new Normaliser();
  got.forEach((e, i) => {
    expect(JSON.stringify(ng.norm(e)), `event #${i} ${String(e.type)}`).toBe(JSON.stringify(nw.norm(want[i])));
  });

  const wantRest = traceRest(records);
  const gotRest = fake.requests.filter((r) => !r.path.startsWith('/ari/api-docs/') && r.path !== '/ari/events');
  const rw = new Normaliser();
  const rg = new Normaliser();
  // Real Asterisk answers a play with "queued" or "playing" depending on a race; both are valid.
  const playState = (b: unknown): unknown =>
    b && typeof b === 'object' && 'media_uri' in b ? { ...(b as Record<string, unknown>), state: '<queued|playing>' } : b;
  const shape = (r: { method: string; path: string; query: Record<string, string>; status: number }, req: unknown, res: unknown, n: Normaliser): string =>
    JSON.stringify(n.norm({ method: r.method, path: r.path, query: r.query, status: r.status, reqBody: req ?? null, body: playState(res ?? null) }));
  expect(gotRest.map((r) => `${r.method} ${r.status}`)).toEqual(wantRest.map((r) => `${r.method} ${r.status}`));
  gotRest.forEach((r: RecordedRequest, i) => {
    const w = wantRest[i]!;
    expect(shape(r, r.body, r.response, rg), `rest #${i} ${r.method} ${r.path}`).toBe(shape(w, w.reqBody, w.body, rw));
  });
}

/** The connect sequence: a 401 probe, then resources.json and the 11 API declarations. */
function expectConnectLikeTrace({ fake, records }: Ctx): void {
  const docs = (list: { path: string; status: number }[]): string[] =>
    list.filter((r) => r.path.startsWith('/ari/api-docs/')).map((r) => `${r.path} ${r.status}`).sort();
  expect(docs(fake.requests)).toEqual(docs(records.filter((r): r is RestRecord => r.kind === 'rest')));
  expect(fake.requests[0]).toMatchObject({ path: '/ari/api-docs/resources.json', status: 401 });
}

const isType = (type: string, chId?: string) => (e: AriEvent): boolean => e.type === type && (chId === undefined || channelIdOf(e) === chId);

async function playAndWait(c: Ctx, channelId: string, media: string): Promise<void> {
  const playbackId = randomUUID();
  const from = c.s.received.length;
  await c.client.channels.play({ channelId, media, playbackId });
  await c.s.waitFor((e) => e.type === 'PlaybackFinished' && (e.playback as { id: string }).id === playbackId, { from });
}

/** Caller answered, greeted, put into a mixing bridge, agent originated: common to three traces. */
async function callerToBridgeAndOriginate(c: Ctx, timeout: number): Promise<{ callerId: string; bridgeId: string; agentId: string }> {
  const callerId = await c.fake.inboundCall(inboundFrom(c.records));
  await c.s.waitFor(isType('StasisStart', callerId));
  await c.client.channels.answer({ channelId: callerId });
  await playAndWait(c, callerId, 'sound:hello-world');
  const bridge = await c.client.bridges.create({ type: 'mixing', name: `hotline-${callerId}` });
  await c.client.bridges.addChannel({ bridgeId: bridge.id, channel: callerId });
  const agentId = randomUUID();
  await c.client.channels.originate({ endpoint: 'PJSIP/agent1001', app: 'hotline', appArgs: 'agent', callerId: 'Hotline <12345>', timeout, channelId: agentId });
  return { callerId, bridgeId: bridge.id, agentId };
}

describe.skipIf(!available)('fake Asterisk reproduces the recorded ARI traces', () => {
  it('bridge-record: bridge, originate answered, bridge recording, DTMF, continueInDialplan and re-entry', async () => {
    const c = await scenario('bridge-record', {}, async (c) => {
      c.fake.setEndpoint('PJSIP/agent1001', { outcome: 'answer', answerAfterMs: 100 });
      const { callerId, bridgeId, agentId } = await callerToBridgeAndOriginate(c, 20);
      await c.s.waitFor((e) => e.type === 'Dial' && e.dialstatus === 'RINGING');
      c.fake.sendDtmf(callerId, '1', { durationMs: 280 });
      await c.s.waitFor(isType('StasisStart', agentId));
      await c.client.bridges.addChannel({ bridgeId, channel: agentId });
      const name = `probe-${Date.now()}`;
      await c.client.bridges.record({ bridgeId, name, format: 'wav', maxDurationSeconds: 5, ifExists: 'overwrite', beep: false });
      await c.s.waitFor(isType('RecordingStarted'));
      c.fake.sendDtmf(callerId, '5', { durationMs: 160 });
      c.fake.sendDtmf(agentId, '5', { durationMs: 6580 });
      await c.s.waitFor(isType('RecordingFinished'));
      const stored = await c.client.recordings.getStored({ recordingName: name });
      expect(stored).toMatchObject({ name, format: 'wav' });
      await c.client.endpoints.list();
      await c.client.channels.hangup({ channelId: agentId });
      await c.client.bridges.removeChannel({ bridgeId, channel: callerId });
      await c.client.bridges.destroy({ bridgeId });
      await c.client.channels.continueInDialplan({ channelId: callerId, context: 'from-trunk', extension: 'after-stasis', priority: 1 });
      const back = await c.s.waitFor((e) => e.type === 'StasisStart' && channelIdOf(e) === callerId && (e.args as string[])[0] === 'returned');
      expect(back.args).toEqual(['returned']);
      const from = c.s.received.length;
      await c.client.channels.hangup({ channelId: callerId });
      await c.s.waitFor(isType('StasisEnd', callerId), { from });
      expect(c.fake.storedRecordings()).toContain(name);
    });
    expectMatchesTrace(c);
    expectConnectLikeTrace(c);
  });

  it('agent-busy: 486 → ChannelDestroyed 17/486 without StasisStart for the agent', async () => {
    const c = await scenario('agent-busy', {}, async (c) => {
      c.fake.setEndpoint('PJSIP/agent1001', { outcome: 'busy' });
      const { callerId, bridgeId, agentId } = await callerToBridgeAndOriginate(c, 20);
      const destroyed = await c.s.waitFor(isType('ChannelDestroyed', agentId));
      expect(destroyed).toMatchObject({ cause: 17, cause_txt: 'User busy', tech_cause: 486 });
      const playbackId = randomUUID();
      const from = c.s.received.length;
      await c.client.channels.play({ channelId: callerId, media: 'sound:all-circuits-busy-now', playbackId });
      await c.s.waitFor(isType('PlaybackStarted'), { from });
      c.fake.sendDtmf(callerId, '1', { durationMs: 280 });
      await c.s.waitFor(isType('PlaybackFinished'), { from });
      await c.client.channels.hangup({ channelId: callerId });
      await c.s.waitFor(isType('StasisEnd', callerId));
      await c.client.bridges.destroy({ bridgeId });
      await c.s.waitFor(isType('BridgeDestroyed'));
    });
    expect(c.s.received.some((e) => e.type === 'StasisStart' && (e.args as string[])[0] === 'agent')).toBe(false);
    expectMatchesTrace(c);
  });

  it('agent-noanswer: ring until the originate timeout → ChannelDestroyed 19/480', async () => {
    const c = await scenario('agent-noanswer', {}, async (c) => {
      c.fake.setEndpoint('PJSIP/agent1001', { outcome: 'noanswer' });
      const { callerId, bridgeId, agentId } = await callerToBridgeAndOriginate(c, 5);
      await c.s.waitFor((e) => e.type === 'Dial' && e.dialstatus === 'RINGING');
      c.fake.sendDtmf(callerId, '1', { durationMs: 280 });
      const destroyed = await c.s.waitFor(isType('ChannelDestroyed', agentId));
      expect(destroyed).toMatchObject({ cause: 19, cause_txt: 'User alerting, no answer', tech_cause: 480 });
      await playAndWait(c, callerId, 'sound:all-circuits-busy-now');
      await c.client.channels.hangup({ channelId: callerId });
      await c.client.bridges.destroy({ bridgeId });
      await c.s.waitFor(isType('BridgeDestroyed'));
    });
    expectMatchesTrace(c);
  });

  it('hold: holding bridge with MOH, caller BYE, then DELETE moh answers 409', async () => {
    const c = await scenario('hold', {}, async (c) => {
      const callerId = await c.fake.inboundCall(inboundFrom(c.records));
      await c.s.waitFor(isType('StasisStart', callerId));
      await c.client.channels.answer({ channelId: callerId });
      const bridge = await c.client.bridges.create({ type: 'holding', name: `queue-${callerId}` });
      await c.client.bridges.addChannel({ bridgeId: bridge.id, channel: callerId, role: 'participant' });
      await c.client.bridges.startMoh({ bridgeId: bridge.id, mohClass: 'default' });
      c.fake.hangup(callerId);
      const request = await c.s.waitFor(isType('ChannelHangupRequest', callerId));
      expect(request).not.toHaveProperty('cause');
      await c.s.waitFor(isType('StasisEnd', callerId));
      await expect(c.client.bridges.stopMoh({ bridgeId: bridge.id })).rejects.toThrow("Bridge isn't playing music");
      await c.client.bridges.destroy({ bridgeId: bridge.id });
      await c.s.waitFor(isType('BridgeDestroyed'));
    });
    expectMatchesTrace(c);
  });

  it('emergency: CASE_ID from the SIP header in channelvars and through GET variable', async () => {
    const c = await scenario('emergency', {}, async (c) => {
      const callerId = await c.fake.inboundCall({
        ...inboundFrom(c.records),
        vars: { CASE_ID: 'CASE-2026-0042' },
        headers: { 'X-Case-Id': 'CASE-2026-0042' },
      });
      const start = await c.s.waitFor(isType('StasisStart', callerId));
      expect((start.channel as { channelvars: unknown }).channelvars).toEqual({ CASE_ID: 'CASE-2026-0042' });
      expect(await c.client.channels.getChannelVar({ channelId: callerId, variable: 'CASE_ID' })).toEqual({ value: 'CASE-2026-0042' });
      expect(await c.client.channels.getChannelVar({ channelId: callerId, variable: 'PJSIP_HEADER(read,X-Case-Id)' })).toEqual({ value: 'CASE-2026-0042' });
      await c.client.channels.answer({ channelId: callerId });
      await playAndWait(c, callerId, 'sound:hello-world');
      await c.client.channels.hangup({ channelId: callerId });
      await c.s.waitFor(isType('StasisEnd', callerId));
    });
    expectMatchesTrace(c);
  });

  it('body-params-check: JSON body parameters, user events, and the POST /bridges variables bug', async () => {
    const c = await scenario('body-params-check', {}, async (c) => {
      const ch = await c.client.channels.create({ endpoint: 'PJSIP/agent1001', app: 'hotline', variables: { CASE_ID: 'X-1', 'CALLERID(name)': 'Probe' } } as Parameters<Client['channels']['create']>[0]);
      await c.s.waitFor(isType('StasisStart', ch.id));
      expect(await c.client.channels.getChannelVar({ channelId: ch.id, variable: 'CASE_ID' })).toEqual({ value: 'X-1' });
      expect(await c.client.channels.getChannelVar({ channelId: ch.id, variable: 'CALLERID(name)' })).toEqual({ value: 'Probe' });
      // setChannelVars (POST /channels/{id}/variables) is newer than @types/ari-client.
      const channelsApi = c.client.channels as unknown as Record<string, (o: unknown) => Promise<unknown>>;
      await channelsApi.setChannelVars!({ channelId: ch.id, variables: { CASE_ID: 'X-2' } });
      expect(await c.client.channels.getChannelVar({ channelId: ch.id, variable: 'CASE_ID' })).toEqual({ value: 'X-2' });
      await c.client.channels.hangup({ channelId: ch.id });
      await c.s.waitFor(isType('ChannelDestroyed', ch.id));
      await c.client.events.userEvent({ eventName: 'probe', application: 'hotline', variables: { k: 'v' } });
      await c.s.waitFor(isType('ChannelUserevent'));
      const before = c.fake.bridges().length;
      await expect(c.client.bridges.create({ type: 'mixing', name: 'varbridge', variables: { BV: '1' } } as Parameters<Client['bridges']['create']>[0])).rejects.toThrow(
        "Each object value in 'variables' must include string field 'value'",
      );
      // Asterisk 23.4.1 keeps the bridge despite the 400.
      expect(c.fake.bridges().length).toBe(before + 1);
      expect(c.fake.bridges().at(-1)).toMatchObject({ name: 'varbridge', bridge_type: 'mixing' });
      await expect(c.client.channels.get({ channelId: 'does-not-exist' })).rejects.toThrow('Channel not found');
    });
    expectMatchesTrace(c);
  });
});
