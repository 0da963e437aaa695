import { describe, expect, it } from 'vitest';
import { UnauthenticatedError } from '../../domain/errors.js';
import { signJwt, verifyJwt } from './jwt.js';

const SECRET = 's'.repeat(40);
const claims = { sub: 'u1', sid: 's1', role: 'agent', iat: 1000, exp: 2000 };

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UnauthenticatedError);
    return (err as UnauthenticatedError).code;
  }
  throw new Error('expected a rejection');
}

describe('jwt', () => {
  it('round-trips claims', () => {
    expect(verifyJwt(signJwt(claims, SECRET), SECRET, 1500)).toEqual(claims);
  });
  it('rejects expiry, tampering, other secrets, alg none and garbage', () => {
    const token = signJwt(claims, SECRET);
    expect(code(() => verifyJwt(token, SECRET, 2000))).toBe('token_expired');
    expect(code(() => verifyJwt(token, 'x'.repeat(40), 1500))).toBe('token_invalid');
    const [h, , s] = token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url')}.${s}`;
    expect(code(() => verifyJwt(forged, SECRET, 1500))).toBe('token_invalid');
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${token.split('.')[1]}.`;
    expect(code(() => verifyJwt(none, SECRET, 1500))).toBe('token_invalid');
    expect(code(() => verifyJwt('abc', SECRET, 1500))).toBe('token_malformed');
    expect(code(() => verifyJwt('!!.!!.!!', SECRET, 1500))).toBe('token_malformed');
  });
});
