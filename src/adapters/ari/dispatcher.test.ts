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
    d.resync({ nodeId: 'n1', reason: 'reconnect', channels: [chan('alive')], bridges: [], startupTime: undefined, restarted: false, at: '' }, { apps: ['hotline'] });
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

  it('registers only channels in our Stasis app or originated by us; others are listed but not ours', async () => {
    const d = new EventDispatcher(log);
    const stasis = (id: string, appData: string): Channel => ({ ...chan(id), dialplan: { context: 'from-trunk', exten: '12345', priority: 2, app_name: 'Stasis', app_data: appData } });
    const other = (id: string, appName: string, appData = ''): Channel => ({ ...chan(id), dialplan: { context: 'agents', exten: '1002', priority: 1, app_name: appName, app_data: appData } });
    d.own('ringing-leg', 'n1'); // originate registered our id before the request
    const snapshots: string[][] = [];
    d.onResync((s) => { snapshots.push(s.appChannels.map((c) => c.id)); });
    const snap = d.resync({
      nodeId: 'n1', reason: 'connect', bridges: [], startupTime: undefined, restarted: false, at: '',
      channels: [
        stasis('caller', 'hotline,inbound'), stasis('created', 'hotline'), other('ringing-leg', 'AppDial2', '(Outgoing Line)'),
        other('agent-to-agent', 'Dial', 'PJSIP/agent1002'), other('announcer', ''), other('recorder', ''), stasis('elsewhere', 'otherapp,x'),
      ],
    }, { apps: ['hotline'] });
    expect(snap.channels).toHaveLength(7);
    expect(snap.appChannels.map((c) => c.id)).toEqual(['caller', 'created', 'ringing-leg']);
    await d.idle();
    expect(snapshots).toEqual([['caller', 'created', 'ringing-leg']]);
    expect(['caller', 'created', 'ringing-leg', 'agent-to-agent', 'announcer', 'elsewhere'].map((id) => d.nodeOfChannel(id)))
      .toEqual(['n1', 'n1', 'n1', undefined, undefined, undefined]);
    // A foreign channel whose id another node's call uses does not make that call ambiguous.
    d.own('agent-to-agent', 'n2');
    expect(d.nodeOfChannel('agent-to-agent')).toBe('n2');
  });

  it('lets events that arrive during the listing win over it (reconnect race)', async () => {
    const d = new EventDispatcher(log);
    const stasis = (id: string): Channel => ({ ...chan(id), dialplan: { context: 'from-trunk', exten: '12345', priority: 2, app_name: 'Stasis', app_data: 'hotline,inbound' } });
    d.dispatch(ev('StasisStart', 'ends', { args: [] }));
    d.dispatch(ev('StasisStart', 'leaves', { args: [] }));
    await d.idle();
    const window = d.beginResync('n1');
    // The listing is taken now (it has 'ends' and 'leaves', not 'new' or 'leg')...
    const listed = [stasis('ends'), stasis('leaves')];
    // ...then, before its answer arrives, the new socket delivers:
    d.dispatch(ev('StasisStart', 'new', { args: ['inbound'], channel: stasis('new') }));
    d.watchChannel('n1', 'new', () => {});
    d.dispatch(ev('ChannelDestroyed', 'ends', { cause: 16, cause_txt: 'Normal Clearing' }));
    d.dispatch(ev('StasisEnd', 'leaves'));
    d.own('leg', 'n1'); // an originate
    await d.idle();
    const snap = d.resync({ nodeId: 'n1', reason: 'reconnect', channels: listed, bridges: [], startupTime: undefined, restarted: false, at: '' }, { apps: ['hotline'], window });
    await d.idle();
    expect(snap.channels.map((c) => c.id).sort()).toEqual(['leaves', 'new']);
    expect(snap.appChannels.map((c) => c.id)).toEqual(['new']);
    expect(d.nodeOfChannel('new')).toBe('n1');
    expect(d.stats().watchedChannels).toBe(1);
    expect(d.nodeOfChannel('leg')).toBe('n1');
    expect(d.nodeOfChannel('ends')).toBeUndefined();
    expect(d.nodeOfChannel('leaves')).toBeUndefined();
    // Once the window is closed a later listing prunes as usual.
    d.resync({ nodeId: 'n1', reason: 'reconnect', channels: [], bridges: [], startupTime: undefined, restarted: false, at: '' }, { apps: ['hotline'] });
    expect([d.nodeOfChannel('new'), d.nodeOfChannel('leg'), d.stats().watchedChannels]).toEqual([undefined, undefined, 0]);
  });

  it('removes handlers on unsubscribe', () => {
    const d = new EventDispatcher(log);
    const offs = [d.on('StasisStart', () => {}), d.onAny(() => {}), d.onResync(() => {}), d.onStateChange(() => {}), d.watchChannel('n1', 'c', () => {})];
    expect(d.stats().handlers).toBe(4);
    for (const off of offs) off();
    expect(d.stats()).toMatchObject({ handlers: 0, watchedChannels: 0 });
  });
});
