/**
 * Authentication for every route that declares `config.auth`: a Bearer JWT (users) or an
 * `X-API-Key` header (machines). Authorisation by role happens here too; department scoping
 * is decided by services, which know what a resource belongs to.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { requireRole, type Principal, type Role } from '../domain/auth.js';
import { UnauthenticatedError } from '../domain/errors.js';
import type { AuthService } from '../modules/auth/auth.service.js';

export interface RouteAuth {
  /** Roles allowed to call the route; empty = any authenticated principal. */
  readonly roles: readonly Role[];
}

export interface RouteAudit {
  readonly action: string;
  readonly resource: string;
  /** A read of sensitive data (recordings, full numbers, citizens' records): audited like a write. */
  readonly sensitive?: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
    audit?: RouteAudit;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new UnauthenticatedError();
  return request.principal;
}

export const authPlugin = fp(async (app: FastifyInstance, opts: { auth: AuthService }) => {
  app.decorateRequest('principal', null);
  // onRequest, before the body is parsed and validated: an anonymous or forbidden caller gets
  // 401/403, never a 400 that describes the route's schema.
  app.addHook('onRequest', async (request) => {
    const auth = request.routeOptions.config.auth;
    if (!auth) return;
    const header = request.headers.authorization;
    const apiKey = request.headers['x-api-key'];
    if (typeof header === 'string' && header.length > 0) {
      const m = /^Bearer\s+(\S+)$/i.exec(header);
      if (!m) throw new UnauthenticatedError('The Authorization header must be "Bearer <token>"', 'authorization_malformed');
      request.principal = await opts.auth.authenticateToken(m[1]!);
    } else if (typeof apiKey === 'string' && apiKey.length > 0) {
      request.principal = await opts.auth.authenticateApiKey(apiKey);
    } else {
      throw new UnauthenticatedError('Sign in and send "Authorization: Bearer <token>", or send an X-API-Key header', 'unauthenticated');
    }
    request.log = request.log.child({ actor: request.principal.id, role: request.principal.role });
    if (auth.roles.length > 0) requireRole(request.principal, auth.roles);
  });
}, { name: 'hotline-auth' });
