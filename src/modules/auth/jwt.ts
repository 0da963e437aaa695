/** Compact HS256 JSON Web Tokens (RFC 7519) with node:crypto; the session id is the `sid` claim. */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { UnauthenticatedError } from '../../domain/errors.js';

export interface SessionClaims {
  readonly sub: string;
  readonly sid: string;
  readonly role: string;
  readonly iat: number;
  readonly exp: number;
}

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

export function signJwt(claims: SessionClaims, secret: string): string {
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const sig = createHmac('sha256', secret).update(`${HEADER}.${body}`).digest('base64url');
  return `${HEADER}.${body}.${sig}`;
}

export function verifyJwt(token: string, secret: string, nowSeconds: number): SessionClaims {
  const parts = token.split('.');
  if (parts.length !== 3) throw new UnauthenticatedError('The token is malformed', 'token_malformed');
  const [header, body, sig] = parts as [string, string, string];
  let alg: unknown;
  try {
    alg = (JSON.parse(Buffer.from(header, 'base64url').toString()) as { alg?: unknown }).alg;
  } catch {
    throw new UnauthenticatedError('The token is malformed', 'token_malformed');
  }
  // Only HS256: refuses `none` and algorithm-confusion tokens.
  if (alg !== 'HS256') throw new UnauthenticatedError('The token algorithm is not accepted', 'token_invalid');
  const expected = createHmac('sha256', secret).update(`${header}.${body}`).digest();
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new UnauthenticatedError('The token signature is invalid', 'token_invalid');
  }
  let claims: Partial<SessionClaims>;
  try {
    claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as Partial<SessionClaims>;
  } catch {
    throw new UnauthenticatedError('The token is malformed', 'token_malformed');
  }
  if (typeof claims.sub !== 'string' || typeof claims.sid !== 'string' || typeof claims.exp !== 'number' || typeof claims.iat !== 'number' || typeof claims.role !== 'string') {
    throw new UnauthenticatedError('The token is missing claims', 'token_invalid');
  }
  if (claims.exp <= nowSeconds) throw new UnauthenticatedError('The session has expired; sign in again', 'token_expired');
  return claims as SessionClaims;
}
