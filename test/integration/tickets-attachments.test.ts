import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { phoneTicket, world, type World } from './tickets-helpers.js';

let w: World;
let deptA: string;
let handlerA: string;
let handlerB: string;
beforeAll(async () => {
  w = await world();
  deptA = await w.dept('att-a');
  const deptB = await w.dept('att-b');
  handlerA = (await w.t.createUser('att-handler-a', 'dept_handler', deptA)).token;
  handlerB = (await w.t.createUser('att-handler-b', 'dept_handler', deptB)).token;
});
afterAll(async () => w.close());

const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), Buffer.from('JFIF\0photo of the broken lamp')]);
const PDF = Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n');
const EXE = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(64, 0x90)]);

function multipart(file: Buffer, filename: string, mime: string): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----hotline${Math.random().toString(16).slice(2)}`;
  const payload = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: ${mime}\r\n\r\n`),
    file,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

async function upload(token: string, file: Buffer, filename = 'f.bin', mime = 'application/octet-stream', query = '') {
  const { payload, headers } = multipart(file, filename, mime);
  return w.t.hotline.app.inject({ method: 'POST', url: `/api/v1/attachments${query}`, headers: { ...headers, authorization: `Bearer ${token}` }, payload });
}

describe('attachments', () => {
  it('stores a photo by content hash and deduplicates a second upload', async () => {
    const first = await upload(w.agent, JPEG, 'lamp.jpg', 'image/jpeg');
    expect(first.statusCode, first.body).toBe(201);
    const sha = createHash('sha256').update(JPEG).digest('hex');
    expect(first.json()).toMatchObject({ kind: 'photo', mime: 'image/jpeg', sizeBytes: JPEG.length, sha256: sha, deduplicated: false, fileName: 'lamp.jpg' });
    expect(existsSync(path.join(w.dataDir, 'attachments', sha.slice(0, 2), sha))).toBe(true);
    const again = await upload(w.supervisor, JPEG, 'same.jpg', 'image/jpeg');
    expect(again.json()).toMatchObject({ id: first.json().id, deduplicated: true });
    const { rows } = await w.sql.query('SELECT count(*)::int AS n FROM attachments WHERE sha256 = $1', [sha]);
    expect(rows[0].n).toBe(1);
  });

  it('decides the type by magic bytes, not by name or declared type, and enforces the size per kind', async () => {
    const exe = await upload(w.agent, EXE, 'photo.jpg', 'image/jpeg');
    expect(exe.statusCode).toBe(415);
    expect(exe.json().code).toBe('attachment_type_not_allowed');
    const mismatch = await upload(w.agent, PDF, 'scan.jpg', 'image/jpeg', '?kind=photo');
    expect(mismatch.statusCode).toBe(415);
    expect(mismatch.json()).toMatchObject({ code: 'attachment_kind_mismatch', detected: 'document' });
    const pdf = await upload(w.agent, PDF, 'scan.pdf', 'application/pdf', '?kind=document');
    expect(pdf.json()).toMatchObject({ kind: 'document', mime: 'application/pdf' });
    const big = Buffer.concat([JPEG, Buffer.alloc(10 * 1024 * 1024, 1)]);
    const tooBig = await upload(w.agent, big, 'big.jpg', 'image/jpeg');
    expect(tooBig.statusCode).toBe(413);
    expect(tooBig.json().code).toBe('attachment_too_large');
    const notMultipart = await w.call(w.agent, 'POST', '/attachments', { file: 'x' });
    expect(notMultipart.statusCode).toBe(400);
    expect(notMultipart.headers['content-type']).toContain('application/problem+json');
  });

  it('links attachments to tickets and replies, and lets only the right readers download them', async () => {
    const photo = (await upload(w.agent, Buffer.concat([JPEG, Buffer.from('second photo')]), 'p2.jpg', 'image/jpeg')).json();
    const { ticket } = await w.intake(w.agent, phoneTicket({ attachmentIds: [photo.id] }));
    expect(ticket.attachments).toEqual([{ id: photo.id, kind: 'photo', mime: 'image/jpeg', sizeBytes: photo.sizeBytes, fileName: 'p2.jpg' }]);
    expect((await w.call(handlerA, 'GET', `/attachments/${photo.id}`)).statusCode).toBe(404);
    expect((await w.act(w.agent, ticket.id, 'dispatch', { mainDepartmentId: deptA })).statusCode).toBe(200);
    const download = await w.call(handlerA, 'GET', `/attachments/${photo.id}`);
    expect(download.statusCode).toBe(200);
    expect(download.headers['content-type']).toBe('image/jpeg');
    expect(download.rawPayload.equals(Buffer.concat([JPEG, Buffer.from('second photo')]))).toBe(true);
    expect((await w.call(handlerB, 'GET', `/attachments/${photo.id}`)).statusCode).toBe(404);
    const { rows } = await w.sql.query("SELECT actor_role FROM audit_log WHERE action = 'attachment.read' AND resource_id = $1 ORDER BY id", [photo.id]);
    expect(rows.map((r) => r.actor_role)).toEqual(['dept_handler', 'dept_handler', 'dept_handler']);

    await w.act(handlerA, ticket.id, 'sign');
    const foreign = await w.act(handlerA, ticket.id, 'reply', { content: '已修复', attachmentIds: [(await upload(w.agent, PDF, 'a.pdf', 'application/pdf')).json().id] });
    expect(foreign.json().code).toBe('attachment_forbidden');
    const own = (await upload(handlerA, Buffer.from('%PDF-1.4\nreply evidence\n'), 'done.pdf', 'application/pdf')).json();
    const replied = await w.act(handlerA, ticket.id, 'reply', { content: '已修复，附照片', attachmentIds: [own.id] });
    expect(replied.statusCode, replied.body).toBe(200);
    expect(replied.json<{ attachments: { id: string }[] }>().attachments.map((a) => a.id)).toEqual([photo.id, own.id]);
    const link = await w.sql.query('SELECT tt.action FROM ticket_attachments ta JOIN ticket_transitions tt ON tt.id = ta.transition_id WHERE ta.attachment_id = $1', [own.id]);
    expect(link.rows).toEqual([{ action: 'reply' }]);
    const unknown = await w.call(w.agent, 'POST', `/tickets/${ticket.id}/attachments`, { attachmentIds: ['00000000-0000-4000-8000-000000000001'] });
    expect(unknown.json().code).toBe('attachment_not_found');
  });
});
