/**
 * The service wired to Asterisk the way production is: ARI and AMI from configuration, their
 * state in /readyz, phone registrations and SIP blocks through the API, alerts as events.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/app.js';
import { FakeAmiServer } from '../fake-asterisk/ami-server.js';
import { managerWrite } from '../support/asterisk-conf.js';
import { until } from '../support/wait.js';
import { startFakeAsterisk, type FakeAsterisk } from '../fake-asterisk/index.js';


describe('telephony wiring', () => {
  let asterisk: FakeAsterisk;
  let ami: FakeAmiServer;
  let t: TestApp;
  let dir: string;
  const bearer = () => ({ authorization: `Bearer ${t.adminToken}` });
  type Ready = { status: string; checks: Record<string, { status: string; nodes?: Array<{ id: string; state: string }>; state?: string; endpoints?: { state: string }; blocklist?: { state: string } }> };
  const ready = async () => (await t.hotline.app.inject('/readyz')).json<Ready>();

  beforeAll(async () => {
    asterisk = await startFakeAsterisk();
    // The AMI user's write classes as docker/asterisk/manager.conf ships them: a class too few
    // and Asterisk answers `Permission denied`, which these tests then see.
    ami = new FakeAmiServer({ username: 'hotline', secret: 'ami-secret', write: managerWrite() });
    ami.endpoints = [{ name: 'agent1001', aor: 'agent1001', deviceState: 'Not in use' }, { name: 'agent1002', aor: 'agent1002', deviceState: 'Unavailable' }];
    ami.contacts = [{ aor: 'agent1001', endpoint: 'agent1001', uri: 'sip:agent1001@10.1.2.3:5060', status: 'Reachable', roundtripUsec: '1500' }];
    const amiPort = await ami.start();
    dir = await mkdtemp(path.join(tmpdir(), 'hotline-acl-'));
    await writeFile(path.join(dir, 'blocklist.conf'), '');
    t = await buildTestApp({
      ARI_URL: asterisk.url, ARI_USER: asterisk.username, ARI_PASSWORD: asterisk.password, ARI_NODE_IDS: 'ast-a',
      AMI_HOST: '127.0.0.1', AMI_PORT: String(amiPort), AMI_USER: 'hotline', AMI_PASSWORD: 'ami-secret',
      SIP_SECURITY_THRESHOLD: '3', SIP_BLOCKLIST_FILE: path.join(dir, 'blocklist.conf'),
    });
  });
  afterAll(async () => {
    await t.close();
    await asterisk.close();
    await ami.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('reports ARI per node and AMI in /readyz', async () => {
    await until(async () => (await ready()).checks.ari?.status === 'up' && (await ready()).checks.ami?.status === 'up', 'ARI and AMI up');
    const r = await ready();
    expect(r.checks.ari).toMatchObject({ status: 'up', nodes: [{ id: 'ast-a', state: 'connected' }] });
    await until(async () => (await ready()).checks.ami?.endpoints?.state === 'ok', 'AMI endpoint state seeded');
    expect((await ready()).checks.ami).toMatchObject({ status: 'up', state: 'connected', endpoints: { state: 'ok' }, blocklist: { state: 'ok' } });
  });

  it('shows ARI going down and coming back after an Asterisk restart, without making the instance unready', async () => {
    asterisk.setDown(true);
    asterisk.dropWebSockets();
    await until(async () => (await ready()).checks.ari?.status !== 'up', 'ARI not up');
    const r = await t.hotline.app.inject('/readyz');
    expect(r.statusCode).toBe(200);
    asterisk.setDown(false);
    await asterisk.restart();
    await until(async () => (await ready()).checks.ari?.status === 'up', 'ARI back up', 30_000);
  });

  it('lists phone registrations from AMI', async () => {
    await until(async () => ((await t.hotline.app.inject({ url: '/api/v1/telephony/endpoints', headers: bearer() })).json<{ items: unknown[] }>()).items.length === 2, 'seeded');
    const res = await t.hotline.app.inject({ url: '/api/v1/telephony/endpoints', headers: bearer() });
    const items = (res.json<{ items: Array<{ endpoint: string; online: boolean; contacts: Array<{ address: string }> }> }>()).items;
    expect(items.find((e) => e.endpoint === 'agent1001')).toMatchObject({ online: true, contacts: [{ address: '10.1.2.3:5060' }] });
    expect(items.find((e) => e.endpoint === 'agent1002')).toMatchObject({ online: false, contacts: [] });
    const agent = await t.createUser('seat-1', 'agent');
    expect((await t.hotline.app.inject({ url: '/api/v1/telephony/endpoints', headers: { authorization: `Bearer ${agent.token}` } })).statusCode).toBe(403);
  });

  it('blocks a brute-forcing address, writes the ACL file, announces the alert and lets an operator lift it', async () => {
    const reloadsBefore = ami.reloads.length;
    for (const kind of ['InvalidAccountID', 'ChallengeResponseFailed', 'InvalidPassword']) {
      ami.emitEvent(kind, { Service: 'PJSIP', AccountID: 'admin', LocalAddress: 'IPV4/UDP/192.0.2.1/5060', RemoteAddress: 'IPV4/UDP/203.0.113.9/5060' });
    }
    await until(async () => ((await t.hotline.app.inject({ url: '/api/v1/telephony/sip-blocks', headers: bearer() })).json<{ items: unknown[] }>()).items.length === 1, 'blocked');
    await until(async () => (await readFile(path.join(dir, 'blocklist.conf'), 'utf8')).includes('deny=203.0.113.9/32'), 'ACL file');
    // In force at once: res_pjsip reloaded through the AMI Reload action, which the shipped user may run.
    await until(() => ami.reloads.length > reloadsBefore, 'res_pjsip reloaded');
    expect(ami.reloads.at(-1)).toBe('res_pjsip.so');
    expect(ami.denied).toEqual([]);
    const sql = new pg.Client({ connectionString: t.dbUrl });
    await sql.connect();
    await until(async () => (await sql.query("SELECT 1 FROM outbox WHERE type = 'sip.security_alert'")).rowCount === 1, 'alert event');
    await sql.end();

    const lifted = await t.hotline.app.inject({ method: 'DELETE', url: '/api/v1/telephony/sip-blocks/203.0.113.9', headers: bearer() });
    expect(lifted.statusCode).toBe(204);
    const again = await t.hotline.app.inject({ method: 'DELETE', url: '/api/v1/telephony/sip-blocks/203.0.113.9', headers: bearer() });
    expect(again.json()).toMatchObject({ status: 404, code: 'sip_block_not_found' });
    const bad = await t.hotline.app.inject({ method: 'POST', url: '/api/v1/telephony/sip-blocks', headers: bearer(), payload: { address: 'not an ip', reason: 'x' } });
    expect(bad.json()).toMatchObject({ status: 400, code: 'validation_failed' });
  });
});

describe('telephony off', () => {
  it('answers telephony endpoints with a clear 503 when AMI is not configured', async () => {
    const t = await buildTestApp();
    try {
      const res = await t.hotline.app.inject({ url: '/api/v1/telephony/endpoints', headers: { authorization: `Bearer ${t.adminToken}` } });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ code: 'telephony_disabled' });
    } finally {
      await t.close();
    }
  });
});
