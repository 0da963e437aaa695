import { describe, expect, it } from 'vitest';
import { toTicketAction } from './actions.map.js';
import { canonicalJson, localDay } from './intake.service.js';
import { decodeCursor, encodeCursor } from './tickets.service.js';
import { hashVerificationCode, newVerificationCode, verifyCode } from './verification.js';

describe('intake helpers', () => {
  it('hashes the same request the same way whatever the key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: undefined } })).toBe('{"a":{"d":[1,{"x":1,"y":2}]},"b":1}');
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
  });

  it('numbers tickets by the Beijing calendar day', () => {
    expect(localDay(new Date('2026-11-23T15:59:59Z'))).toBe('2026-11-23');
    expect(localDay(new Date('2026-11-23T16:00:00Z'))).toBe('2026-11-24');
  });

  it('verifies a code only against its own ticket', () => {
    const code = newVerificationCode();
    expect(code).toMatch(/^\d{6}$/);
    const stored = hashVerificationCode('t1', code);
    expect(verifyCode('t1', code, stored)).toBe(true);
    expect(verifyCode('t2', code, stored)).toBe(false);
    expect(verifyCode('t1', 'abcdef', stored)).toBe(false);
    expect(verifyCode('t1', code, null)).toBe(false);
  });

  it('round-trips keyset cursors and refuses forged ones', () => {
    const at = new Date('2026-01-05T02:00:00.123Z');
    expect(decodeCursor(encodeCursor(at, 'abc'))).toEqual({ createdAt: at, id: 'abc' });
    expect(() => decodeCursor('garbage')).toThrow(expect.objectContaining({ code: 'invalid_cursor' }));
  });

  it('maps HTTP action bodies to state-machine actions, requiring their payload', () => {
    expect(toTicketAction({ action: 'request_extension', requestedDueAt: '2026-12-01T09:00:00Z', reason: '协调' }))
      .toEqual({ type: 'request_extension', requestedDueAt: new Date('2026-12-01T09:00:00Z'), reason: '协调' });
    expect(toTicketAction({ action: 'revisit', reached: true, revisitChannel: 'sms' })).toEqual({ type: 'revisit', reached: true, channel: 'sms' });
    expect(() => toTicketAction({ action: 'dispatch' })).toThrow(expect.objectContaining({ code: 'mainDepartmentId_required' }));
  });
});
