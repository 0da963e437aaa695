/**
 * The manager and connection loop against in-file fakes: a scripted REST transport and an
 * in-process WebSocket server standing in for /ari/events.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { AriManager } from './manager.js';
import type { Channel } from './models.js';
import type { AriRequest, AriTransport } from './transport.js';
import type { ResyncSnapshot } from './types.js';

const log = pino({ level: 'silent' });

class ScriptedTransport implements AriTransport {
  readonly kind = 'keepalive' as const;
  readonly sent: AriRequest[] = [];
  channels: Channel[] = [];
  failLists = 0;
  async prepare(): Promise<void> {}
  stats(): { inFlight: number } { return { inFlight: 0 }; }
  close(): void {}
  async send(req: AriRequest): Promise<unknown> {
    this.sent.push(req);
    const op = `${req.resource}.${req.operation}`;
    if (op === 'channels.list') {
      if (this.failLists > 0) {
        this.failLists--;
        throw new Error('list failed');
      }
      return this.channels;
    }
    if (op === 'bridges.list') return [];
    if (op === 'asterisk.getInfo') return { status: { startup_time: '2026-11-23T18:00:00.000+0000' } };
    return undefined;
  }
}

async function eventServer(): Promise<{ url: string; wss: WebSocketServer; sockets: WebSocket[]; refuse: { on: boolean }; queries: string[] }> {
  const refuse = { on: false };
  const sockets: WebSocket[] = [];
  const queries: string[] = [];
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', verifyClient: (_info, cb) => cb(!refuse.on, 503) });
  wss.on('connection', (ws, req) => {
    sockets.push(ws);
    queries.push(req.url ?? '');
  });
  await once(wss, 'listening');
  return { url: `http://127.0.0.1:${(wss.address() as AddressInfo).port}`, wss, sockets, refuse, queries };
}

const chan = (id: string): Channel => ({
  id, name: `PJSIP/trunk-${id}`, state: 'Ring', caller: { name: '', number: '+8613800138000' }, connected: { name: '', number: '' },
  accountcode: '', dialplan: { context: 'from-trunk', exten: '12345', priority: 2, app_name: 'Stasis', app_data: 'hotline,inbound' }, creationtime: '', language: 'en',
});
// An agent-to-agent call in [agents]: GET /channels lists it, but it is not in our app.
const foreign = (id: string): Channel => ({ ...chan(id), name: `PJSIP/agent1001-${id}`, dialplan: { context: 'agents', exten: '1002', priority: 1, app_name: 'Dial', app_data: 'PJSIP/agent1002' } });

async function waitFor<T>(fn: () => T | undefined | null | false, ms = 3000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()?.();
});

async function setup(): Promise<{ mgr: AriManager; transport: ScriptedTransport; srv: Awaited<ReturnType<typeof eventServer>>; resyncs: ResyncSnapshot[] }> {
  const srv = await eventServer();
  const transport = new ScriptedTransport();
  const mgr = new AriManager(
    { nodes: [{ id: 'n1', url: srv.url, username: 'u', password: 'p w' }], app: 'hotline', backoff: { initialMs: 1, maxMs: 5, factor: 2, jitter: 0 }, downAfterMs: 20 },
    log,
    { transportFactory: () => transport, startWaitMs: 2000 },
  );
  const resyncs: ResyncSnapshot[] = [];
  mgr.onResync((s) => { resyncs.push(s); });
  closers.push(async () => {
    await mgr.stop();
    for (const s of srv.sockets) s.terminate();
    await new Promise((r) => srv.wss.close(r));
  });
  return { mgr, transport, srv, resyncs };
}

describe('AriManager with fakes', () => {
  it('registers the app on the socket, resyncs on connect, and tags events with the node id', async () => {
    const { mgr, transport, srv, resyncs } = await setup();
    transport.channels = [chan('c1'), foreign('x1')];
    await mgr.start();
    expect(srv.queries[0]).toBe('/ari/events?app=hotline&api_key=u:p%20w');
    expect(resyncs).toEqual([expect.objectContaining({ nodeId: 'n1', reason: 'connect', channels: [chan('c1'), foreign('x1')], appChannels: [chan('c1')], restarted: false })]);
    expect(mgr.nodeOfChannel('c1')).toBe('n1');
    expect(mgr.nodeOfChannel('x1')).toBeUndefined();
    const got: string[] = [];
    mgr.on('StasisStart', (e) => { got.push(`${e.nodeId}/${e.channel.id}/${e.args.join(',')}`); });
    srv.sockets[0]?.send(JSON.stringify({ type: 'StasisStart', timestamp: '', application: 'hotline', args: ['inbound'], channel: chan('c2') }));
    await waitFor(() => got.length === 1);
    expect(got).toEqual(['n1/c2/inbound']);
  });

  it('treats a failed resync as a failed attempt: drops the socket, retries, and resyncs before reporting connected', async () => {
    const { mgr, transport, srv, resyncs } = await setup();
    transport.failLists = 2;
    await mgr.start();
    expect(resyncs).toHaveLength(1);
    expect(srv.sockets.length).toBe(3);
    expect(mgr.health()[0]).toMatchObject({ state: 'connected', attempts: 0 });
  });

  it('never gives up: 30 refused upgrades later it connects and resyncs as a reconnect', async () => {
    const { mgr, srv, resyncs } = await setup();
    await mgr.start();
    srv.refuse.on = true;
    for (const s of srv.sockets) s.close(1011, 'going away');
    await waitFor(() => (mgr.health()[0]?.attempts ?? 0) >= 30, 5000);
    expect(mgr.health()[0]).toMatchObject({ state: 'down' });
    expect(mgr.health()[0]?.lastError).toContain('503');
    srv.refuse.on = false;
    await waitFor(() => mgr.health()[0]?.state === 'connected');
    expect(resyncs.map((r) => r.reason)).toEqual(['connect', 'reconnect']);
  });

  it('routes operations to the named node and rejects unknown nodes with a typed error', async () => {
    const { mgr, transport } = await setup();
    await mgr.start();
    await mgr.node('n1').channels.answer('c9');
    expect(transport.sent.at(-1)).toMatchObject({ resource: 'channels', operation: 'answer', method: 'POST', path: '/channels/{channelId}/answer', pathParams: { channelId: 'c9' } });
    expect(() => mgr.node('nope')).toThrow(expect.objectContaining({ code: 'ari_node_unknown' }) as Error);
    expect(() => mgr.nodeFor('c9')).toThrow(expect.objectContaining({ code: 'ari_channel_unknown' }) as Error);
  });

  it('originate picks the channel id up front so the owning node is known before any event', async () => {
    const { mgr, transport } = await setup();
    await mgr.start();
    const p = mgr.node('n1').channels.originate({ endpoint: 'PJSIP/agent1001', appArgs: 'agent', timeout: 20, variables: { CASE_ID: 'X' } });
    const req = transport.sent.at(-1);
    const id = req?.query?.channelId;
    expect(typeof id).toBe('string');
    expect(mgr.nodeOfChannel(id as string)).toBe('n1');
    expect(mgr.nodeFor(id as string).id).toBe('n1');
    expect(req).toMatchObject({ method: 'POST', path: '/channels', query: { endpoint: 'PJSIP/agent1001', app: 'hotline', appArgs: 'agent', timeout: 20 }, body: { variables: { CASE_ID: 'X' } } });
    await p;
  });
});
