/**
 * ARI adapter under load: per-channel serial order, no leaks after 10,000 calls, two nodes.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createTelephony } from '../../src/adapters/ari/index.js';
import type { AriManager, TelephonyPort } from '../../src/adapters/ari/index.js';
import { startFakeAsterisk } from '../fake-asterisk/index.js';
import type { FakeAsterisk } from '../fake-asterisk/index.js';

const log = pino({ level: 'silent' });

async function waitFor<T>(fn: () => T | undefined | null | false, timeoutMs = 5000, what = 'condition'): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function oneNode(): Promise<{ fake: FakeAsterisk; tel: AriManager & TelephonyPort }> {
  const fake = await startFakeAsterisk({ playbackMs: 5 });
  const tel = createTelephony({ nodes: [{ id: 'n1', url: fake.url, username: fake.username, password: fake.password }], app: 'hotline', requestTimeoutMs: 5000 }, log);
  await tel.start();
  cleanups.push(async () => {
    await tel.stop();
    await fake.close();
  });
  return { fake, tel };
}

const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('ARI adapter under load', () => {
  it('handles each channel\'s events one at a time in arrival order while channels run concurrently', async () => {
    const { fake, tel } = await oneNode();
    const calls = 100;
    const digits = '0123456789*#0123456789';
    const seen = new Map<string, string>();
    let running = 0;
    let maxRunning = 0;
    const busy = new Set<string>();
    let overlaps = 0;
    tel.on('ChannelDtmfReceived', async (e) => {
      if (busy.has(e.channel.id)) overlaps++;
      busy.add(e.channel.id);
      running++;
      maxRunning = Math.max(maxRunning, running);
      // Uneven handler time: later digits often finish faster than earlier ones would.
      await new Promise((r) => setTimeout(r, (e.digit.charCodeAt(0) * 7) % 4));
      seen.set(e.channel.id, (seen.get(e.channel.id) ?? '') + e.digit);
      running--;
      busy.delete(e.channel.id);
    });
    const started = new Set<string>();
    tel.on('StasisStart', (e) => { started.add(e.channel.id); });
    const ids = await Promise.all(Array.from({ length: calls }, (_, i) => fake.inboundCall({ callerNumber: `+86139${String(i).padStart(8, '0')}` })));
    await waitFor(() => ids.every((id) => started.has(id)), 10_000, 'all StasisStart');
    for (const id of ids) fake.sendDtmf(id, digits);
    await waitFor(() => ids.every((id) => seen.get(id)?.length === digits.length), 20_000, 'all digits');
    await tel.idle();
    for (const id of ids) expect(seen.get(id)).toBe(digits);
    expect(overlaps).toBe(0);
    expect(maxRunning).toBeGreaterThan(1);
    for (const id of ids) fake.hangup(id);
  });

  it('leaves no listener, queue entry, tracked channel or timer behind after 10,000 finished calls', async () => {
    const { fake, tel } = await oneNode();
    const { handlers: handlersBefore, socketListeners: listenersBefore } = tel.stats();
    expect(listenersBefore).toBeGreaterThan(0);
    const timersBefore = timers();
    let finished = 0;
    // A typical call-layer pattern: watch the call on StasisStart, answer, react to its end.
    const offStart = tel.on('StasisStart', async (e) => {
      tel.watchChannel(e.nodeId, e.channel.id, (ev) => {
        if (ev.type === 'StasisEnd') finished++;
      });
      await tel.node(e.nodeId).channels.answer(e.channel.id);
      await tel.node(e.nodeId).channels.hangup(e.channel.id);
    });
    const total = 10_000;
    const batch = 200;
    for (let i = 0; i < total; i += batch) {
      await Promise.all(Array.from({ length: batch }, (_, j) => fake.inboundCall({ callerNumber: `+86137${String(i + j).padStart(8, '0')}` })));
      // Keep at most a couple of batches in flight so the fake is not flooded.
      await waitFor(() => finished >= i - batch, 30_000, `batch ${i}`);
    }
    await waitFor(() => finished === total, 60_000, 'all calls finished');
    await tel.idle();
    offStart();
    const s = tel.stats();
    expect(s).toMatchObject({ lanes: 0, watchedChannels: 0, knownChannels: 0, inFlight: 0, handlers: handlersBefore, socketListeners: listenersBefore });
    expect(fake.channels()).toHaveLength(0);
    // No per-call timer survives: request deadlines (5 s here) are cleared, heartbeats are per
    // node. The short wait only lets the fake's own zero-delay timers run out.
    await waitFor(() => timers() <= timersBefore, 1000, 'timers back to baseline');
  }, 120_000);

  it('serves two nodes: events carry their node, operations go to the owning node, health per node', async () => {
    const a = await startFakeAsterisk({ playbackMs: 5, asteriskId: '02:fc:00:00:00:0a' });
    const b = await startFakeAsterisk({ playbackMs: 5, asteriskId: '02:fc:00:00:00:0b' });
    const tel = createTelephony({
      nodes: [
        { id: 'ast-a', url: a.url, username: a.username, password: a.password },
        { id: 'ast-b', url: b.url, username: b.username, password: b.password },
      ],
      app: 'hotline', requestTimeoutMs: 2000, backoff: { initialMs: 5, maxMs: 40 },
    }, log);
    const starts: { nodeId: string; id: string; asteriskId: string | undefined }[] = [];
    tel.on('StasisStart', async (e) => {
      starts.push({ nodeId: e.nodeId, id: e.channel.id, asteriskId: e.asterisk_id });
      if (e.args[0] === 'inbound') await tel.node(e.nodeId).channels.answer(e.channel.id);
    });
    await tel.start();
    cleanups.push(async () => {
      await tel.stop();
      await a.close();
      await b.close();
    });
    expect(tel.nodeIds()).toEqual(['ast-a', 'ast-b']);
    expect(tel.health().map((h) => [h.nodeId, h.state])).toEqual([['ast-a', 'connected'], ['ast-b', 'connected']]);

    const ca = await a.inboundCall({ callerNumber: '+8613800000001' });
    const cb = await b.inboundCall({ callerNumber: '+8613800000002' });
    await waitFor(() => starts.length === 2);
    expect(starts).toEqual(expect.arrayContaining([
      { nodeId: 'ast-a', id: ca, asteriskId: '02:fc:00:00:00:0a' },
      { nodeId: 'ast-b', id: cb, asteriskId: '02:fc:00:00:00:0b' },
    ]));
    // Both fakes number channels like Asterisk (`<start epoch>.<n>`), so the ids usually collide:
    // the node must come from the event, and nodeOfChannel refuses to guess.
    if (ca === cb) expect(tel.nodeOfChannel(ca)).toBeUndefined();
    else expect([tel.nodeOfChannel(ca), tel.nodeOfChannel(cb)]).toEqual(['ast-a', 'ast-b']);
    await waitFor(() => a.requests.some((r) => r.path === `/ari/channels/${ca}/answer`) && b.requests.some((r) => r.path === `/ari/channels/${cb}/answer`));
    expect(a.requests.filter((r) => r.path.endsWith('/answer'))).toHaveLength(1);
    expect(b.requests.filter((r) => r.path.endsWith('/answer'))).toHaveLength(1);
    // An originated leg gets our own UUID, so its owner is unambiguous.
    const leg = await tel.node('ast-b').channels.originate({ endpoint: 'PJSIP/agent1001', appArgs: 'agent' });
    expect(tel.nodeOfChannel(leg.id)).toBe('ast-b');
    expect(b.channels().some((c) => c.id === leg.id)).toBe(true);
    expect(a.channels().some((c) => c.id === leg.id)).toBe(false);

    // Round-robin over connected nodes for new legs; a node that drops is skipped until back.
    expect(new Set([tel.pickNode().id, tel.pickNode().id])).toEqual(new Set(['ast-a', 'ast-b']));
    b.setDown(true);
    b.dropWebSockets();
    await waitFor(() => tel.health().find((h) => h.nodeId === 'ast-b')?.state !== 'connected');
    expect([tel.pickNode().id, tel.pickNode().id, tel.pickNode().id]).toEqual(['ast-a', 'ast-a', 'ast-a']);
    expect(tel.health().find((h) => h.nodeId === 'ast-a')?.state).toBe('connected');
    const pings = await tel.ping();
    expect(pings['ast-a']).toMatchObject({ ok: true });
    expect(pings['ast-b']).toMatchObject({ ok: false });
    b.setDown(false);
    await waitFor(() => tel.health().every((h) => h.state === 'connected'), 5000, 'ast-b back');
    a.hangup(ca);
    b.hangup(cb);
  });
});

describe('http.conf sessionlimit', () => {
  const ping = (tel: AriManager & TelephonyPort) => tel.node('n1').asterisk.ping();

  it('the keep-alive transport with maxSockets under the limit survives a burst; ari-client over it times out at the deadline', async () => {
    // Asterisk's default is 100; a small one keeps the burst small. The event WebSocket is a session too.
    const limit = 20;
    const fake = await startFakeAsterisk({ sessionLimit: limit });
    cleanups.push(() => fake.close());
    const pooled = createTelephony({ nodes: [{ id: 'n1', url: fake.url, username: fake.username, password: fake.password }], app: 'hotline', requestTimeoutMs: 2000, maxSockets: 8 }, log);
    await pooled.start();
    cleanups.push(() => pooled.stop());
    expect(pooled.health()[0]?.state).toBe('connected');
    const burst = await Promise.allSettled(Array.from({ length: 300 }, () => ping(pooled)));
    expect(burst.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(fake.refusedSessions).toBe(0);
    await pooled.stop();

    // ari-client opens a connection per request: a burst runs past the limit. The refused ones
    // are never answered and ari-client never calls back; only our deadline ends them.
    const deadline = 800;
    const lib = createTelephony({ nodes: [{ id: 'n1', url: fake.url, username: fake.username, password: fake.password }], app: 'hotline', requestTimeoutMs: deadline, transport: 'ari-client' }, log);
    await lib.start();
    cleanups.push(() => lib.stop());
    expect(lib.health()[0]?.state).toBe('connected');
    const results = await Promise.allSettled(Array.from({ length: 200 }, () => ping(lib)));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(fake.refusedSessions).toBeGreaterThan(0);
    expect(failed.length).toBeGreaterThan(0);
    expect(new Set(failed.map((r) => (r.reason as { code?: string }).code))).toEqual(new Set(['ari_timeout']));
    // Nothing hangs: every request settled (the failed ones by their deadline), none is left in flight.
    expect(lib.stats().inFlight).toBe(0);
  }, 30_000);
});

describe('ari-client transport with several nodes', () => {
  it('connects two nodes with different accounts at once and sends each request with its node\'s account', async () => {
    // swagger-client keeps one process-wide credential registry, and ari-client sets it on connect.
    const a = await startFakeAsterisk({ username: 'hotline-a', password: 'secret-a' });
    const b = await startFakeAsterisk({ username: 'hotline-b', password: 'secret-b' });
    cleanups.push(async () => { await a.close(); await b.close(); });
    const tel = createTelephony({
      nodes: [
        { id: 'ast-a', url: a.url, username: a.username, password: a.password },
        { id: 'ast-b', url: b.url, username: b.username, password: b.password },
      ],
      app: 'hotline', requestTimeoutMs: 3000, transport: 'ari-client', backoff: { initialMs: 5, maxMs: 40 },
    }, log);
    await tel.start(); // both prepare() calls run concurrently
    cleanups.push(() => tel.stop());
    expect(tel.health().map((h) => [h.nodeId, h.state])).toEqual([['ast-a', 'connected'], ['ast-b', 'connected']]);
    const sends = Array.from({ length: 40 }, (_, i) => tel.node(i % 2 === 0 ? 'ast-a' : 'ast-b').channels.list());
    await expect(Promise.all(sends)).resolves.toHaveLength(40);
    const ca = await a.inboundCall({ callerNumber: '+8613800000001' });
    const cb = await b.inboundCall({ callerNumber: '+8613800000002' });
    await Promise.all([tel.node('ast-a').channels.answer(ca), tel.node('ast-b').channels.answer(cb)]);
    // No request was turned away for the other node's credentials: the one 401 per node is
    // ari-client's reachability probe, which sends none (the traces show it too). One connect each.
    for (const fake of [a, b]) {
      expect(fake.requests.filter((r) => r.status === 401).map((r) => r.path)).toEqual(['/ari/api-docs/resources.json']);
      expect(fake.requests.filter((r) => r.path === '/ari/events' && r.status === 101)).toHaveLength(1);
    }
    expect(a.channels().find((c) => c.id === ca)?.state).toBe('Up');
    expect(b.channels().find((c) => c.id === cb)?.state).toBe('Up');
  });
});
