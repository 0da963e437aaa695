import { Writable } from 'node:stream';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { maskPhone, maskPhonesInText } from './domain/phone.js';
import { loggerOptions, maskText, maskUrl } from './logger.js';

function capture(): { logger: pino.Logger; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const stream = new Writable({ write(c: Buffer, _e, cb) { chunks.push(c.toString()); cb(); } });
  return { logger: pino(loggerOptions('info', false), stream), lines: () => chunks.join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('log redaction', () => {
  it('masks phone numbers in known fields and keeps the last four digits', () => {
    const { logger, lines } = capture();
    logger.info({ callerNumber: '13800138000', caller: { number: '+8613912345678' }, call: { phone: '010-12345678' } }, 'call arrived');
    const [line] = lines();
    expect(JSON.stringify(line)).not.toMatch(/13800138000|13912345678|12345678[^*]/);
    expect(line!.callerNumber).toBe('*******8000');
    expect((line!.caller as { number: string }).number).toMatch(/\*+5678$/);
  });

  it('censors passwords, tokens and authorization headers', () => {
    const { logger, lines } = capture();
    logger.info({ password: 'hunter2', user: { token: 'abc' }, req: { headers: { authorization: 'Bearer xyz', 'x-api-key': 'hk_secret' } } }, 'x');
    const text = JSON.stringify(lines()[0]);
    expect(text).not.toMatch(/hunter2|"abc"|xyz|hk_secret/);
  });

  it('masks numbers inside free-text messages but not ids or dates', () => {
    const { logger, lines } = capture();
    logger.info('callback to 13800138000 for GD2026112300012 on channel 1795458559.1 at 2026-11-23');
    const msg = lines()[0]!.msg as string;
    expect(msg).toContain('*******8000');
    expect(msg).toContain('GD2026112300012');
    expect(msg).toContain('1795458559.1');
    expect(msg).toContain('2026-11-23');
  });

  it('maskPhone handles short and formatted numbers', () => {
    expect(maskPhone('110')).toBe('***');
    expect(maskPhone('138-0013-8000')).toBe('*******8000');
    expect(maskPhonesInText('no numbers here')).toBe('no numbers here');
  });

  it('censors sensitive keys at any depth, in arrays and in class instances', () => {
    const { logger, lines } = capture();
    class Caller { constructor(readonly phone: string, readonly name: string) {} }
    logger.info({
      ticket: { id: 't-1', caller: { phone: '13800138000', name: '王五' } },
      body: { user: { password: 'hunter2', username: 'alice' } },
      calls: [{ callerNumber: '13912345678' }, { destination: '+8613512345678' }],
      deep: { a: { b: { c: { d: { e: { apiKey: 'hk_abc_secret', contactPhone: '021-87654321' } } } } } },
      who: new Caller('13611112222', '赵六'),
      headers: { Authorization: 'Bearer xyz', 'X-API-Key': 'hk_key', cookie: 'sid=s3cr3t' },
    }, 'nested');
    const line = lines()[0]!;
    const text = JSON.stringify(line);
    expect(text).not.toMatch(/13800138000|13912345678|13512345678|87654321|13611112222|hunter2|hk_abc_secret|xyz|hk_key|s3cr3t/);
    expect(line).toMatchObject({
      ticket: { id: 't-1', caller: { phone: '*******8000', name: '王五' } },
      body: { user: { password: '[redacted]', username: 'alice' } },
      calls: [{ callerNumber: '*******5678' }, { destination: '*******5678' }],
      who: { phone: '*******2222', name: '赵六' },
      headers: { Authorization: '[redacted]', 'X-API-Key': '[redacted]', cookie: '[redacted]' },
    });
  });

  it('masks numbers in error messages and stacks, however the error is logged', () => {
    const { logger, lines } = capture();
    const err = Object.assign(new Error('no ticket for caller 13800138000'), { details: { phone: '13912345678' }, code: 'not_found' });
    logger.error({ err }, 'lookup failed');
    logger.error(err);
    logger.warn({ cause: new Error('retry for 13512345678 failed') }, 'x');
    const [a, b, c] = lines();
    expect(JSON.stringify([a, b, c])).not.toMatch(/13800138000|13912345678|13512345678/);
    expect(a!.err).toMatchObject({ type: 'Error', message: 'no ticket for caller *******8000', code: 'not_found', details: { phone: '*******5678' } });
    expect((a!.err as { stack: string }).stack).toContain('*******8000');
    expect(b!.msg).toBe('no ticket for caller *******8000');
    expect(c!.cause).toMatchObject({ message: 'retry for *******5678 failed' });
  });

  it('masks child-logger bindings', () => {
    const { logger, lines } = capture();
    logger.child({ callerNumber: '13800138000', token: 't0k', call: { caller: { phone: '13912345678' } } }).info('bound');
    expect(JSON.stringify(lines()[0])).not.toMatch(/13800138000|t0k|13912345678/);
  });

  it('masks mobile and long numbers in text, and leaves ids, decimals, dates and UUIDs alone', () => {
    expect(maskText('callback to 13800138000.')).toBe('callback to *******8000.');
    expect(maskText('user u13800138000 signed in')).toBe('user u*******8000 signed in');
    expect(maskText('来电13800138000，请回拨')).toBe('来电*******8000，请回拨');
    expect(maskText('from +86 138 0013 8000 and 0755-12345678')).not.toMatch(/0013|12345678/);
    const kept = 'GD2026112300012 on 1795458559.1 at 2026-11-23 10:30 and 2026-11-23T10:30:00Z, id 550e8400-e29b-41d4-a716-446655440000, port 5432';
    expect(maskText(kept)).toBe(kept);
  });

  it('masks sensitive query values and numbers in request URLs', () => {
    const url = maskUrl('/api/v1/tickets?phone=13800138000&token=abc.def&api_key=hk_1&key=k1&q=call+13912345678&limit=5&empty=');
    expect(url).not.toMatch(/13800138000|abc\.def|hk_1|k1|13912345678/);
    expect(url).toContain('phone=');
    expect(url).toContain('token=[redacted]');
    expect(url).toContain('limit=5');
    expect(url).toContain('empty=');
    expect(maskUrl('/api/v1/citizens/13800138000/tickets')).toBe('/api/v1/citizens/*******8000/tickets');
  });

  it("keeps secrets and numbers out of Fastify's request log", async () => {
    const chunks: string[] = [];
    const stream = new Writable({ write(c: Buffer, _e, cb) { chunks.push(c.toString()); cb(); } });
    const loggerInstance: FastifyBaseLogger = pino(loggerOptions('info', false), stream);
    const app = Fastify({ loggerInstance });
    app.get('/lookup', async () => ({ ok: true }));
    await app.inject({ url: '/lookup?phone=13800138000&token=s3cr3t&apiKey=hk_x', headers: { authorization: 'Bearer zzz', 'x-api-key': 'hk_y' } });
    await app.close();
    const lines = chunks.join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const incoming = lines.find((l) => l.msg === 'incoming request')!;
    expect((incoming.req as { url: string }).url).toMatch(/^\/lookup\?phone=\*+8000&token=\[redacted\]&apiKey=\[redacted\]$/);
    expect(chunks.join('')).not.toMatch(/13800138000|s3cr3t|hk_x|zzz|hk_y/);
  });

  it('builds the pretty (development) transport with the same formatters', () => {
    const logger = pino(loggerOptions('silent', true));
    expect(() => logger.info({ phone: '13800138000' }, 'x')).not.toThrow();
  });
});
