import { describe, expect, it } from 'vitest';
import { hashPassword, passwordProblems, verifyPassword } from './password.js';

const FAST = { N: 1024, r: 8, p: 1 };

describe('password hashing', () => {
  it('verifies the right password only, with a salt per hash', async () => {
    const a = await hashPassword('Correct-Horse-9', FAST);
    const b = await hashPassword('Correct-Horse-9', FAST);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^scrypt\$1024\$8\$1\$/);
    expect(await verifyPassword('Correct-Horse-9', a)).toBe(true);
    expect(await verifyPassword('correct-horse-9', a)).toBe(false);
    expect(await verifyPassword('Correct-Horse-9', 'md5$abc')).toBe(false);
  });
  it('uses the memory-hard default cost', async () => {
    expect(await hashPassword('Correct-Horse-9')).toMatch(/^scrypt\$32768\$8\$1\$/);
  });
  it('explains what a weak password lacks', () => {
    expect(passwordProblems('short', 'bob')).toContain('at least 12 characters');
    expect(passwordProblems('alllowercaseletters', 'bob')).toContain('at least three of: lower case, upper case, digits, symbols');
    expect(passwordProblems('Bob-Password-123', 'bob')).toContain('must not contain the username');
    expect(passwordProblems('Sturdy-Passw0rd', 'bob')).toEqual([]);
  });
});
