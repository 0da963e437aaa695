import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { maskPhone, maskPhonesInText } from './domain/phone.js';
import { loggerOptions } from './logger.js';

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
});
