import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { BlockEntry } from '../../domain/security/index.js';
import { FileAclApplier, renderAclFile } from './acl-file.js';
import { AmiActionError } from './errors.js';
import { SecurityMonitor, parseAmiAddress } from './security-monitor.js';
import type { AmiClient, AmiEvent, AmiResponse, AmiStatus } from './types.js';

const logger = pino({ level: 'silent' });

class FakeClient implements AmiClient {
  events = new Set<(e: AmiEvent) => void>();
  connected = new Set<(n: number) => void>();
  calls: { name: string; params: Record<string, string> }[] = [];
  fail = false;
  async action(name: string, params: Readonly<Record<string, string>> = {}): Promise<AmiResponse> {
    this.calls.push({ name, params: { ...params } });
    if (this.fail) throw new Error('not connected');
    return { response: 'Success', message: undefined, fields: {}, output: [], events: [] };
  }
  onEvent(l: (e: AmiEvent) => void) { this.events.add(l); return () => { this.events.delete(l); }; }
  onConnected(l: (n: number) => void) { this.connected.add(l); return () => { this.connected.delete(l); }; }
  onStatus() { return () => {}; }
  status(): AmiStatus { return { state: 'connected', since: new Date(0), lastError: null, failedAttempts: 0, session: 1 }; }
  emit(name: string, fields: Record<string, string>): void {
    for (const l of this.events) l({ name, fields, receivedAt: new Date(0) });
  }
}

describe('parseAmiAddress', () => {
  it('splits Asterisk security-event addresses', () => {
    expect(parseAmiAddress('IPV4/UDP/203.0.113.7/5060')).toEqual({ family: 'IPV4', transport: 'UDP', address: '203.0.113.7', port: 5060 });
    expect(parseAmiAddress('IPV6/TCP/2001:db8::1/5061')).toMatchObject({ address: '2001:db8::1', port: 5061 });
    expect(parseAmiAddress('IPV6/UDP/[2001:db8::1]/5060')?.address).toBe('2001:db8::1');
    expect(parseAmiAddress('garbage')).toBeUndefined();
    expect(parseAmiAddress(undefined)).toBeUndefined();
  });
});

