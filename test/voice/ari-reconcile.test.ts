/**
 * The adapter's resync snapshot, compared with call rows, tells the call layer what happened
 * while the app was disconnected: a call that stayed up, a caller who left, an orphan channel,
 * and after an Asterisk restart, nothing.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
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

    const before = resyncs.length;
    await fake.restart();
    await until(() => (resyncs.length > before ? resyncs.at(-1) : undefined), 'resync after restart');
    const restarted = reconcileNode(toLiveNodeState(resyncs.at(-1)!), known);
    expect(resyncs.at(-1)!.restarted).toBe(true);
    expect(restarted.calls.map((c) => c.kind)).toEqual(['vanished', 'vanished']);
    expect(restarted.calls[0]).toMatchObject({ cause: 'asterisk_restarted' });
  });
});
