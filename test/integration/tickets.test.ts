import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itemIds, phoneTicket, world, type World } from './tickets-helpers.js';

let w: World;
beforeAll(async () => {
  w = await world();
});
afterAll(async () => w.close());

describe('intake', () => {
  it('accepts a phone ticket bound to its call, with a number, deadlines and a verification code', async () => {
    const { ticket, acceptance, verificationCode } = await w.intake(w.agent);
    expect(ticket.number).toMatch(/^GD\d{8}\d{6}$/);
    expect(ticket).toMatchObject({ channel: 'phone', channelLabel: '电话', status: 'accepted', statusLabel: '已受理', type: 'complaint', typeLabel: '投诉', version: 1 });
    expect(ticket.callId).toMatch(/^call-/);
    expect(ticket.deadlines.dispatchDueAt).not.toBeNull();
    expect(ticket.deadlines.dispatchWarnAt).not.toBeNull();
    expect(ticket.caller).toEqual({ hidden: false, phone: '13800138000', name: '张三', address: '幸福小区3号楼' });
    expect(acceptance).toMatchObject({ accepted: true, emergencyHints: [] });
    expect(verificationCode).toMatch(/^\d{6}$/);
    const { rows } = await w.sql.query('SELECT verification_code_hash FROM tickets WHERE id = $1', [ticket.id]);
    expect(rows[0].verification_code_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0].verification_code_hash).not.toContain(verificationCode);
  });

  it('takes every online channel with its channel reference, and refuses one without it', async () => {
    const refs: Record<string, Record<string, string>> = {
      sms: { messageId: 'sms-1' }, mailbox: { messageId: '<m1@mail>', email: 'a@example.cn' }, website: { submissionId: 'web-1' },
      mobile_app: { submissionId: 'app-1', appVersion: '3.2.1' }, mini_program: { openId: 'o-mini-1' }, official_account: { openId: 'o-oa-1' },
    };
    for (const [channel, channelMeta] of Object.entries(refs)) {
      const { ticket } = await w.intake(w.agent, { ...phoneTicket(), channel, callId: undefined, channelMeta });
      expect(ticket.channel).toBe(channel);
      expect(ticket.channelMeta).toEqual(channelMeta);
      const missing = await w.call(w.agent, 'POST', '/tickets', { ...phoneTicket(), channel, callId: undefined });
      expect(missing.statusCode).toBe(400);
      expect(missing.json().code).toBe('channel_meta_required');
    }
    const noCall = await w.call(w.agent, 'POST', '/tickets', { ...phoneTicket(), callId: undefined });
    expect(noCall.json().code).toBe('call_id_required');
    const callOnSms = await w.call(w.agent, 'POST', '/tickets', { ...phoneTicket(), channel: 'sms', channelMeta: { messageId: 'x' } });
    expect(callOnSms.json().code).toBe('call_id_not_phone');
    const badType = await w.call(w.agent, 'POST', '/tickets', { ...phoneTicket(), type: 'rant' });
    expect(badType.statusCode).toBe(400);
    expect(badType.headers['content-type']).toContain('application/problem+json');
  });

  it('stores a not-accepted request with its reason and the reply for the caller', async () => {
    const { ticket, acceptance } = await w.intake(w.agent, phoneTicket({ title: '劳动仲裁进度', content: '我的劳动仲裁案件已经立案，想让热线催一下', acceptance: { findings: ['arbitration'] } }));
    expect(ticket.status).toBe('not_accepted');
    expect(acceptance).toMatchObject({ accepted: false, reason: 'arbitration', label: '已进入仲裁程序' });
    expect(acceptance.reply).toContain('仲裁');
    expect(ticket.notAccepted).toMatchObject({ reason: 'arbitration', reply: acceptance.reply });
    const emergency = await w.intake(w.agent, phoneTicket({ title: '楼下着火了', content: '楼下着火了有浓烟', acceptance: { transferTo: ['119'] } }));
    expect(emergency.acceptance).toMatchObject({ accepted: false, reason: 'emergency', transferTo: ['119'] });
    expect(emergency.ticket.notAccepted?.reply).toContain('119');
  });

  it('hints at emergencies and exclusions without deciding', async () => {
    const { acceptance, ticket } = await w.intake(w.agent, phoneTicket({ title: '电梯困人', content: '有人被困在电梯里，物业不管，之前也上访过' }));
    expect(ticket.status).toBe('accepted');
    expect(acceptance.emergencyHints.map((h) => h.service)).toContain('119');
    expect(acceptance.exclusionHints?.map((h) => h.reason)).toContain('petition');
  });

  it('closes a ticket answered on the call (直办)', async () => {
    const { ticket } = await w.intake(w.agent, phoneTicket({ type: 'consultation', title: '社保卡补办', content: '社保卡丢了怎么补办', directAnswer: '携带身份证到就近社保网点补办。' }));
    expect(ticket.status).toBe('closed');
    expect(ticket.closedAt).not.toBeNull();
  });

  it('keeps one citizen per phone number and remembers confidentiality', async () => {
    await w.intake(w.agent, phoneTicket({ caller: { phone: '+86 139-0000-0001', name: '李四', confidential: true } }));
    const again = await w.intake(w.agent, phoneTicket({ caller: { phone: '13900000001' } }));
    expect(again.ticket.confidential).toBe(true);
    expect(again.ticket.caller.name).toBe('李四');
    const { rows } = await w.sql.query("SELECT count(*)::int AS n FROM citizens WHERE phone = '13900000001'");
    expect(rows[0].n).toBe(1);
  });

  it('classifies under an active catalogue item only', async () => {
    const root = await w.call(w.supervisor, 'POST', '/categories', { code: 'urban', name: '城市管理', scopeDomain: 'social_management' });
    expect(root.statusCode, root.body).toBe(201);
    const leaf = await w.call(w.supervisor, 'POST', '/categories', { code: 'urban.lamp', name: '路灯', parentId: root.json().id });
    expect(leaf.json()).toMatchObject({ scopeDomain: 'social_management', scopeDomainLabel: '社会管理' });
    const { ticket } = await w.intake(w.agent, phoneTicket({ categoryId: leaf.json().id, scopeDomain: 'social_management' }));
    expect(ticket).toMatchObject({ categoryId: leaf.json().id, scopeDomainLabel: '社会管理' });
    expect((await w.call(w.supervisor, 'DELETE', `/categories/${root.json().id}`)).json().code).toBe('category_has_active_children');
    expect((await w.call(w.supervisor, 'DELETE', `/categories/${leaf.json().id}`)).statusCode).toBe(200);
    const refused = await w.call(w.agent, 'POST', '/tickets', phoneTicket({ categoryId: leaf.json().id }));
    expect(refused.json().code).toBe('category_inactive');
    const tree = await w.call(w.agent, 'GET', '/categories/tree?includeInactive=true');
    expect(tree.json().items[0]).toMatchObject({ code: 'urban', children: [{ code: 'urban.lamp', active: false }] });
    expect((await w.call(w.agent, 'POST', '/categories', { code: 'x', name: 'x' })).statusCode).toBe(403);
  });
});