describe('renderAclFile', () => {
  it('writes one deny per address and no section when empty', () => {
    const e: BlockEntry = { address: '2001:db8:0:0:0:0:0:1', blockedAt: 0, expiresAt: 1000, failures: 5, reason: 'x\ny', manual: false };
    const text = renderAclFile([e], 'blk');
    expect(text).toContain('[blk]\ntype=acl\n');
    expect(text).toContain('deny=2001:db8:0:0:0:0:0:1/128\n');
    expect(text).toContain('; until 1970-01-01T00:00:01.000Z: x y\n');
    expect(renderAclFile([])).not.toMatch(/^\[|deny=/m);
  });
});

describe('SecurityMonitor', () => {
  let dir: string | undefined;
  afterEach(async () => {
    vi.useRealTimers();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('blocks at the threshold, retries a failed reload on reconnect, and lifts the block on time', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    dir = await mkdtemp(join(tmpdir(), 'sec-'));
    const client = new FakeClient();
    const file = join(dir, 'blocklist.conf');
    const monitor = new SecurityMonitor(client, logger, {
      policy: { threshold: 2, windowMs: 1000, blockMs: 5000, allowCidrs: [] },
      applier: new FileAclApplier(client, logger, { filePath: file, reloadModule: 'res_pjsip.so' }),
      clock: () => Date.now(),
    });
    monitor.start();
    const alerts: string[] = [];
    const lifted: string[] = [];
    monitor.onAlert((a) => alerts.push(a.address));
    monitor.onUnblocked((e) => lifted.push(e.address));
    client.fail = true;
    client.emit('InvalidAccountID', { service: 'PJSIP', remoteaddress: 'IPV4/UDP/198.51.100.5/5060', accountid: 'a' });
    vi.advanceTimersByTime(1500); // first failure leaves the window
    client.emit('InvalidAccountID', { service: 'PJSIP', remoteaddress: 'IPV4/UDP/198.51.100.5/5060', accountid: 'b' });
    expect(alerts).toEqual([]);
    client.emit('InvalidPassword', { service: 'PJSIP', remoteaddress: 'IPV4/UDP/198.51.100.5/5060', accountid: 'b' });
    expect(alerts).toEqual(['198.51.100.5']);
    await monitor.settled();
    expect(await readFile(file, 'utf8')).toContain('deny=198.51.100.5/32');
    expect(client.calls).toEqual([{ name: 'Reload', params: { Module: 'res_pjsip.so' } }]);
    expect(monitor.applyStatus()).toMatchObject({ state: 'failed', error: { message: 'not connected' } });
    // AMI comes back: the pending reload is retried even though the file is unchanged.
    client.fail = false;
    for (const l of client.connected) l(2);
    await monitor.settled();
    expect(client.calls).toHaveLength(2);
    expect(monitor.applyStatus().state).toBe('ok');
    vi.advanceTimersByTime(4999);
    expect(lifted).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(lifted).toEqual(['198.51.100.5']);
    await monitor.settled();
    expect(await readFile(file, 'utf8')).not.toContain('deny=');
    expect(client.calls).toHaveLength(3);
    monitor.stop();
  });

  it('reports Permission denied as forbidden and retries on a timer, not only on the next change', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    dir = await mkdtemp(join(tmpdir(), 'sec-'));
    const client = new FakeClient();
    const denied: AmiResponse = { response: 'Error', message: 'Permission denied', fields: { response: 'Error', message: 'Permission denied' }, output: [], events: [] };
    let deny = true;
    client.action = async (name, params = {}) => {
      client.calls.push({ name, params: { ...params } });
      if (deny) throw new AmiActionError(name, denied);
      return { response: 'Success', message: 'Module Reloaded', fields: {}, output: [], events: [] };
    };
    const monitor = new SecurityMonitor(client, logger, {
      policy: { threshold: 1, windowMs: 1000, blockMs: 60_000, allowCidrs: [] },
      applier: new FileAclApplier(client, logger, { filePath: join(dir, 'blocklist.conf') }),
      clock: () => Date.now(), retryMs: 100, forbiddenRetryMs: 1000,
    });
    monitor.start();
    expect(monitor.applyStatus().state).toBe('idle');
    await monitor.block('198.51.100.9');
    expect(monitor.applyStatus()).toMatchObject({ state: 'forbidden', error: { code: 'ami_permission_denied', action: 'Reload' } });
    // Not retried at the ordinary pace: the session keeps the classes it logged in with.
    await vi.advanceTimersByTimeAsync(999);
    expect(client.calls).toHaveLength(1);
    deny = false;
    await vi.advanceTimersByTimeAsync(1);
    await monitor.settled();
    expect(client.calls).toHaveLength(2);
    expect(monitor.applyStatus().state).toBe('ok');
    monitor.stop();
  });

  it('does not rewrite or reload when the file already holds the current list', async () => {
    dir = await mkdtemp(join(tmpdir(), 'sec-'));
    const client = new FakeClient();
    const file = join(dir, 'blocklist.conf');
    const applier = new FileAclApplier(client, logger, { filePath: file });
    await applier.apply([]);
    expect(client.calls).toEqual([{ name: 'Reload', params: { Module: 'res_pjsip.so' } }]);
    await new FileAclApplier(client, logger, { filePath: file }).apply([]);
    expect(client.calls).toHaveLength(1);
  });

  it('ignores events it cannot attribute and non-security events', () => {
    const client = new FakeClient();
    const monitor = new SecurityMonitor(client, logger, { policy: { threshold: 1, windowMs: 1000, blockMs: 1000, allowCidrs: [] } });
    monitor.start();
    client.emit('InvalidPassword', { service: 'PJSIP', remoteaddress: 'nonsense' });
    client.emit('SuccessfulAuth', { service: 'AMI', remoteaddress: 'IPV4/TCP/203.0.113.9/5038' });
    expect(monitor.blocked()).toEqual([]);
    client.emit('FailedACL', { service: 'PJSIP', remoteaddress: 'IPV4/UDP/203.0.113.9/5060' });
    expect(monitor.blocked().map((b) => b.address)).toEqual(['203.0.113.9']);
    monitor.stop();
  });
});
