/**
 * 保密 toward departments, end to end on the real app: a confidential mailbox, mini-program and
 * phone ticket dispatched to a department. The department handler must find no trace of who
 * asked: not the caller, not the channel's identifiers (e-mail, openId, message id), not the
 * call, not attachment file names, not numbers or addresses in texts and history, not through
 * search, duplicate suggestions or repeat lists, and not in the events and webhook bodies it
 * receives. Hotline staff still see everything.
 */
import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { phoneTicket, world, type World } from './tickets-helpers.js';

const PHONE = '13912345678';
const EMAIL = 'zhang.san@example.cn';
const OPEN_ID = 'oMiniProgram-zs-7781';
const ID_CARD = '33010619900101123X';
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), Buffer.from('JFIF\0photo of the leaking pipe')]);
/** Nothing of these may reach the department. */
const IDENTIFYING = [PHONE, EMAIL, 'zhang.san', OPEN_ID, ID_CARD, '张三', '张三身份证', 'msg-zs-1'];

let w: World;
let dept: string;
let handler: string;
let webhookId: string;

function leaks(value: unknown): string[] {
  const text = JSON.stringify(value);
  return IDENTIFYING.filter((s) => text.includes(s));
}

async function json<T>(res: Promise<LightMyRequestResponse>): Promise<T> {
  const r = await res;
  expect(r.statusCode, r.body).toBeLessThan(300);
  return r.json<T>();
}

