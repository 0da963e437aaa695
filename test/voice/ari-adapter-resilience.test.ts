/**
 * ARI adapter when things go wrong: socket drops, Asterisk restarts, Asterisk down for a while,
 * slow answers. Short backoffs keep these quick.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { TimeoutError, UnavailableError } from '../../src/domain/errors.js';
import { createTelephony } from '../../src/adapters/ari/index.js';
import type { AriManager, NodeHealth, ResyncSnapshot, TelephonyPort, TransportKind } from '../../src/adapters/ari/index.js';
import { startFakeAsterisk } from '../fake-asterisk/index.js';
import type { FakeAsterisk } from '../fake-asterisk/index.js';

const log = pino({ level: 'silent' });
const FAST = { initialMs: 5, maxMs: 40, factor: 2, jitter: 0.5 };

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

async function setup(transport: TransportKind = 'keepalive', extra: { requestTimeoutMs?: number; downAfterMs?: number } = {}): Promise<{
  fake: FakeAsterisk; tel: AriManager & TelephonyPort; resyncs: ResyncSnapshot[]; states: NodeHealth[]; starts: string[];
}> {
  const fake = await startFakeAsterisk({ playbackMs: 20 });
  const tel = createTelephony({
    nodes: [{ id: 'a1', url: fake.url, username: fake.username, password: fake.password }],
    app: 'hotline', transport, requestTimeoutMs: extra.requestTimeoutMs ?? 1000, backoff: FAST, heartbeatMs: 200, downAfterMs: extra.downAfterMs ?? 30_000,
  }, log);
  const resyncs: ResyncSnapshot[] = [];
  const states: NodeHealth[] = [];
  const starts: string[] = [];
  tel.onResync((s) => { resyncs.push(s); });
  tel.onStateChange((h) => { states.push(h); });
  tel.on('StasisStart', (e) => { starts.push(e.channel.id); });
  await tel.start();
  cleanups.push(async () => {
    await tel.stop();
    await fake.close();
  });
  return { fake, tel, resyncs, states, starts };
}

describe('ARI adapter resilience', () => {
  it.each<TransportKind>(['keepalive', 'ari-client'])('reconnects after the event socket drops and resyncs with the live calls (%s)', async (transport) => {
    const { fake, tel, resyncs, states, starts } = await setup(transport);
    const live = await fake.inboundCall({ callerNumber: '+8613800138000' });
    await waitFor(() => starts.includes(live));
    tel.watchChannel('a1', live, () => {});

    fake.dropWebSockets();
    await waitFor(() => states.some((s) => s.state === 'reconnecting'), 5000, 'reconnecting');
    const again = await waitFor(() => resyncs.find((r) => r.reason === 'reconnect'), 5000, 'reconnect resync');
    expect(again.channels.map((c) => c.id)).toContain(live);
    expect(again.restarted).toBe(false);
    expect(tel.health()[0]).toMatchObject({ state: 'connected', attempts: 0 });
    // The live call is still known and watched; new calls reach us again.
    expect(tel.nodeOfChannel(live)).toBe('a1');
    expect(tel.stats().watchedChannels).toBe(1);
    const next = await fake.inboundCall({ callerNumber: '+8613800138001' });
    await waitFor(() => starts.includes(next), 3000, 'StasisStart after reconnect');
  });

  it('after an Asterisk restart the resync reports the calls gone and the adapter forgets them', async () => {
    const { fake, tel, resyncs, starts } = await setup();
    const live = await fake.inboundCall({ callerNumber: '+8613800138000' });
    await waitFor(() => starts.includes(live));
    tel.watchChannel('a1', live, () => {});
    const first = resyncs.length;

    await fake.restart();
    const snap = await waitFor(() => resyncs.slice(first).find((r) => r.reason === 'reconnect'), 8000, 'resync after restart');
    expect(snap.channels).toEqual([]);
    expect(snap.bridges).toEqual([]);
    expect(snap.restarted).toBe(true);
    await tel.idle();
    expect(tel.nodeOfChannel(live)).toBeUndefined();
    expect(tel.stats()).toMatchObject({ watchedChannels: 0, knownChannels: 0 });
    const next = await fake.inboundCall({ callerNumber: '+8613800138002' });
    await waitFor(() => starts.includes(next), 3000, 'StasisStart after restart');
  });

  it('keeps retrying while Asterisk is down (well past 10 attempts), reports down, then recovers', async () => {
    const { fake, tel, resyncs, states } = await setup('keepalive', { downAfterMs: 100 });
    fake.setDown(true);
    fake.dropWebSockets();
    await waitFor(() => (tel.health()[0]?.attempts ?? 0) > 12, 10_000, 'more than 12 attempts');
    await waitFor(() => tel.health()[0]?.state === 'down', 5000, 'down');
    const h = tel.health()[0];
    expect(h?.lastError).toEqual(expect.any(String));
    expect(Date.parse(h?.since ?? '')).toBeGreaterThan(0);
    const before = resyncs.length;

    fake.setDown(false);
    await waitFor(() => tel.health()[0]?.state === 'connected', 5000, 'connected again');
    expect(resyncs.length).toBeGreaterThan(before);
    expect(resyncs.at(-1)?.reason).toBe('reconnect');
    expect(tel.health()[0]).toMatchObject({ attempts: 0, lastError: undefined });
    expect(states.map((s) => s.state)).toEqual(expect.arrayContaining(['reconnecting', 'down', 'connected']));
  });

  it.each<TransportKind>(['keepalive', 'ari-client'])('fails a slow request at its deadline with ari_timeout and leaves no timer (%s)', async (transport) => {
    const { fake, tel } = await setup(transport, { requestTimeoutMs: 150 });
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    fake.setDelay(1000, (_method: string, path: string) => path.startsWith('/ari/channels'));
    const t0 = Date.now();
    const err = await tel.node('a1').channels.list().catch((e: unknown) => e);
    const took = Date.now() - t0;
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err).toMatchObject({ code: 'ari_timeout', status: 504 });
    expect(took).toBeGreaterThanOrEqual(140);
    expect(took).toBeLessThan(900);
    // Requests not matching the delay still answer promptly.
    await expect(tel.node('a1').bridges.list()).resolves.toEqual([]);
    fake.setDelay(0);
    expect(tel.stats().inFlight).toBe(0);
    // Once the fake's own 1 s delay timer is done, the process is back to its timers from before.
    await waitFor(() => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length <= timersBefore, 3000, 'timers back to baseline');
  });

  it('fails fast with ari_unavailable when nothing listens', async () => {
    const { fake, tel } = await setup('keepalive');
    await fake.close();
    const err = await tel.node('a1').channels.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err).toMatchObject({ code: 'ari_unavailable' });
  });
});
