import { describe, expect, it } from 'vitest';
import { callerPhone, normalizePhone } from './phone.js';

describe('normalizePhone', () => {
  it('maps the usual spellings of one number to one form', () => {
    for (const p of ['13800138000', '138 0013 8000', '+86 138-0013-8000', '008613800138000']) expect(normalizePhone(p)).toBe('13800138000');
    expect(normalizePhone('010-12345678')).toBe('01012345678');
  });
  it('refuses what is not a number', () => {
    expect(() => normalizePhone('call me')).toThrow(expect.objectContaining({ code: 'invalid_phone' }));
    expect(() => normalizePhone('12')).toThrow(expect.objectContaining({ code: 'invalid_phone' }));
  });
});

describe('callerPhone', () => {
  it('gives the canonical number, or null for a withheld or non-numeric caller id', () => {
    expect(callerPhone('+86 138-0013-8000')).toBe('13800138000');
    expect(callerPhone('')).toBeNull();
    expect(callerPhone('anonymous')).toBeNull();
  });
});
