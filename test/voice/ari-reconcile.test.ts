/**
 * The adapter's resync snapshot, compared with call rows, tells the call layer what happened
 * while the app was disconnected: a call that stayed up, a caller who left, an orphan channel,
 * and after an Asterisk restart, nothing.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTelephony, toLiveNodeState, type ResyncSnapshot } from '../../src/adapters/ari/index.js';
import { reconcileNode, type KnownCall } from '../../src/domain/telephony/reconcile.js';
import { startFakeAsterisk } from '../fake-asterisk/index.js';
import { until } from '../support/wait.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});


describe('resync → reconcile', () => {
  it('hands the call layer the differences after a reconnect and after a restart', async () => {
    const fake = await startFakeAsterisk({ playbackMs: 20 });
    cleanups.push(() => fake.close());
    const tel = createTelephony({
      nodes: [{ id: 'n1', url: fake.url, username: fake.username, password: fake.password }],
      app: 'hotline', requestTimeoutMs: 2000, backoff: { initialMs: 5, maxMs: 40, factor: 2, jitter: 0.5 }, heartbeatMs: 200,
    }, pino({ level: 'silent' }));
    cleanups.push(() => tel.stop());
    const resyncs: ResyncSnapshot[] = [];
    tel.onResync((s) => void resyncs.push(s));
    await tel.start();
    await until(() => resyncs[0], 'first resync');

    // Two callers queued in a holding bridge; one will leave while we are disconnected.
    const stays = await fake.inboundCall({ callerNumber: '13800138000' });
    const leaves = await fake.inboundCall({ callerNumber: '13900139000' });
    const node = tel.node('n1');
    const bridge = await node.bridges.create({ type: 'holding', name: 'queue-main' });
    await node.bridges.addChannel(bridge.id, stays);
    await node.bridges.addChannel(bridge.id, leaves);
    await node.bridges.startMoh(bridge.id, 'default');
    const known: KnownCall[] = [
      { callId: 'call-stays', nodeId: 'n1', channelIds: [stays], bridgeIds: [bridge.id] },
      { callId: 'call-leaves', nodeId: 'n1', channelIds: [leaves], bridgeIds: [bridge.id] },
    ];

    // A channel in Stasis that no call row claims (e.g. we crashed before persisting it).
    const orphan = await fake.inboundCall({ callerNumber: '13700137000' });

    fake.dropWebSockets();
    fake.hangup(leaves); // happens while nobody listens: no event reaches us
    await until(() => resyncs.find((s) => s.reason === 'reconnect'), 'reconnect resync');
    const after = reconcileNode(toLiveNodeState(resyncs.at(-1)!), known);
    expect(after.calls).toEqual([
      { kind: 'intact', callId: 'call-stays', missingBridges: [] },
      { kind: 'vanished', callId: 'call-leaves', cause: 'channels_gone' },
    ]);
    expect(after.orphanChannels).toEqual([orphan]);
    // The holding bridge's music-on-hold announcer is a live channel, but not ours.
    expect(resyncs.at(-1)!.appChannels.map((c) => c.id).sort()).toEqual([orphan, stays].sort());

    const before = resyncs.length;
    await fake.restart();
    await until(() => (resyncs.length > before ? resyncs.at(-1) : undefined), 'resync after restart');
    const restarted = reconcileNode(toLiveNodeState(resyncs.at(-1)!), known);
    expect(resyncs.at(-1)!.restarted).toBe(true);
    expect(restarted.calls.map((c) => c.kind)).toEqual(['vanished', 'vanished']);
    expect(restarted.calls[0]).toMatchObject({ cause: 'asterisk_restarted' });
  });
});

async function connected(extra: { apps?: string[] } = {}) {
  const fake = await startFakeAsterisk({ playbackMs: 20 });
  cleanups.push(() => fake.close());
  const tel = createTelephony({
    nodes: [{ id: 'n1', url: fake.url, username: fake.username, password: fake.password, ...(extra.apps ? { apps: extra.apps } : {}) }],
    app: 'hotline', requestTimeoutMs: 3000, backoff: { initialMs: 5, maxMs: 40, factor: 2, jitter: 0.5 }, heartbeatMs: 200,
  }, pino({ level: 'silent' }));
  cleanups.push(() => tel.stop());
  const resyncs: ResyncSnapshot[] = [];
  tel.onResync((s) => void resyncs.push(s));
  await tel.start();
  await until(() => resyncs[0], 'first resync');
  return { fake, tel, resyncs };
}

describe('resync: only our channels', () => {
  it('lists every channel but counts as ours only those in our Stasis app and legs we originated', async () => {
    const { fake, tel, resyncs } = await connected();
    const node = tel.node('n1');
    // Another application on the same Asterisk (its own events socket).
    const otherApp = new WebSocket(`${fake.url.replace('http', 'ws')}/ari/events?app=wallboard&api_key=${fake.username}:${fake.password}`);
    cleanups.push(async () => { otherApp.terminate(); });
    await new Promise((r, j) => { otherApp.once('open', r); otherApp.once('error', j); });
    const foreign = await fake.inboundCall({ callerNumber: '13600136000', app: 'wallboard', args: ['x'] });
    // Ours: a caller on hold with music (the announcer is a channel too) and one being recorded.
    const held = await fake.inboundCall({ callerNumber: '13800138000' });
    const holding = await node.bridges.create({ type: 'holding', name: 'queue' });
    await node.bridges.addChannel(holding.id, held);
    await node.bridges.startMoh(holding.id, 'default');
    const talking = await fake.inboundCall({ callerNumber: '13900139000' });
    const mixing = await node.bridges.create({ type: 'mixing', name: 'call' });
    await node.bridges.addChannel(mixing.id, talking);
    await node.bridges.record(mixing.id, { name: `rec-${Date.now()}`, format: 'wav', maxDurationSeconds: 60 });
    // An agent leg we originated that is still ringing: not in Stasis yet, but ours.
    fake.setEndpoint('PJSIP/agent1002', { outcome: 'ring' });
    const ringing = await node.channels.originate({ endpoint: 'PJSIP/agent1002', appArgs: 'agent', timeout: 30 });
    const internal = fake.channels().filter((c) => /^(Announcer|Recorder)\//.test(c.name)).map((c) => c.id);
    expect(internal).toHaveLength(2);

    fake.dropWebSockets();
    const snap = await until(() => resyncs.find((s) => s.reason === 'reconnect'), 'reconnect resync');
    otherApp.terminate();
    expect(snap.channels.map((c) => c.id).sort()).toEqual([foreign, held, talking, ringing.id, ...internal].sort());
    expect(snap.appChannels.map((c) => c.id).sort()).toEqual([held, talking, ringing.id].sort());
    await tel.idle();
    expect([foreign, ...internal].map((id) => tel.nodeOfChannel(id))).toEqual([undefined, undefined, undefined]);
    expect([held, talking, ringing.id].map((id) => tel.nodeOfChannel(id))).toEqual(['n1', 'n1', 'n1']);
    const result = reconcileNode(toLiveNodeState(snap), [
      { callId: 'on-hold', nodeId: 'n1', channelIds: [held], bridgeIds: [holding.id] },
      { callId: 'offering', nodeId: 'n1', channelIds: [talking, ringing.id], bridgeIds: [mixing.id] },
    ]);
    expect(result.orphanChannels).toEqual([]);
    expect(result.calls.map((c) => c.kind)).toEqual(['intact', 'intact']);
  });

  it('a channel that starts or ends while the listing is on its way is neither lost nor brought back', async () => {
    const { fake, tel, resyncs } = await connected();
    const ending = await fake.inboundCall({ callerNumber: '13800138000' });
    await until(() => tel.nodeOfChannel(ending), 'first call known');
    tel.watchChannel('n1', ending, () => {});
    let fresh: string | undefined;
    // The call layer watches every new call from its StasisStart on.
    tel.on('StasisStart', (e) => { if (e.channel.id === fresh) tel.watchChannel(e.nodeId, e.channel.id, () => {}); });
    let listed = false;
    // Asterisk computes GET /channels, and its answer takes 300 ms to arrive.
    fake.setDelay(300, (method, path) => {
      if (method !== 'GET' || path !== '/ari/channels' || listed) return false;
      listed = true;
      // Meanwhile, on the new event socket: a new caller arrives and the first one hangs up.
      setImmediate(() => {
        void fake.inboundCall({ callerNumber: '13900139000' }).then((id) => { fresh = id; });
        fake.hangup(ending);
      });
      return true;
    }, 'response');
    const before = resyncs.length;
    fake.dropWebSockets();
    const snap = await until(() => (resyncs.length > before ? resyncs.at(-1) : undefined), 'reconnect resync');
    fake.setDelay(0);
    await tel.idle();
    expect(fresh).toBeDefined();
    // The stale listing had the ended call and lacked the new one; the events win.
    expect(snap.channels.map((c) => c.id)).toEqual([fresh]);
    expect(snap.appChannels.map((c) => c.id)).toEqual([fresh]);
    expect(tel.nodeOfChannel(fresh!)).toBe('n1');
    expect(tel.nodeOfChannel(ending)).toBeUndefined();
    expect(tel.stats()).toMatchObject({ knownChannels: 1, watchedChannels: 1 });
  });
});
