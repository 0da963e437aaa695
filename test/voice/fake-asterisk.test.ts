// The fake Asterisk's own behaviour: originate outcomes, failure controls (WebSocket drop,
// restart, delay, down), HTTP semantics and keep-alive.
import { request as httpRequest, Agent } from 'node:http';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { connectAri, channelIdOf, type AriSession } from '../fake-asterisk/ari-session.js';
import { startFakeAsterisk, type AriEvent, type FakeAsterisk, type FakeAsteriskOptions } from '../fake-asterisk/index.js';

const open: Array<{ fake: FakeAsterisk; sessions: AriSession[] }> = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    for (const s of o.sessions) s.close();
    await o.fake.close();
  }
});

async function setup(opts: FakeAsteriskOptions = {}, apps: string[] = ['hotline']): Promise<{ fake: FakeAsterisk; s: AriSession }> {
  const fake = await startFakeAsterisk({ playbackMs: 20, timeScale: 0.01, channelVars: ['CASE_ID'], ...opts });
  const s = await connectAri(fake.url, fake.username, fake.password, apps);
  open.push({ fake, sessions: [s] });
  return { fake, s };
}

interface Res {
  status: number;
  body: unknown;
  raw: Buffer;
  reused: boolean;
}

function ari(fake: FakeAsterisk, method: string, path: string, o: { body?: unknown; auth?: boolean; agent?: Agent } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const payload = o.body === undefined ? undefined : JSON.stringify(o.body);
    const req = httpRequest(
      `${fake.url}/ari${path}`,
      {
        method,
        agent: o.agent ?? false,
        headers: {
          ...(o.auth === false ? {} : { Authorization: `Basic ${Buffer.from(`${fake.username}:${fake.password}`).toString('base64')}` }),
          ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          const json = (res.headers['content-type'] ?? '').includes('json') && raw.length ? (JSON.parse(raw.toString()) as unknown) : undefined;
          resolve({ status: res.statusCode ?? 0, body: json, raw, reused: req.reusedSocket });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const is = (type: string, chId?: string) => (e: AriEvent): boolean => e.type === type && (chId === undefined || channelIdOf(e) === chId);
const peerId = (e: AriEvent): string | undefined => (e.peer as { id?: string } | undefined)?.id;

async function originate(s: AriSession, endpoint: string, timeout = 20): Promise<string> {
  const channelId = randomUUID();
  await s.client.channels.originate({ endpoint, app: 'hotline', appArgs: 'agent,7', callerId: 'Hotline <12345>', timeout, channelId });
  return channelId;
}

function typesFor(s: AriSession, chId: string): string[] {
  return s.received.filter((e) => channelIdOf(e) === chId || peerId(e) === chId).map((e) => (e.type === 'Dial' ? `Dial:${String(e.dialstatus)}` : String(e.type)));
}

describe('originate outcomes', () => {
  it('answer: ringing, answered, then StasisStart with the app args', async () => {
    const { fake, s } = await setup();
    fake.setEndpoint('PJSIP/agent1001', { outcome: 'answer', answerAfterMs: 10 });
    const id = await originate(s, 'PJSIP/agent1001');
    const start = await s.waitFor(is('StasisStart', id));
    expect(start.args).toEqual(['agent', '7']);
    expect(start.channel).toMatchObject({ id, state: 'Up', caller: { name: 'Hotline', number: '12345' }, dialplan: { app_name: 'Stasis', app_data: 'hotline,agent,7' } });
    expect(typesFor(s, id)).toEqual(['Dial:', 'ChannelStateChange', 'Dial:RINGING', 'ChannelStateChange', 'Dial:ANSWER', 'ChannelVarset', 'StasisStart']);
  });

  it('busy: ChannelDestroyed 17/486 and never StasisStart', async () => {
    const { fake, s } = await setup();
    fake.setEndpoint('PJSIP/agent1002', { outcome: 'busy' });
    const id = await originate(s, 'PJSIP/agent1002');
    const gone = await s.waitFor(is('ChannelDestroyed', id));
    expect(gone).toMatchObject({ cause: 17, cause_txt: 'User busy', tech_cause: 486 });
    expect(typesFor(s, id)).toEqual(['Dial:', 'ChannelHangupRequest', 'Dial:BUSY', 'ChannelDestroyed']);
    expect(fake.channels().some((c) => c.id === id)).toBe(false);
  });

  it('congestion: ChannelDestroyed with cause 34', async () => {
    const { fake, s } = await setup();
    fake.setEndpoint('PJSIP/agent1002', { outcome: 'congestion' });
    const id = await originate(s, 'PJSIP/agent1002');
    expect(await s.waitFor(is('ChannelDestroyed', id))).toMatchObject({ cause: 34, cause_txt: 'Circuit/channel congestion' });
    expect(typesFor(s, id)).toContain('Dial:CONGESTION');
  });

  it('noanswer: ChannelDestroyed 19/480 after the (scaled) originate timeout', async () => {
    const { fake, s } = await setup({ timeScale: 0.02 });
    fake.setEndpoint('PJSIP/agent1001', { outcome: 'noanswer' });
    const t0 = Date.now();
    const id = await originate(s, 'PJSIP/agent1001', 5);
    const gone = await s.waitFor(is('ChannelDestroyed', id));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
    expect(gone).toMatchObject({ cause: 19, cause_txt: 'User alerting, no answer', tech_cause: 480 });
    expect(gone.channel).toMatchObject({ state: 'Ringing' });
    expect(typesFor(s, id)).toEqual(['Dial:', 'ChannelStateChange', 'Dial:RINGING', 'ChannelDestroyed']);
  });

  it('ring: rings until the test answers it', async () => {
    const { fake, s } = await setup();
    fake.setEndpoint('PJSIP/agent1001', { outcome: 'ring' });
    const id = await originate(s, 'PJSIP/agent1001', -1);
    await s.waitFor((e) => e.type === 'Dial' && e.dialstatus === 'RINGING' && peerId(e) === id);
    await new Promise((r) => setTimeout(r, 50));
    expect(fake.channels().find((c) => c.id === id)?.state).toBe('Ringing');
    fake.answer(id);
    expect((await s.waitFor(is('StasisStart', id))).args).toEqual(['agent', '7']);
  });

  it('REST failures: unknown/offline endpoint 500, malformed endpoint 400, duplicate id 409', async () => {
    const { fake } = await setup();
    fake.setEndpoint('PJSIP/agent1002', { outcome: 'answer', online: false });
    expect(await ari(fake, 'POST', '/channels?endpoint=PJSIP/nobody&app=hotline')).toMatchObject({ status: 500, body: { message: 'Allocation failed' } });
    expect(await ari(fake, 'POST', '/channels?endpoint=PJSIP/agent1002&app=hotline')).toMatchObject({ status: 500 });
    expect(await ari(fake, 'POST', '/channels?endpoint=agent1001&app=hotline')).toMatchObject({ status: 400 });
    expect(await ari(fake, 'POST', '/channels?app=hotline')).toMatchObject({ status: 400, body: { message: 'Endpoint must be specified' } });
    const id = randomUUID();
    expect(await ari(fake, 'POST', `/channels/${id}?endpoint=PJSIP/agent1001&app=hotline`)).toMatchObject({ status: 200, body: { id, state: 'Down' } });
    expect(await ari(fake, 'POST', `/channels?endpoint=PJSIP/agent1001&app=hotline&channelId=${id}`)).toMatchObject({ status: 409 });
  });
});

describe('failure controls', () => {
  it('dropWebSockets: events are lost while disconnected, channels stay, ari-client reconnects', async () => {
    const { fake, s } = await setup();
    const id = await fake.inboundCall({ callerNumber: '13800000000' });
    await s.waitFor(is('StasisStart', id));
    fake.dropWebSockets();
    expect(fake.isAppConnected('hotline')).toBe(false);
    fake.sendDtmf(id, '1');
    const deadline = Date.now() + 3000;
    while (!fake.isAppConnected('hotline') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(fake.isAppConnected('hotline')).toBe(true);
    fake.sendDtmf(id, '2');
    const dtmf = await s.waitFor(is('ChannelDtmfReceived', id));
    expect(dtmf.digit).toBe('2');
    expect(s.received.filter(is('ChannelDtmfReceived')).map((e) => e.digit)).toEqual(['2']);
    expect(fake.channels().map((c) => c.id)).toContain(id);
  });

  it('restart: channels and bridges gone, same port, new start time, clients reconnect', async () => {
    const { fake, s } = await setup();
    const id = await fake.inboundCall({ callerNumber: '13800000000' });
    await s.waitFor(is('StasisStart', id));
    await s.client.bridges.create({ type: 'holding', name: 'q' });
    const before = (await ari(fake, 'GET', '/asterisk/info')).body as { status: { startup_time: string } };
    const port = fake.port;
    await new Promise((r) => setTimeout(r, 5));
    await fake.restart();
    expect(fake.port).toBe(port);
    expect(fake.channels()).toEqual([]);
    expect(fake.bridges()).toEqual([]);
    expect((await ari(fake, 'GET', '/channels')).body).toEqual([]);
    const after = (await ari(fake, 'GET', '/asterisk/info')).body as { status: { startup_time: string } };
    expect(after.status.startup_time).not.toBe(before.status.startup_time);
    const deadline = Date.now() + 3000;
    while (!fake.isAppConnected('hotline') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const id2 = await fake.inboundCall({ callerNumber: '13900000000' });
    await s.waitFor(is('StasisStart', id2));
  });

  it('setDelay delays matching REST responses only', async () => {
    const { fake } = await setup();
    fake.setDelay(150, (method, path) => method === 'GET' && path === '/ari/asterisk/ping');
    let t0 = Date.now();
    expect((await ari(fake, 'GET', '/asterisk/ping')).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    t0 = Date.now();
    expect((await ari(fake, 'GET', '/channels')).status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(100);
    fake.setDelay(0);
    t0 = Date.now();
    await ari(fake, 'GET', '/asterisk/ping');
    expect(Date.now() - t0).toBeLessThan(100);
  });

  it('setDown refuses connections and drops sockets until it is up again', async () => {
    const { fake } = await setup();
    fake.setDown(true);
    expect(fake.isAppConnected('hotline')).toBe(false);
    await expect(ari(fake, 'GET', '/channels')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    fake.setDown(false);
    expect((await ari(fake, 'GET', '/channels')).status).toBe(200);
  });

  it('inboundCall refuses when the Stasis app has no WebSocket', async () => {
    const { fake } = await setup();
    await expect(fake.inboundCall({ callerNumber: '1', app: 'other' })).rejects.toThrow(/no events WebSocket/);
  });
});

describe('HTTP semantics', () => {
  it('401 without auth, api_key accepted, 404/405 for unknown routes', async () => {
    const { fake } = await setup();
    expect(await ari(fake, 'GET', '/channels', { auth: false })).toMatchObject({ status: 401 });
    expect((await ari(fake, 'GET', `/channels?api_key=${fake.username}:${fake.password}`, { auth: false })).status).toBe(200);
    expect((await ari(fake, 'GET', '/nothing')).status).toBe(404);
    expect((await ari(fake, 'PUT', '/channels')).status).toBe(405);
  });

  it('variables, 404s, 422 for a channel outside Stasis, MOH 409, recordings and the WAV file', async () => {
    const { fake, s } = await setup({ timeScale: 0.01 });
    const id = await fake.inboundCall({ callerNumber: '13800000000', vars: { CASE_ID: 'C-1' } });
    await s.waitFor(is('StasisStart', id));
    expect(await ari(fake, 'GET', `/channels/${id}/variable?variable=NOPE`)).toMatchObject({ status: 404, body: { message: 'Provided variable was not found' } });
    expect(await ari(fake, 'GET', `/channels/${id}/variable?variable=CASE_ID`)).toMatchObject({ status: 200, body: { value: 'C-1' } });
    expect(await ari(fake, 'GET', '/channels/nope')).toMatchObject({ status: 404, body: { message: 'Channel not found' } });
    expect(await ari(fake, 'DELETE', '/bridges/nope')).toMatchObject({ status: 404, body: { message: 'Bridge not found' } });
    const bridge = (await ari(fake, 'POST', '/bridges?type=mixing')).body as { id: string };
    expect((await ari(fake, 'DELETE', `/bridges/${bridge.id}/moh`)).status).toBe(409);
    expect((await ari(fake, 'POST', `/bridges/${bridge.id}/addChannel`)).status).toBe(400);
    // A channel that is not in Stasis cannot be bridged.
    fake.setEndpoint('PJSIP/agent1001', { outcome: 'ring' });
    const agent = await originate(s, 'PJSIP/agent1001', -1);
    expect((await ari(fake, 'POST', `/bridges/${bridge.id}/addChannel?channel=${agent}`)).status).toBe(422);
    expect((await ari(fake, 'POST', `/bridges/${bridge.id}/addChannel?channel=${id}`)).status).toBe(204);
    expect((await ari(fake, 'POST', `/bridges/${bridge.id}/record?name=r1&format=wav&maxDurationSeconds=3`)).status).toBe(201);
    expect((await ari(fake, 'POST', `/bridges/${bridge.id}/record?name=r1&format=wav`)).status).toBe(409);
    const done = await s.waitFor(is('RecordingFinished'));
    expect(done.recording).toMatchObject({ name: 'r1', format: 'wav', state: 'done', target_uri: `bridge:${bridge.id}` });
    expect(fake.storedRecordings()).toEqual(['r1']);
    const file = await ari(fake, 'GET', '/recordings/stored/r1/file');
    expect(file.status).toBe(200);
    expect(file.raw.subarray(0, 4).toString()).toBe('RIFF');
    expect(file.raw.subarray(8, 12).toString()).toBe('WAVE');
    expect((await ari(fake, 'DELETE', '/recordings/stored/r1')).status).toBe(204);
    expect((await ari(fake, 'GET', '/recordings/stored/r1')).status).toBe(404);
  });

  it('playbacks queue per channel; hangup fails the running one', async () => {
    const { fake, s } = await setup({ mediaDurations: { 'sound:long': 5000 } });
    const id = await fake.inboundCall({ callerNumber: '1' });
    await s.waitFor(is('StasisStart', id));
    const a = (await ari(fake, 'POST', `/channels/${id}/play?media=sound:a`)).body as { id: string; state: string };
    const b = (await ari(fake, 'POST', `/channels/${id}/play?media=sound:long`)).body as { id: string };
    expect(a.state).toBe('queued');
    const finishedA = await s.waitFor((e) => e.type === 'PlaybackFinished' && (e.playback as { id: string }).id === a.id);
    expect(finishedA.playback).toMatchObject({ state: 'done' });
    await s.waitFor((e) => e.type === 'PlaybackStarted' && (e.playback as { id: string }).id === b.id);
    fake.hangup(id);
    const finishedB = await s.waitFor((e) => e.type === 'PlaybackFinished' && (e.playback as { id: string }).id === b.id);
    expect(finishedB.playback).toMatchObject({ state: 'failed' });
    await s.waitFor(is('StasisEnd', id));
  });

  it('events go only to the apps subscribed to the objects; subscribeAll sees everything', async () => {
    const { fake, s } = await setup({}, ['hotline']);
    const other = await connectAri(fake.url, fake.username, fake.password, 'other');
    open[open.length - 1]!.sessions.push(other);
    const id = await fake.inboundCall({ callerNumber: '1', app: 'hotline' });
    await s.waitFor(is('StasisStart', id));
    const id2 = await fake.inboundCall({ callerNumber: '2', app: 'other', args: ['x'] });
    await other.waitFor(is('StasisStart', id2));
    expect(s.received.some((e) => channelIdOf(e) === id2)).toBe(false);
    expect(other.received.some((e) => channelIdOf(e) === id)).toBe(false);
    await other.client.applications.subscribe({ applicationName: 'other', eventSource: `channel:${id}` });
    fake.sendDtmf(id, '9');
    expect((await other.waitFor(is('ChannelDtmfReceived', id))).application).toBe('other');
  });

  it('snoop channels enter Stasis and die with their target', async () => {
    const { fake, s } = await setup();
    const id = await fake.inboundCall({ callerNumber: '1' });
    await s.waitFor(is('StasisStart', id));
    const snoop = await s.client.channels.snoopChannel({ channelId: id, app: 'hotline', appArgs: 'spy', spy: 'both' });
    expect((await s.waitFor(is('StasisStart', snoop.id))).args).toEqual(['spy']);
    fake.hangup(id);
    await s.waitFor(is('StasisEnd', snoop.id));
    expect(fake.channels()).toEqual([]);
  });

  it('REST surface through ari-client: live/stored recordings, playlists, applications, continue', async () => {
    const { fake, s } = await setup();
    const c = s.client;
    const id = await fake.inboundCall({ callerNumber: '1' });
    const b = await c.bridges.create({ type: 'mixing' });
    await c.bridges.addChannel({ bridgeId: b.id, channel: id });
    expect(await c.bridges.record({ bridgeId: b.id, name: 'x', format: 'wav' })).toMatchObject({ name: 'x', state: 'queued' });
    await s.waitFor(is('RecordingStarted'));
    expect(await c.recordings.getLive({ recordingName: 'x' })).toMatchObject({ name: 'x', state: 'recording' });
    await c.recordings.stop({ recordingName: 'x' });
    const file = await c.recordings.getStoredFile({ recordingName: 'x' });
    expect(Buffer.from(file).subarray(0, 4).toString()).toBe('RIFF');
    expect(await c.recordings.copyStored({ recordingName: 'x', destinationRecordingName: 'y' })).toMatchObject({ name: 'y', format: 'wav' });
    expect((await c.recordings.listStored()).map((r) => r.name)).toEqual(['x', 'y']);
    const [app] = await c.applications.list();
    expect(app).toMatchObject({ name: 'hotline', channel_ids: [id], bridge_ids: [b.id] });
    const pb = await c.channels.play({ channelId: id, media: ['sound:a', 'sound:b'] });
    expect(pb).toMatchObject({ media_uri: 'sound:a', next_media_uri: 'sound:b' });
    await s.waitFor((e) => e.type === 'PlaybackFinished' && (e.playback as { id: string }).id === pb.id);
    expect(s.received.filter((e) => (e.playback as { id?: string } | undefined)?.id === pb.id).map((e) => e.type)).toEqual(['PlaybackStarted', 'PlaybackContinuing', 'PlaybackFinished']);
    await expect(c.events.userEvent({ eventName: 'x', application: 'nope' })).rejects.toThrow('Application not found');
    // Continuing without a target runs the next priority (Hangup()): the channel ends.
    await c.bridges.removeChannel({ bridgeId: b.id, channel: id });
    await c.channels.continueInDialplan({ channelId: id });
    await s.waitFor(is('StasisEnd', id));
    const deadline = Date.now() + 1000;
    while (fake.channels().length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(fake.channels()).toEqual([]);
  });

  it('keep-alive connections are reused, and ~300 fresh connections per second are served', async () => {
    const { fake } = await setup();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    let reused = 0;
    for (let i = 0; i < 50; i++) if ((await ari(fake, 'GET', '/asterisk/ping', { agent })).reused) reused++;
    agent.destroy();
    expect(reused).toBe(49);
    const t0 = Date.now();
    const results = await Promise.all(Array.from({ length: 300 }, () => ari(fake, 'GET', '/channels')));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(1500);
  });
});
