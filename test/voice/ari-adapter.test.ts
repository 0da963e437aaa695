/**
 * ARI adapter against the fake Asterisk: connection, typed events and every operation kind,
 * once per REST transport (the call layer must not see a difference).
 */
import { Readable } from 'node:stream';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AriHttpError, createTelephony } from '../../src/adapters/ari/index.js';
import type { AriManager, NodeEvent, ResyncSnapshot, TelephonyPort, TransportKind } from '../../src/adapters/ari/index.js';
import { startFakeAsterisk } from '../fake-asterisk/index.js';
import type { FakeAsterisk } from '../fake-asterisk/index.js';

const log = pino({ level: 'silent' });

async function waitFor<T>(fn: () => T | undefined | null | false, timeoutMs = 3000, what = 'condition'): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe.each<TransportKind>(['keepalive', 'ari-client'])('ARI adapter over the %s transport', (transport) => {
  let fake: FakeAsterisk;
  let tel: AriManager & TelephonyPort;
  let events: NodeEvent[];
  const resyncs: ResyncSnapshot[] = [];
  const nodeId = 'ast1';

  const find = <T extends NodeEvent['type']>(type: T, pred: (e: Extract<NodeEvent, { type: T }>) => boolean = () => true): Extract<NodeEvent, { type: T }> | undefined =>
    events.find((e): e is Extract<NodeEvent, { type: T }> => e.type === type && pred(e as Extract<NodeEvent, { type: T }>));
  const waitEvent = <T extends NodeEvent['type']>(type: T, pred?: (e: Extract<NodeEvent, { type: T }>) => boolean, ms = 3000): Promise<Extract<NodeEvent, { type: T }>> =>
    waitFor(() => find(type, pred), ms, type);
  const inbound = async (callerNumber = '+8613800138000', extra: Record<string, unknown> = {}): Promise<string> => {
    const id = await fake.inboundCall({ callerNumber, ...extra });
    await waitEvent('StasisStart', (e) => e.channel.id === id);
    return id;
  };

  beforeAll(async () => {
    fake = await startFakeAsterisk({ channelVars: ['CASE_ID'], playbackMs: 20, timeScale: 0.05 });
    tel = createTelephony({ nodes: [{ id: nodeId, url: fake.url, username: fake.username, password: fake.password }], app: 'hotline', requestTimeoutMs: 2000, transport }, log);
    tel.onAny((e) => { events.push(e as NodeEvent); });
    tel.onResync((s) => { resyncs.push(s); });
    events = [];
    await tel.start();
  });
  afterAll(async () => {
    await tel.stop();
    await fake.close();
  });
  afterEach(() => { events = []; });

  it('connects, reports health, resyncs on connect and answers ping', async () => {
    expect(tel.health()).toEqual([expect.objectContaining({ nodeId, state: 'connected', lastError: undefined, transport })]);
    await waitFor(() => resyncs.length > 0);
    expect(resyncs[0]).toMatchObject({ nodeId, reason: 'connect', channels: [], bridges: [], restarted: false });
    const ping = await tel.ping();
    expect(ping[nodeId]).toMatchObject({ ok: true });
    const pong = await tel.node(nodeId).asterisk.ping();
    expect(pong.ping).toBe('pong');
    const info = await tel.node(nodeId).asterisk.info();
    expect(info.status?.startup_time).toEqual(expect.any(String));
  });

  it('delivers typed call events with the node id: StasisStart, state change, DTMF, hangup request without cause, StasisEnd', async () => {
    const starts: string[] = [];
    const off = tel.on('StasisStart', (e) => { starts.push(`${e.nodeId}:${e.args.join(',')}:${e.channel.caller.number}`); });
    const id = await inbound('+8613912345678');
    expect(starts).toContain(`${nodeId}:inbound:+8613912345678`);
    expect(tel.nodeOfChannel(id)).toBe(nodeId);
    const watched: string[] = [];
    tel.watchChannel(nodeId, id, (e) => { watched.push(e.type); });

    await tel.node(nodeId).channels.answer(id);
    await waitEvent('ChannelStateChange', (e) => e.channel.id === id && e.channel.state === 'Up');
    fake.sendDtmf(id, '12#');
    await waitFor(() => events.filter((e) => e.type === 'ChannelDtmfReceived' && e.channel.id === id).length === 3);
    expect(events.filter((e) => e.type === 'ChannelDtmfReceived').map((e) => (e as { digit: string }).digit)).toEqual(['1', '2', '#']);

    fake.hangup(id);
    const hr = await waitEvent('ChannelHangupRequest', (e) => e.channel.id === id);
    expect(hr.cause).toBeUndefined();
    await waitEvent('StasisEnd', (e) => e.channel.id === id);
    await tel.idle();
    expect(watched).toEqual(expect.arrayContaining(['ChannelStateChange', 'ChannelDtmfReceived', 'ChannelHangupRequest', 'StasisEnd']));
    expect(watched.at(-1)).toBe('StasisEnd');
    expect(tel.nodeOfChannel(id)).toBeUndefined();
    expect(tel.stats()).toMatchObject({ watchedChannels: 0, lanes: 0 });
    off();
  });

  it('plays sound:, digits:, number: and a media list, with PlaybackStarted/Finished; stops a playback', async () => {
    const id = await inbound();
    const ch = tel.node(nodeId).channels;
    await ch.answer(id);
    const p1 = await ch.play(id, 'sound:hello-world', { lang: 'en' });
    expect(p1).toMatchObject({ media_uri: 'sound:hello-world', target_uri: `channel:${id}` });
    await waitEvent('PlaybackFinished', (e) => e.playback.id === p1.id);
    expect(find('PlaybackStarted', (e) => e.playback.id === p1.id)).toBeDefined();
    const p2 = await ch.play(id, ['digits:2026', 'number:42'], { playbackId: 'pb-fixed-id' });
    expect(p2.id).toBe('pb-fixed-id');
    await waitEvent('PlaybackFinished', (e) => e.playback.id === 'pb-fixed-id');
    const p3 = await ch.play(id, 'sound:queue-periodic-announce');
    await tel.node(nodeId).playbacks.stop(p3.id).catch((err: unknown) => {
      // Already finished in the fake (20 ms playbacks) is a legitimate 404.
      expect(err).toBeInstanceOf(AriHttpError);
    });
    await ch.hangup(id, { reason: 'normal' });
    await waitEvent('StasisEnd', (e) => e.channel.id === id);
  });

  it('reads channelvars and variables, sets a variable (ChannelVarset)', async () => {
    const id = await inbound('+8613800000001', { vars: { CASE_ID: 'CASE-2026-0042' } });
    const start = find('StasisStart', (e) => e.channel.id === id);
    expect(start?.channel.channelvars).toEqual({ CASE_ID: 'CASE-2026-0042' });
    const ch = tel.node(nodeId).channels;
    expect(await ch.getVariable(id, 'CASE_ID')).toBe('CASE-2026-0042');
    await ch.setVariable(id, 'TICKET_ID', 'GD202611230001');
    expect(await ch.getVariable(id, 'TICKET_ID')).toBe('GD202611230001');
    await waitEvent('ChannelVarset', (e) => e.channel?.id === id && e.variable === 'TICKET_ID');
    await ch.hangup(id);
  });

  it('maps Asterisk errors to AriHttpError with status and message', async () => {
    const err = await tel.node(nodeId).channels.get('does-not-exist').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AriHttpError);
    expect(err).toMatchObject({ ariStatus: 404, ariMessage: 'Channel not found', code: 'ari_not_found', nodeId });
  });

  it('bridges a caller with an originated agent, records the bridge, and fetches the stored recording', async () => {
    fake.setEndpoint('PJSIP/agent1001', { outcome: 'answer', answerAfterMs: 10 });
    const node = tel.node(nodeId);
    const caller = await inbound();
    await node.channels.answer(caller);
    const bridge = await node.bridges.create({ type: 'mixing', name: `hotline-${caller}` });
    expect(bridge).toMatchObject({ bridge_type: 'mixing', name: `hotline-${caller}` });
    await node.bridges.addChannel(bridge.id, caller);
    const agent = await node.channels.originate({ endpoint: 'PJSIP/agent1001', appArgs: 'agent', callerId: 'Hotline <12345>', timeout: 20 });
    expect(tel.nodeOfChannel(agent.id)).toBe(nodeId);
    await waitEvent('StasisStart', (e) => e.channel.id === agent.id && e.args[0] === 'agent');
    await node.bridges.addChannel(bridge.id, agent.id);
    await waitEvent('ChannelEnteredBridge', (e) => e.channel.id === agent.id && e.bridge.id === bridge.id);
    expect((await node.bridges.get(bridge.id)).channels).toEqual(expect.arrayContaining([caller, agent.id]));
    expect((await node.bridges.list()).map((b) => b.id)).toContain(bridge.id);

    const name = `rec-${transport}-${Date.now()}`;
    const live = await node.bridges.record(bridge.id, { name, format: 'wav', maxDurationSeconds: 1, ifExists: 'overwrite', beep: false });
    expect(live).toMatchObject({ name, target_uri: `bridge:${bridge.id}` });
    await waitEvent('RecordingStarted', (e) => e.recording.name === name);
    await node.recordings.stopLive(name);
    await waitEvent('RecordingFinished', (e) => e.recording.name === name);
    expect((await node.recordings.listStored()).map((r) => r.name)).toContain(name);
    expect(await node.recordings.getStored(name)).toMatchObject({ name, format: 'wav' });
    const file = await node.recordings.getStoredFile(name);
    expect(Buffer.isBuffer(file)).toBe(true);
    // Byte-exact WAV: RIFF chunk size is the file length minus 8.
    expect(file.subarray(0, 4).toString('latin1')).toBe('RIFF');
    expect(file.readUInt32LE(4)).toBe(file.length - 8);
    const stream = await node.recordings.streamStoredFile(name);
    expect(stream).toBeInstanceOf(Readable);
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(file)).toBe(true);
    await node.recordings.deleteStored(name);
    await expect(node.recordings.getStored(name)).rejects.toMatchObject({ ariStatus: 404 });

    await node.channels.hangup(agent.id);
    await waitEvent('ChannelLeftBridge', (e) => e.channel.id === agent.id);
    await node.bridges.removeChannel(bridge.id, caller);
    await node.bridges.destroy(bridge.id);
    await waitEvent('BridgeDestroyed', (e) => e.bridge.id === bridge.id);
    await node.channels.hangup(caller);
  });

  it('reports a busy agent leg only as ChannelDestroyed with cause 17 / tech_cause 486, and forgets it', async () => {
    fake.setEndpoint('PJSIP/agent1002', { outcome: 'busy' });
    const agent = await tel.node(nodeId).channels.originate({ endpoint: 'PJSIP/agent1002', appArgs: 'agent', timeout: 20 });
    const destroyed = await waitEvent('ChannelDestroyed', (e) => e.channel.id === agent.id);
    expect(destroyed).toMatchObject({ cause: 17, tech_cause: 486, nodeId });
    expect(find('StasisStart', (e) => e.channel.id === agent.id)).toBeUndefined();
    await tel.idle();
    expect(tel.nodeOfChannel(agent.id)).toBeUndefined();
  });

  it('reports an unanswered agent leg as ChannelDestroyed with cause 19 / tech_cause 480', async () => {
    fake.setEndpoint('PJSIP/agent1002', { outcome: 'noanswer' });
    const agent = await tel.node(nodeId).channels.originate({ endpoint: 'PJSIP/agent1002', appArgs: 'agent', timeout: 2 });
    const destroyed = await waitEvent('ChannelDestroyed', (e) => e.channel.id === agent.id, 5000);
    expect(destroyed).toMatchObject({ cause: 19, tech_cause: 480 });
  });

  it('holding bridge with music on hold; stopping it after the caller left is a typed 409', async () => {
    const node = tel.node(nodeId);
    const caller = await inbound();
    await node.channels.answer(caller);
    const bridge = await node.bridges.create({ type: 'holding', name: `queue-${caller}` });
    expect(bridge.bridge_type).toBe('holding');
    await node.bridges.addChannel(bridge.id, caller, { role: 'participant' });
    await node.bridges.startMoh(bridge.id, 'default');
    fake.hangup(caller);
    await waitEvent('StasisEnd', (e) => e.channel.id === caller);
    const err = await node.bridges.stopMoh(bridge.id).catch((e: unknown) => e);
    expect(err).toMatchObject({ ariStatus: 409, code: 'ari_conflict' });
    await node.bridges.destroy(bridge.id);
  });

  it('plays to a bridge and controls channel media (hold, mute, moh, ring)', async () => {
    const node = tel.node(nodeId);
    const caller = await inbound();
    await node.channels.ring(caller);
    await node.channels.ringStop(caller);
    await node.channels.answer(caller);
    await node.channels.hold(caller);
    await node.channels.unhold(caller);
    await node.channels.mute(caller, 'in');
    await node.channels.unmute(caller, 'in');
    await node.channels.startMoh(caller, 'default');
    await node.channels.stopMoh(caller);
    const bridge = await node.bridges.create({ type: ['mixing'] });
    await node.bridges.addChannel(bridge.id, [caller]);
    const pb = await node.bridges.play(bridge.id, 'sound:beep');
    expect(pb.target_uri).toBe(`bridge:${bridge.id}`);
    await waitEvent('PlaybackFinished', (e) => e.playback.id === pb.id);
    await node.channels.hangup(caller);
    await node.bridges.destroy(bridge.id);
  });

  it('snoops, sends DTMF, continues in the dialplan (StasisEnd → StasisStart returned)', async () => {
    const node = tel.node(nodeId);
    const caller = await inbound();
    await node.channels.answer(caller);
    const snoop = await node.channels.snoop(caller, { app: 'hotline', spy: 'both', appArgs: 'monitor' });
    expect(tel.nodeOfChannel(snoop.id)).toBe(nodeId);
    await waitEvent('StasisStart', (e) => e.channel.id === snoop.id);
    await node.channels.hangup(snoop.id);
    await node.channels.sendDtmf(caller, '5', { duration: 100 });
    await node.channels.continueInDialplan(caller, { context: 'from-trunk', extension: 'after-stasis', priority: 1 });
    await waitEvent('StasisEnd', (e) => e.channel.id === caller);
    const back = await waitEvent('StasisStart', (e) => e.channel.id === caller && e.args[0] === 'returned', 5000);
    expect(back.nodeId).toBe(nodeId);
    await tel.idle();
    expect(tel.nodeOfChannel(caller)).toBe(nodeId);
    await node.channels.hangup(caller, { reasonCode: 16 });
  });

  it('creates a channel and dials it (Dial events), lists and gets channels', async () => {
    fake.setEndpoint('PJSIP/agent1001', { outcome: 'answer', answerAfterMs: 10 });
    const node = tel.node(nodeId);
    const created = await node.channels.create({ endpoint: 'PJSIP/agent1001', appArgs: 'agent', variables: { CASE_ID: 'X-1' } });
    expect(tel.nodeOfChannel(created.id)).toBe(nodeId);
    // A created channel can be dialed once it is in Stasis (body-params-check.jsonl: StasisStart follows create).
    await waitEvent('StasisStart', (e) => e.channel.id === created.id);
    await node.channels.dial(created.id, { timeout: 10 });
    await waitEvent('Dial', (e) => e.peer.id === created.id && e.dialstatus === 'ANSWER');
    expect((await node.channels.list()).map((c) => c.id)).toContain(created.id);
    expect((await node.channels.get(created.id)).id).toBe(created.id);
    expect(await node.channels.getVariable(created.id, 'CASE_ID')).toBe('X-1');
    await node.channels.hangup(created.id);
  });

  it('lists endpoints, manages application subscriptions and global variables', async () => {
    const node = tel.node(nodeId);
    const eps = await node.endpoints.list();
    expect(eps.map((e) => `${e.technology}/${e.resource}`)).toEqual(expect.arrayContaining(['PJSIP/trunk', 'PJSIP/agent1001']));
    expect(await node.endpoints.get('PJSIP', 'agent1001')).toMatchObject({ technology: 'PJSIP', resource: 'agent1001' });
    const app = await node.applications.subscribe('hotline', 'endpoint:PJSIP/agent1001');
    expect(app.endpoint_ids).toContain('PJSIP/agent1001');
    expect((await node.applications.get('hotline')).name).toBe('hotline');
    expect((await node.applications.list()).map((a) => a.name)).toContain('hotline');
    const after = await node.applications.unsubscribe('hotline', 'endpoint:PJSIP/agent1001');
    expect(after.endpoint_ids).not.toContain('PJSIP/agent1001');
    await node.asterisk.setGlobalVariable('HOTLINE_MODE', 'day');
    expect(await node.asterisk.getGlobalVariable('HOTLINE_MODE')).toBe('day');
  });

  it('never sends variables in POST /bridges; sets them afterwards on the bridge', async () => {
    const node = tel.node(nodeId);
    const before = fake.requests.length;
    const bridge = await node.bridges.create({ type: 'mixing', name: 'varbridge', variables: { BV: '1' } });
    const sent = fake.requests.slice(before);
    const create = sent.find((r) => r.method === 'POST' && r.path === '/ari/bridges');
    expect(create).toMatchObject({ status: 200, body: null });
    expect(sent.some((r) => r.method === 'POST' && r.path === `/ari/bridges/${bridge.id}/variable` && r.query.variable === 'BV')).toBe(true);
    expect(await node.bridges.getVariable(bridge.id, 'BV')).toBe('1');
    await node.bridges.destroy(bridge.id);
  });
});