describe('idempotent intake', () => {
  it('makes exactly one ticket from 20 concurrent retries with the same key', async () => {
    const body = phoneTicket({ title: '并发重试', content: '同一个请求重试二十次' });
    const key = `retry-${Date.now()}`;
    const responses = await Promise.all(Array.from({ length: 20 }, () => w.call(w.agent, 'POST', '/tickets', body, { 'idempotency-key': key })));
    expect(responses.map((r) => r.statusCode)).toEqual(Array(20).fill(201));
    const ids = new Set(responses.map((r) => r.json<{ ticket: { id: string } }>().ticket.id));
    expect(ids.size).toBe(1);
    expect(new Set(responses.map((r) => r.json<{ verificationCode: string }>().verificationCode)).size).toBe(1);
    expect(responses.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(19);
    const { rows } = await w.sql.query("SELECT count(*)::int AS n FROM tickets WHERE title = '并发重试'");
    expect(rows[0].n).toBe(1);
  });

  it('refuses the same key with a different body (422), and requires a key from integrations', async () => {
    const key = `reuse-${Date.now()}`;
    await w.intake(w.agent, phoneTicket({ title: '第一次' }), { 'idempotency-key': key });
    const reused = await w.call(w.agent, 'POST', '/tickets', phoneTicket({ title: '第二次' }), { 'idempotency-key': key });
    expect(reused.statusCode).toBe(422);
    expect(reused.json().code).toBe('idempotency_key_reused');

    const created = await w.call(w.t.adminToken, 'POST', '/api-keys', { name: 'website', role: 'integrator' });
    expect(created.statusCode, created.body).toBe(201);
    const apiKey = created.json().key as string;
    const web = { ...phoneTicket(), channel: 'website', callId: undefined, channelMeta: { submissionId: 'w-77' } };
    const noKey = await w.t.hotline.app.inject({ method: 'POST', url: '/api/v1/tickets', headers: { 'x-api-key': apiKey }, payload: web });
    expect(noKey.json().code).toBe('idempotency_key_required');
    const withKey = await w.t.hotline.app.inject({ method: 'POST', url: '/api/v1/tickets', headers: { 'x-api-key': apiKey, 'idempotency-key': 'w-77' }, payload: web });
    expect(withKey.statusCode, withKey.body).toBe(201);
    // Integrations submit; an agent reviews and accepts (受理审查).
    expect(withKey.json().ticket.status).toBe('draft');
    expect(withKey.json().ticket.caller.phone).toBe('*******8000');
    const own = await w.t.hotline.app.inject({ method: 'GET', url: '/api/v1/tickets', headers: { 'x-api-key': apiKey } });
    expect(itemIds(own)).toEqual([withKey.json().ticket.id]);
  });
});

describe('progress self-query', () => {
  it('answers by number + phone or number + code, and the same 404 for any mismatch', async () => {
    const { ticket, verificationCode } = await w.intake(w.agent, phoneTicket({ caller: { phone: '13700000007' } }));
    const byPhone = await w.call(null, 'POST', '/tickets/progress-query', { number: ticket.number, phone: '137 0000 0007' });
    expect(byPhone.statusCode, byPhone.body).toBe(200);
    expect(byPhone.json()).toMatchObject({ number: ticket.number, status: 'accepted', statusLabel: '已受理', steps: [{ action: 'accept', label: '受理' }] });
    expect(byPhone.body).not.toContain('13700000007');
    expect(byPhone.body).not.toContain('张三');
    const byCode = await w.call(null, 'POST', '/tickets/progress-query', { number: ticket.number, code: verificationCode });
    expect(byCode.statusCode).toBe(200);
    const wrongCode = String((Number(verificationCode) + 1) % 1_000_000).padStart(6, '0');
    const answers = await Promise.all([
      w.call(null, 'POST', '/tickets/progress-query', { number: ticket.number, phone: '13700000008' }),
      w.call(null, 'POST', '/tickets/progress-query', { number: ticket.number, code: wrongCode }),
      w.call(null, 'POST', '/tickets/progress-query', { number: 'GD20991231999999', phone: '13700000007' }),
    ]);
    for (const a of answers) {
      expect(a.statusCode).toBe(404);
      expect(a.json().code).toBe('ticket_not_found');
    }
    expect(answers[0]?.json().detail).toBe(answers[1]?.json().detail);
    // The IVR uses the same service.
    const tickets = w.t.hotline.modules.get('tickets')!.exports!['tickets'] as { progressQuery(q: object): Promise<{ status: string }> };
    expect((await tickets.progressQuery({ number: ticket.number, code: verificationCode })).status).toBe('accepted');
  });
});

describe('progress query rate limit', () => {
  it('slows down guessing with 429 after the per-address allowance', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) {
      statuses.push((await w.call(null, 'POST', '/tickets/progress-query', { number: 'GD20991231999999', code: String(i).padStart(6, '0') })).statusCode);
    }
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s !== 404 && s !== 429)).toEqual([]);
  });
});

describe('events', () => {
  it('writes every transition to the outbox with hotline-wide and department subjects', async () => {
    const deptId = await w.dept('ev-dept');
    const { ticket } = await w.intake(w.agent);
    const dispatched = await w.act(w.agent, ticket.id, 'dispatch', { mainDepartmentId: deptId });
    expect(dispatched.statusCode, dispatched.body).toBe(200);
    // Other modules react to tickets with events of their own (duplicates.*): only ticket.* are ours.
    const { rows } = await w.sql.query("SELECT subject, type, payload FROM outbox WHERE payload->>'ticketId' = $1 AND type LIKE 'ticket.%' ORDER BY seq", [ticket.id]);
    expect(rows.map((r) => r.subject)).toEqual(['hotline.ticket.accepted', 'hotline.ticket.dispatched', `hotline.dept.${deptId}.ticket.dispatched`]);
    expect(rows[1].payload).toMatchObject({ ticketId: ticket.id, number: ticket.number, mainDepartmentId: deptId, status: 'dispatched', version: 2 });
    expect(JSON.stringify(rows)).not.toContain('13800138000');
  });
});