async function upload(token: string, filename: string): Promise<string> {
  const boundary = `----hotline${Math.random().toString(16).slice(2)}`;
  const payload = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: image/jpeg\r\n\r\n`),
    Buffer.concat([JPEG, Buffer.from(randomUUID())]), Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const res = await w.t.hotline.app.inject({ method: 'POST', url: '/api/v1/attachments', headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, authorization: `Bearer ${token}` }, payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string }>().id;
}

const content = `我家楼上水管漏水，联系电话 ${PHONE}，邮箱 ${EMAIL}，身份证 ${ID_CARD}，请不要告诉对方是我反映的。`;

/** A confidential request on `channel`, dispatched to the department with a note naming the caller. */
async function confidentialTicket(channel: 'mailbox' | 'mini_program' | 'phone', extra: Record<string, unknown> = {}): Promise<string> {
  const channelMeta = channel === 'mailbox' ? { messageId: 'msg-zs-1', email: EMAIL, subject: '漏水' } : channel === 'mini_program' ? { openId: OPEN_ID, appId: 'wx-hotline' } : undefined;
  const body = {
    ...phoneTicket(), channel, ...(channel === 'phone' ? {} : { callId: undefined }), ...(channelMeta ? { channelMeta } : {}),
    title: '楼上水管漏水', content, address: '幸福小区3号楼502室', caller: { phone: PHONE, name: '张三', address: '幸福小区3号楼402室', confidential: true }, ...extra,
  };
  const { ticket } = await w.intake(w.agent, body);
  expect(ticket.confidential).toBe(true);
  const res = await w.act(w.agent, ticket.id, 'dispatch', { mainDepartmentId: dept, note: `来电人张三 ${PHONE} 要求保密` });
  expect(res.statusCode, res.body).toBe(200);
  return ticket.id;
}

beforeAll(async () => {
  w = await world();
  dept = await w.dept('water-conf');
  handler = (await w.t.createUser('conf-handler', 'dept_handler', dept)).token;
  // The department's webhook: its delivery bodies are what the department receives.
  webhookId = (await json<{ webhook: { id: string } }>(w.call(w.t.adminToken, 'POST', '/webhooks', { departmentId: dept, url: 'https://water-dept.invalid/hook', events: ['>'] }))).webhook.id;
});
afterAll(async () => w.close());

describe('保密 tickets read by a department', () => {
  it('hide the caller, channel identifiers and call, mask texts and history, and name no attachment file', async () => {
    const attachment = await upload(w.agent, '张三身份证.jpg');
    const ids = [
      await confidentialTicket('mailbox', { attachmentIds: [attachment] }),
      await confidentialTicket('mini_program'),
      await confidentialTicket('phone'),
    ];
    for (const id of ids) {
      const seen = await json<Record<string, unknown> & { caller: unknown; channelMeta: unknown; callId: unknown; content: string; address: string }>(w.call(handler, 'GET', `/tickets/${id}`));
      expect(seen.caller).toEqual({ hidden: true, phone: null, name: null, address: null });
      expect(seen.channelMeta).toEqual({});
      expect(seen.callId).toBeNull();
      expect(seen.content).toContain('楼上水管漏水'.slice(2)); // the matter itself stays readable
      expect(seen.address).toBe('幸福小区3号楼502室'); // where to act
      expect(leaks(seen)).toEqual([]);
      expect(leaks(await json(w.call(handler, 'GET', `/tickets/${id}/history`)))).toEqual([]);
      // Staff see it all.
      const staff = await json<{ caller: { phone: string }; channelMeta: Record<string, unknown>; content: string }>(w.call(w.supervisor, 'GET', `/tickets/${id}`));
      expect(staff.caller.phone).toBe(PHONE);
      expect(staff.content).toContain(EMAIL);
    }
    const mailbox = await json<{ attachments: { id: string; fileName: string | null }[] }>(w.call(handler, 'GET', `/tickets/${ids[0]}`));
    expect(mailbox.attachments).toEqual([expect.objectContaining({ id: attachment, fileName: null })]);
    expect((await json<{ attachments: { fileName: string | null }[] }>(w.call(w.supervisor, 'GET', `/tickets/${ids[0]}`))).attachments[0]!.fileName).toBe('张三身份证.jpg');
    const download = await w.call(handler, 'GET', `/attachments/${attachment}`);
    expect(download.statusCode).toBe(200); // the evidence, not the name
    expect(download.headers['content-disposition']).not.toContain('张三');
    expect((await json<{ channelMeta: unknown }>(w.call(w.supervisor, 'GET', `/tickets/${ids[1]}`))).channelMeta).toEqual({ openId: OPEN_ID, appId: 'wx-hotline' });

    // Lists, and searching by the caller's number, e-mail or the words around them.
    const list = await json<{ items: unknown[] }>(w.call(handler, 'GET', '/tickets?limit=50'));
    expect(list.items.length).toBeGreaterThanOrEqual(3);
    expect(leaks(list)).toEqual([]);
    for (const q of [PHONE, '139 1234 5678', EMAIL]) {
      expect((await json<{ items: unknown[] }>(w.call(handler, 'GET', `/tickets?q=${encodeURIComponent(q)}`))).items, q).toEqual([]);
      if (!q.includes(' ')) expect((await json<{ items: unknown[] }>(w.call(w.supervisor, 'GET', `/tickets?q=${encodeURIComponent(q)}`))).items.length, q).toBeGreaterThanOrEqual(3);
    }
    expect((await json<{ items: unknown[] }>(w.call(handler, 'GET', `/tickets?phone=${PHONE}`))).items).toEqual([]);
  });

  it('keep the caller out of duplicate suggestions and repeat lists', async () => {
    const first = await confidentialTicket('phone');
    const second = await confidentialTicket('phone');
    const suggestions = async (token: string) => vi.waitFor(async () => {
      const s = await json<{ analyzedAt: string | null; repeat: { isRepeat: boolean; repeatCount: number }; items: { candidate: { id: string; title: string }; sameCaller: boolean; reasons: string[] }[] }>(
        w.call(token, 'GET', `/duplicates/tickets/${second}/suggestions`));
      expect(s.analyzedAt).not.toBeNull();
      expect(s.items.map((i) => i.candidate.id)).toContain(first);
      return s;
    }, { timeout: 15_000, interval: 100 });
    const staff = await suggestions(w.supervisor);
    expect(staff.repeat.isRepeat).toBe(true);
    expect(staff.items.find((i) => i.candidate.id === first)).toMatchObject({ sameCaller: true, reasons: expect.arrayContaining(['same_caller']) });
    const seen = await suggestions(handler);
    expect(seen.repeat).toEqual({ isRepeat: false, repeatOf: null, repeatCount: 0 });
    const mine = seen.items.find((i) => i.candidate.id === first)!;
    expect(mine.sameCaller).toBe(false);
    expect(mine.reasons).not.toContain('same_caller');
    expect(leaks(seen)).toEqual([]);
    const repeats = await json<{ items: { ticketId: string }[] }>(w.call(handler, 'GET', '/duplicates/repeats'));
    expect(repeats.items.map((r) => r.ticketId)).not.toContain(second);
    expect((await json<{ items: { ticketId: string }[] }>(w.call(w.supervisor, 'GET', '/duplicates/repeats'))).items.map((r) => r.ticketId)).toContain(second);
  });

  it('send the department events and webhook bodies that name no one', async () => {
    const id = await confidentialTicket('mailbox');
    const { rows: events } = await w.sql.query<{ subject: string; payload: unknown }>(`SELECT subject, payload FROM outbox WHERE payload->>'ticketId' = $1`, [id]);
    expect(events.some((e) => e.subject.includes(`.dept.${dept}.`))).toBe(true);
    expect(leaks(events)).toEqual([]);
    const bodies = await vi.waitFor(async () => {
      const { rows } = await w.sql.query<{ body: { data: { ticketId: string } } }>('SELECT body FROM webhook_deliveries WHERE webhook_id = $1', [webhookId]);
      const mine = rows.filter((r) => r.body.data.ticketId === id);
      expect(mine.length).toBeGreaterThan(0);
      return mine;
    }, { timeout: 15_000, interval: 100 });
    expect(leaks(bodies)).toEqual([]);
  });
});
