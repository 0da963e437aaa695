import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { EventDispatcher, eventKey } from './dispatcher.js';
import type { Channel, NodeEvent } from './models.js';

const log = pino({ level: 'silent' });
const chan = (id: string, number = '13800138000'): Channel => ({
  id, name: `PJSIP/trunk-${id}`, state: 'Up', caller: { name: '', number }, connected: { name: '', number: '' },
  accountcode: '', dialplan: { context: 'from-trunk', exten: '12345', priority: 2 }, creationtime: '', language: 'en',
});
const base = { timestamp: '', application: 'hotline', nodeId: 'n1' } as const;
const ev = (type: string, channelId: string, extra: Record<string, unknown> = {}): NodeEvent =>
  ({ ...base, type, channel: chan(channelId), ...extra }) as unknown as NodeEvent;

describe('eventKey', () => {
  it('keys channel events, Dial peers and channel playbacks by channel; bridge events by bridge', () => {
    expect(eventKey('n1', ev('StasisStart', 'c1', { args: [] }))).toBe('n1\u0000c1');
    expect(eventKey('n1', { ...base, type: 'Dial', dialstatus: '', peer: chan('c2') })).toBe('n1\u0000c2');
    expect(eventKey('n1', { ...base, type: 'PlaybackStarted', playback: { id: 'p', media_uri: 'sound:x', target_uri: 'channel:c3', state: 'playing' } })).toBe('n1\u0000c3');
    expect(eventKey('n1', { ...base, type: 'RecordingStarted', recording: { name: 'r', format: 'wav', target_uri: 'bridge:b1', state: 'recording' } })).toBe('n1\u0000bridge:b1');
    expect(eventKey('n1', { ...base, type: 'BridgeDestroyed', bridge: { id: 'b1' } })).toBe('n1\u0000bridge:b1');
    expect(eventKey('n2', { ...base, nodeId: 'n2', type: 'ChannelUserevent', eventname: 'x', userevent: {} })).toBe('n2\u0000*');
  });
});

describe('EventDispatcher', () => {
  it('delivers typed, any and watch handlers, then forgets the channel at StasisEnd', async () => {
    const d = new EventDispatcher(log);
    const seen: string[] = [];
    d.on('StasisStart', (e) => { seen.push(`typed:${e.type}:${e.channel.id}`); });
    d.onAny((e) => { seen.push(`any:${e.type}`); });
    d.dispatch(ev('StasisStart', 'c1', { args: ['inbound'] }));
    await d.idle();
    expect(d.nodeOfChannel('c1')).toBe('n1');
    d.watchChannel('n1', 'c1', (e) => { seen.push(`watch:${e.type}`); });
    d.dispatch(ev('ChannelDtmfReceived', 'c1', { digit: '1', duration_ms: 100 }));
    d.dispatch(ev('StasisEnd', 'c1'));
    await d.idle();
    expect(seen).toEqual(['typed:StasisStart:c1', 'any:StasisStart', 'any:ChannelDtmfReceived', 'watch:ChannelDtmfReceived', 'any:StasisEnd', 'watch:StasisEnd']);
    expect(d.stats()).toMatchObject({ lanes: 0, watchedChannels: 0, knownChannels: 0 });
  });

  it('keeps ownership across StasisEnd → StasisStart re-entry (continueInDialplan)', async () => {
    const d = new EventDispatcher(log);
    d.on('StasisEnd', async () => { await new Promise((r) => setTimeout(r, 5)); });
    d.dispatch(ev('StasisStart', 'c1', { args: ['inbound'] }));
    d.dispatch(ev('StasisEnd', 'c1'));
    d.dispatch(ev('StasisStart', 'c1', { args: ['returned'] }));
    await d.idle();
    expect(d.nodeOfChannel('c1')).toBe('n1');
  });

  it('keeps per-channel order while a slow handler runs, and isolates handler errors', async () => {
    const d = new EventDispatcher(log);
    const order: string[] = [];
    d.on('ChannelDtmfReceived', async (e) => {
      if (e.digit === '1') await new Promise((r) => setTimeout(r, 10));
      if (e.digit === '2') throw new Error('handler bug');
      order.push(`${e.channel.id}:${e.digit}`);
    });
    for (const digit of ['1', '2', '3']) d.dispatch(ev('ChannelDtmfReceived', 'slow', { digit, duration_ms: 1 }));
    d.dispatch(ev('ChannelDtmfReceived', 'fast', { digit: '9', duration_ms: 1 }));
    await d.idle();
    expect(order).toEqual(['fast:9', 'slow:1', 'slow:3']);
  });

  it('on resync forgets channels and watches of that node that are gone, and tells resync handlers', async () => {
    const d = new EventDispatcher(log);
    d.dispatch(ev('StasisStart', 'alive', { args: [] }));
    d.dispatch(ev('StasisStart', 'gone', { args: [] }));
    d.dispatch({ ...ev('StasisStart', 'other', { args: [] }), nodeId: 'n2' });
    await d.idle();
    d.watchChannel('n1', 'alive', () => {});
    d.watchChannel('n1', 'gone', () => {});
    const snapshots: string[][] = [];
    d.onResync((s) => { snapshots.push(s.channels.map((c) => c.id)); });
    d.resync({ nodeId: 'n1', reason: 'reconnect', channels: [chan('alive')], bridges: [], startupTime: undefined, restarted: false, at: '' });
    await d.idle();
    expect(snapshots).toEqual([['alive']]);
    expect(d.nodeOfChannel('gone')).toBeUndefined();
    expect(d.nodeOfChannel('alive')).toBe('n1');
    expect(d.nodeOfChannel('other')).toBe('n2');
    // The same id on two nodes (Asterisk ids are `<start epoch>.<n>`) is ambiguous: no guess.
    d.own('alive', 'n2');
    expect(d.nodeOfChannel('alive')).toBeUndefined();
    d.forget('n2', 'alive');
    expect(d.nodeOfChannel('alive')).toBe('n1');
    expect(d.stats().watchedChannels).toBe(1);
  });

  it('removes handlers on unsubscribe', () => {
    const d = new EventDispatcher(log);
    const offs = [d.on('StasisStart', () => {}), d.onAny(() => {}), d.onResync(() => {}), d.onStateChange(() => {}), d.watchChannel('n1', 'c', () => {})];
    expect(d.stats().handlers).toBe(4);
    for (const off of offs) off();
    expect(d.stats()).toMatchObject({ handlers: 0, watchedChannels: 0 });
  });
});
