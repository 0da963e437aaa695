import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { amiReadiness, createAmiAdapter, type AmiAdapter, type AmiAdapterConfig, type AmiEvent, type EndpointStatusChange } from '../../src/adapters/ami/index.js';
import type { BlockEntry, SecurityAlert } from '../../src/domain/security/index.js';
import { captureEvents, frameGet, parseAmiCapture } from '../fake-asterisk/ami-capture.js';
import { FakeAmiServer } from '../fake-asterisk/ami-server.js';
import { managerWrite } from '../support/asterisk-conf.js';

const logger = pino({ level: 'silent' });
const TRACES = join(import.meta.dirname, '../../../shared/ari-traces');

async function waitFor(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function seedPbx(server: FakeAmiServer): void {
  server.endpoints = [
    { name: 'agent1001', deviceState: 'Not in use' },
    { name: 'agent1002', deviceState: 'Unavailable' },
    { name: 'trunk', aor: 'trunk', deviceState: 'Not in use' },
  ];
  server.contacts = [
    { aor: 'agent1001', endpoint: 'agent1001', uri: 'sip:agent1001@192.0.2.10:5062;ob', status: 'Reachable', roundtripUsec: '1523', userAgent: 'Yealink SIP-T46U' },
    { aor: 'trunk', endpoint: '', uri: 'sip:carrier.example.net:5060', status: 'NonQualified' },
  ];
  server.registrations = [
    { name: 'carrier-reg', endpoint: 'trunk', serverUri: 'sip:carrier.example.net', clientUri: 'sip:12345@carrier.example.net', status: 'Registered' },
  ];
}

describe('AMI adapter against the fake AMI server', () => {
  let server: FakeAmiServer;
  let adapter: AmiAdapter | undefined;
  let dir: string;

  function config(overrides: Partial<AmiAdapterConfig> = {}, security: Partial<AmiAdapterConfig['security']> = {}): AmiAdapterConfig {
    return {
      host: '127.0.0.1', port: server.port, username: 'hotline', password: 'secret', actionTimeoutMs: 1000,
      security: { threshold: 3, windowMs: 10_000, blockMs: 60_000, allowCidrs: ['10.0.0.0/8'], aclFile: join(dir, 'pjsip-blocklist.conf'), ...security },
      tuning: { connectTimeoutMs: 1000, backoff: { initialMs: 30, maxMs: 150, jitter: 0.2 }, authFailureDelayMs: 400, pingIntervalMs: 0, seedRetryMs: 50 },
      ...overrides,
    };
  }

  function started(cfg: AmiAdapterConfig = config()): AmiAdapter {
    adapter = createAmiAdapter(cfg, logger);
    adapter.start();
    return adapter;
  }

  beforeEach(async () => {
    server = new FakeAmiServer({ username: 'hotline', secret: 'secret' });
    await server.start();
    dir = await mkdtemp(join(tmpdir(), 'ami-adapter-'));
  });

  afterEach(async () => {
    await adapter?.close();
    adapter = undefined;
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('logs in, turns events on and seeds endpoint state from the PJSIP list actions', async () => {
    seedPbx(server);
    const a = started();
    await waitFor(() => a.endpoints.isSeeded(), 'seeding');
    expect(a.status()).toMatchObject({ state: 'connected', lastError: null, session: 1 });
    expect(server.logins).toEqual([expect.objectContaining({ username: 'hotline', ok: true })]);
    expect(server.actions('Events')[0]?.headers.eventmask).toBe('on');
    const agent = a.endpoints.get('agent1001');
    expect(agent).toMatchObject({ online: true, deviceState: 'not_inuse' });
    expect(agent?.contacts).toEqual([{ uri: 'sip:agent1001@192.0.2.10:5062;ob', address: '192.0.2.10:5062', status: 'reachable', rttMs: 1.5, userAgent: 'Yealink SIP-T46U' }]);
    expect(a.endpoints.get('agent1002')).toMatchObject({ online: false, contacts: [], deviceState: 'unavailable' });
    // The static trunk contact has no Endpoint field: resolved through the endpoint's AOR.
    expect(a.endpoints.get('trunk')).toMatchObject({ online: true, registration: 'registered' });
    expect(a.endpoints.registrations()).toEqual([expect.objectContaining({ name: 'carrier-reg', endpoint: 'trunk', status: 'registered' })]);
  });

  it('reports bad credentials clearly and does not hammer Asterisk', async () => {
    const a = started(config({ password: 'wrong' }));
    await waitFor(() => a.status().lastError?.code === 'ami_login_failed', 'login failure');
    expect(a.status().state).not.toBe('connected');
    expect(a.status().lastError?.message).toContain('Authentication failed');
    await sleep(700);
    // authFailureDelayMs = 400: at most two attempts in ~0.7 s, not one per backoff step (30 ms).
    expect(server.logins.length).toBeGreaterThanOrEqual(1);
    expect(server.logins.length).toBeLessThanOrEqual(3);
    expect(server.logins.every((l) => !l.ok)).toBe(true);
    await expect(a.client.action('Ping')).rejects.toMatchObject({ code: 'ami_unavailable' });
  });

  it('gives up a login that is never answered at the connect deadline, then retries', async () => {
    server.swallow('Login');
    const a = started(config({ tuning: { connectTimeoutMs: 150, backoff: { initialMs: 30, maxMs: 60, jitter: 0 }, pingIntervalMs: 0 } }));
    await waitFor(() => a.status().lastError?.code === 'ami_connect_timeout', 'connect timeout');
    server.swallow('Login', false);
    await waitFor(() => a.status().state === 'connected', 'connected after retry');
    expect(server.actions('Login').length).toBeGreaterThanOrEqual(2);
  });

  it('tracks ContactStatus transitions and emits typed endpoint changes', async () => {
    seedPbx(server);
    const a = started();
    await waitFor(() => a.endpoints.isSeeded(), 'seeding');
    const changes: EndpointStatusChange[] = [];
    a.endpoints.onChange((c) => changes.push(c));
    const contact = { URI: 'sip:agent1001@192.0.2.10:5062;ob', AOR: 'agent1001', EndpointName: 'agent1001' };

    server.emitEvent('ContactStatus', { ...contact, ContactStatus: 'Unreachable', RoundtripUsec: '0' });
    await waitFor(() => changes.length === 1, 'offline change');
    expect(changes[0]).toMatchObject({ endpoint: 'agent1001', onlineChanged: true, contactsChanged: true, current: { online: false } });

    server.emitEvent('ContactStatus', { ...contact, ContactStatus: 'Reachable', RoundtripUsec: '2100' });
    await waitFor(() => changes.length === 2, 'online change');
    expect(changes[1]?.current).toMatchObject({ online: true, contacts: [{ status: 'reachable', rttMs: 2.1, address: '192.0.2.10:5062' }] });

    server.emitEvent('ContactStatus', { ...contact, ContactStatus: 'Removed', RoundtripUsec: '0' });
    await waitFor(() => changes.length === 3, 'removal');
    expect(changes[2]?.current).toMatchObject({ online: false, contacts: [] });

    // The phone registers again from another address (new URI): Created counts as online.
    server.emitEvent('ContactStatus', { URI: 'sip:agent1001@198.51.100.23:40112', AOR: 'agent1001', EndpointName: 'agent1001', ContactStatus: 'Created', RoundtripUsec: '0' });
    await waitFor(() => changes.length === 4, 're-registration');
    expect(changes[3]?.current).toMatchObject({ online: true, contacts: [{ address: '198.51.100.23:40112', status: 'created' }] });

    // PeerStatus for an endpoint without contact information.
    server.emitEvent('PeerStatus', { ChannelType: 'PJSIP', Peer: 'PJSIP/agent1002', PeerStatus: 'Reachable' });
    await waitFor(() => a.endpoints.get('agent1002')?.online === true, 'peer status');
    // Outbound registration of the trunk lost.
    server.emitEvent('Registry', { ChannelType: 'PJSIP', Username: 'sip:12345@carrier.example.net', Domain: 'sip:carrier.example.net', Status: 'Rejected', Cause: '403 Forbidden' });
    await waitFor(() => a.endpoints.registrations()[0]?.status === 'rejected', 'registry');
    expect(a.endpoints.get('trunk')?.registration).toBe('rejected');
  });

  it('counts security events per source, alerts, blocks through the ACL file and lifts the block on expiry', async () => {
    const a = started(config({}, { blockMs: 400 }));
    await waitFor(() => a.status().state === 'connected', 'connect');
    const alerts: SecurityAlert[] = [];
    const lifted: BlockEntry[] = [];
    a.security.onAlert((x) => alerts.push(x));
    a.security.onUnblocked((x) => lifted.push(x));
    const attack = (kind: string, account: string): void => server.emitEvent(kind, {
      EventTV: '2026-11-23T18:29:34.709+0000', Severity: 'Error', Service: 'PJSIP', EventVersion: '1', AccountID: account,
      SessionID: '0x7f8580005550', LocalAddress: 'IPV4/UDP/192.0.2.1/5060', RemoteAddress: 'IPV4/UDP/203.0.113.7/5060',
    });
    attack('InvalidAccountID', 'admin');
    attack('ChallengeResponseFailed', '1001');
    await sleep(50);
    expect(alerts).toEqual([]);
    attack('InvalidPassword', '1001');
    await waitFor(() => alerts.length === 1, 'alert');
    expect(alerts[0]).toMatchObject({ address: '203.0.113.7', failures: 3, services: ['PJSIP'] });
    expect(a.security.blocked().map((b) => b.address)).toEqual(['203.0.113.7']);
    await waitFor(() => server.reloads.length === 2, 'ACL reload');
    // The first apply rewrote an absent file (empty list), the second added the block.
    expect(server.actions('Reload')[0]?.headers.module).toBe('res_pjsip.so');
    expect(server.actions('Command')).toEqual([]);
    // The server sees the reload before the adapter has its response.
    await waitFor(() => a.status().blocklist.state === 'ok', 'blocklist applied');
    const file = await readFile(join(dir, 'pjsip-blocklist.conf'), 'utf8');
    expect(file).toContain('[hotline-blocklist]\ntype=acl\n');
    expect(file).toContain('deny=203.0.113.7/32');

    // Further failures from a blocked source (FailedACL) do not alert again.
    attack('FailedACL', '');
    await sleep(50);
    expect(alerts).toHaveLength(1);

    await waitFor(() => lifted.length === 1, 'expiry', 2000);
    expect(lifted[0]?.address).toBe('203.0.113.7');
    expect(a.security.blocked()).toEqual([]);
    await waitFor(() => server.reloads.length === 3, 'reload after expiry');
    expect(await readFile(join(dir, 'pjsip-blocklist.conf'), 'utf8')).not.toContain('deny=');
  });

  it('never blocks allow-listed sources, and supports manual block/unblock', async () => {
    const a = started();
    await waitFor(() => a.status().state === 'connected', 'connect');
    const alerts: SecurityAlert[] = [];
    a.security.onAlert((x) => alerts.push(x));
    for (let i = 0; i < 10; i++) {
      server.emitEvent('InvalidPassword', { Service: 'PJSIP', AccountID: 'trunk', RemoteAddress: 'IPV4/UDP/10.20.30.40/5060', LocalAddress: 'IPV4/UDP/192.0.2.1/5060' });
    }
    await sleep(100);
    expect(alerts).toEqual([]);
    expect(a.security.blocked()).toEqual([]);
    await expect(a.security.block('10.1.2.3')).rejects.toMatchObject({ code: 'address_allowlisted' });

    const entry = await a.security.block('198.51.100.77', { reason: 'scanner seen by the carrier' });
    expect(entry).toMatchObject({ address: '198.51.100.77', manual: true });
    expect(await readFile(join(dir, 'pjsip-blocklist.conf'), 'utf8')).toContain('deny=198.51.100.77/32');
    expect((await a.security.unblock('198.51.100.77'))?.address).toBe('198.51.100.77');
    expect(await readFile(join(dir, 'pjsip-blocklist.conf'), 'utf8')).not.toContain('deny=');
  });

  it('reconnects after the connection drops and seeds again', async () => {
    seedPbx(server);
    const a = started();
    await waitFor(() => a.endpoints.isSeeded(), 'first seed');
    expect(a.endpoints.get('agent1001')?.online).toBe(true);
    const changes: EndpointStatusChange[] = [];
    a.endpoints.onChange((c) => changes.push(c));
    const states: string[] = [];
    a.client.onStatus((s) => states.push(s.state));

    // While we are away the phone goes unreachable: no event reaches us, only the re-seed tells.
    server.contacts = server.contacts.map((c) => (c.endpoint === 'agent1001' ? { ...c, status: 'Unreachable' } : c));
    server.dropConnections();
    await waitFor(() => a.status().session === 2 && a.endpoints.isSeeded(), 'second session seeded');
    expect(states).toEqual(expect.arrayContaining(['down', 'connecting', 'connected']));
    expect(server.actions('PJSIPShowEndpoints')).toHaveLength(2);
    expect(server.logins.filter((l) => l.ok)).toHaveLength(2);
    expect(a.endpoints.get('agent1001')?.online).toBe(false);
    expect(changes.some((c) => c.endpoint === 'agent1001' && c.onlineChanged && !c.current.online)).toBe(true);
  });

  it('keeps retrying while Asterisk is down and recovers when it is back', async () => {
    seedPbx(server);
    const a = started();
    await waitFor(() => a.endpoints.isSeeded(), 'seed');
    await server.refuse();
    await waitFor(() => a.status().state !== 'connected' && a.status().lastError?.code === 'ami_unavailable' && a.status().failedAttempts >= 3, 'several failed attempts');
    expect(a.endpoints.isSeeded()).toBe(false);
    await expect(a.client.action('Ping')).rejects.toMatchObject({ code: 'ami_unavailable' });
    await server.resume();
    await waitFor(() => a.status().state === 'connected' && a.endpoints.isSeeded(), 'recovery');
    expect(a.status()).toMatchObject({ lastError: null, failedAttempts: 0, session: 2 });
  });

  it('fails a slow action at its deadline and keeps the session usable', async () => {
    const a = started();
    await waitFor(() => a.status().state === 'connected', 'connect');
    server.delay('Command', 400);
    const started_ = Date.now();
    await expect(a.client.action('Command', { Command: 'core show uptime' }, { timeoutMs: 100 })).rejects.toMatchObject({ code: 'ami_timeout', status: 504 });
    expect(Date.now() - started_).toBeLessThan(350);
    server.delay('Command', 0);
    server.commandOutput = (cmd) => (cmd === 'core show uptime' ? ['System uptime: 28 seconds', 'Last reload: 28 seconds'] : []);
    const res = await a.client.action('Command', { Command: 'core show uptime' });
    expect(res.output).toEqual(['System uptime: 28 seconds', 'Last reload: 28 seconds']);
    expect((await a.client.action('Ping')).fields.ping).toBe('Pong');
    await expect(a.client.action('NoSuchAction')).rejects.toMatchObject({ code: 'ami_action_failed' });
    await expect(a.client.action('Command', { Command: 'x\r\nAction: Originate' })).rejects.toMatchObject({ code: 'ami_invalid_parameter' });
  });

  it('reconnects when the keep-alive Ping goes unanswered', async () => {
    const a = started(config({ actionTimeoutMs: 200, tuning: { connectTimeoutMs: 1000, backoff: { initialMs: 30, maxMs: 150, jitter: 0 }, pingIntervalMs: 50 } }));
    await waitFor(() => a.status().state === 'connected', 'connect');
    server.swallow('Ping');
    await waitFor(() => a.status().session >= 2, 'reconnect after ping failure', 5000);
    server.swallow('Ping', false);
    expect(server.logins.filter((l) => l.ok).length).toBeGreaterThanOrEqual(2);
  });

  it('with the shipped manager.conf write classes, seeds endpoint state and puts a block in force at once', async () => {
    await server.stop();
    server = new FakeAmiServer({ username: 'hotline', secret: 'secret', write: managerWrite() });
    await server.start();
    seedPbx(server);
    const a = started();
    await waitFor(() => a.endpoints.isSeeded(), 'seeding');
    await a.security.block('198.51.100.66', { reason: 'scanner' });
    expect(await readFile(join(dir, 'pjsip-blocklist.conf'), 'utf8')).toContain('deny=198.51.100.66/32');
    expect(server.reloads.at(-1)).toBe('res_pjsip.so');
    expect(server.denied).toEqual([]);
    expect(amiReadiness(a.status())).toMatchObject({ status: 'up', endpoints: { state: 'ok' }, blocklist: { state: 'ok' } });
  });

  it('reports a user without the system write class as forbidden, retries slowly and still applies live events', async () => {
    await server.stop();
    // The write line shipped before: enough to log in, not to list endpoints or reload.
    server = new FakeAmiServer({ username: 'hotline', secret: 'secret', write: 'reporting' });
    await server.start();
    seedPbx(server);
    const a = started(config({ tuning: { connectTimeoutMs: 1000, backoff: { initialMs: 30, maxMs: 150, jitter: 0 }, pingIntervalMs: 0, seedRetryMs: 20, forbiddenRetryMs: 60_000 } }));
    await waitFor(() => a.status().endpoints.state === 'forbidden', 'forbidden');
    expect(a.status().endpoints.error).toMatchObject({ code: 'ami_permission_denied', action: 'PJSIPShowEndpoints', message: expect.stringContaining('Permission denied') });
    expect(a.endpoints.isSeeded()).toBe(false);
    const ready = amiReadiness(a.status());
    expect(ready).toMatchObject({ status: 'degraded', state: 'connected', endpoints: { state: 'forbidden', action: 'PJSIPShowEndpoints' } });
    expect(ready.detail).toContain('Permission denied');
    // At the ordinary retry pace (20 ms) there would be several more attempts by now.
    await sleep(200);
    expect(server.actions('PJSIPShowEndpoints')).toHaveLength(1);
    // Live events are not held without bound while unseeded: they are applied.
    server.emitEvent('ContactStatus', { URI: 'sip:agent1001@192.0.2.10:5062', AOR: 'agent1001', EndpointName: 'agent1001', ContactStatus: 'Reachable', RoundtripUsec: '900' });
    await waitFor(() => a.endpoints.get('agent1001')?.online === true, 'live event applied');
    // The block is written but Asterisk refuses the reload (already at login, when the service
    // rewrote the file): visible, not silent.
    await a.security.block('198.51.100.67');
    expect(a.status().blocklist).toMatchObject({ state: 'forbidden', error: { action: 'Reload' } });
    expect(server.denied).toEqual(['PJSIPShowEndpoints', 'Reload', 'Reload']);
    expect(server.reloads).toEqual([]);
  });

  it('bounds the events held during a listing and lists again when some were dropped', async () => {
    seedPbx(server);
    server.delay('PJSIPShowContacts', 150);
    const a = started(config({ tuning: { connectTimeoutMs: 1000, backoff: { initialMs: 30, maxMs: 150, jitter: 0 }, pingIntervalMs: 0, seedRetryMs: 50, maxHeldEvents: 5 } }));
    await waitFor(() => server.actions('PJSIPShowContacts').length === 1, 'listing in progress');
    const states = ['INUSE', 'NOT_INUSE', 'RINGING', 'INUSE', 'NOT_INUSE', 'RINGING', 'INUSE', 'NOT_INUSE', 'INUSE', 'RINGING', 'ONHOLD', 'INUSE'];
    for (const state of states) server.emitEvent('DeviceStateChange', { Device: 'PJSIP/agent1001', State: state });
    // Meanwhile Asterisk's state moved on; only a new listing can tell (the oldest events are gone).
    server.endpoints = server.endpoints.map((e) => (e.name === 'agent1001' ? { ...e, deviceState: 'On Hold' } : e));
    await waitFor(() => server.actions('PJSIPShowEndpoints').length === 2, 'second listing');
    server.delay('PJSIPShowContacts', 0);
    await waitFor(() => a.endpoints.isSeeded() && a.status().endpoints.state === 'ok' && server.actions('PJSIPShowRegistrationsOutbound').length === 2, 'seeded again');
    expect(a.endpoints.get('agent1001')?.deviceState).toBe('onhold');
  });

  it('copes with a real Asterisk 23 AMI stream (ami-bridge-record.txt replayed)', async () => {
    const capture = parseAmiCapture(await readFile(join(TRACES, 'ami-bridge-record.txt'), 'utf8'));
    expect(capture.banner).toBe('Asterisk Call Manager/12.0.0');
    const frames = captureEvents(capture);
    const a = started();
    await waitFor(() => a.endpoints.isSeeded(), 'seed');
    const seen: AmiEvent[] = [];
    a.client.onEvent((e) => seen.push(e));
    const devices: EndpointStatusChange[] = [];
    a.endpoints.onChange((c) => devices.push(c));
    for (const frame of frames) server.broadcast(frame);
    await waitFor(() => seen.length === frames.length, `${frames.length} replayed events`);
    expect(seen.map((e) => e.name)).toEqual(frames.map((f) => frameGet(f, 'Event')));
    // VarSet's `Variable: SIPDOMAIN` survives asterisk-manager's variable parsing.
    const varset = seen.find((e) => e.name === 'VarSet' && e.fields.variable === 'SIPDOMAIN');
    expect(varset?.fields.value).toBe('127.0.0.1');
    expect(seen.find((e) => e.name === 'Newchannel')?.fields).toMatchObject({ channel: 'PJSIP/trunk-00000001', context: 'from-trunk', exten: '12345' });
    // DeviceStateChange for the agent phone went RINGING → INUSE → NOT_INUSE.
    const agentStates = devices.filter((c) => c.endpoint === 'agent1001' && c.deviceStateChanged).map((c) => c.current.deviceState);
    expect(agentStates).toEqual(['inuse', 'not_inuse']);
    expect(a.endpoints.get('agent1001')).toMatchObject({ online: true, deviceState: 'not_inuse' });
    expect(a.endpoints.get('trunk')?.deviceState).toBe('not_inuse');
    // Non-PJSIP devices (Queue:…, Recorder/ARI) are not endpoints.
    expect(a.endpoints.list().map((e) => e.endpoint).sort()).toEqual(['agent1001', 'trunk']);
    expect(a.security.blocked()).toEqual([]);
  });
});
