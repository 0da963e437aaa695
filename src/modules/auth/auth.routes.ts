import type {} from '@fastify/rate-limit';
import { Type } from 'typebox';
import { TooManyRequestsError } from '../../domain/errors.js';
import { principalOf } from '../../http/auth.js';
import { errorResponses, IdParams } from '../../http/schemas.js';
import type { App } from '../../http/types.js';
import type { AuthService } from './auth.service.js';
import { ApiKeySchema, CreateApiKeyBody, CreatedApiKey, CreateUserBody, ListUsersQuery, LoginBody, LoginResponse, MeResponse, UpdateUserBody, UserSchema } from './auth.schemas.js';

export interface AuthRoutesOptions {
  readonly auth: AuthService;
  readonly loginRateLimit: { readonly max: number; readonly perAddressMax: number; readonly windowMs: number };
}

export async function authRoutes(app: App, opts: AuthRoutesOptions): Promise<void> {
  const { auth } = opts;
  // Per address, whatever the username: slows password spraying over many accounts. Checked at
  // onRequest, before the body is read; the route's own limit below adds the username.
  const perAddress = app.createRateLimit({ max: opts.loginRateLimit.perAddressMax, timeWindow: opts.loginRateLimit.windowMs, keyGenerator: (req) => req.ip });

  app.post('/auth/login', {
    onRequest: async (req, reply) => {
      const r = await perAddress(req);
      if (!r.isAllowed && r.isExceeded) {
        void reply.header('retry-after', r.ttlInSeconds);
        throw new TooManyRequestsError(`Too many sign-in attempts from this address; try again in ${r.ttlInSeconds} s`, { retryAfterSeconds: r.ttlInSeconds });
      }
    },
    schema: { tags: ['auth'], summary: 'Sign in; returns a Bearer token naming a new session', body: LoginBody, response: { 200: LoginResponse, ...errorResponses(429) } },
    config: {
      audit: { action: 'auth.login', resource: 'session' },
      // Per address and username: slows password guessing without locking the real user out from elsewhere.
      rateLimit: {
        max: opts.loginRateLimit.max,
        timeWindow: opts.loginRateLimit.windowMs,
        hook: 'preHandler', // after body parsing, so the key can include the username
        keyGenerator: (req) => {
          const username = (req.body as { username?: unknown } | undefined)?.username;
          return `${req.ip}|${typeof username === 'string' ? username.toLowerCase() : ''}`;
        },
        errorResponseBuilder: (_req, ctx) => new TooManyRequestsError(`Too many sign-in attempts; try again in ${Math.ceil(ctx.ttl / 1000)} s`, { retryAfterSeconds: Math.ceil(ctx.ttl / 1000) }),
      },
    },
  }, async (req) => {
    const result = await auth.login(req.body.username, req.body.password, { ip: req.ip, userAgent: req.headers['user-agent'] ?? null });
    return { ...result, tokenType: 'Bearer' as const };
  });

  app.post('/auth/logout', {
    schema: { tags: ['auth'], summary: 'End the current session', response: { 204: Type.Null(), ...errorResponses() } },
    config: { auth: { roles: [] }, audit: { action: 'auth.logout', resource: 'session' } },
  }, async (req, reply) => {
    await auth.logout(principalOf(req));
    return reply.code(204).send(null);
  });

  app.get('/auth/me', {
    schema: { tags: ['auth'], summary: 'Who am I', response: { 200: MeResponse, ...errorResponses() } },
    config: { auth: { roles: [] } },
  }, async (req) => {
    const p = principalOf(req);
    return { kind: p.kind, id: p.id, name: p.name, role: p.role, departmentId: p.departmentId, centreId: p.centreId };
  });

  app.post('/users', {
    schema: { tags: ['users'], summary: 'Create a user (admin)', body: CreateUserBody, response: { 201: UserSchema, ...errorResponses(404, 409) } },
    config: { auth: { roles: ['admin'] }, audit: { action: 'user.create', resource: 'user' } },
  }, async (req, reply) => reply.code(201).send(await auth.createUser(req.body, principalOf(req))));

  app.get('/users', {
    schema: { tags: ['users'], summary: 'List users (admin, supervisor)', querystring: ListUsersQuery, response: { 200: Type.Object({ items: Type.Array(UserSchema), next: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses() } },
    config: { auth: { roles: ['admin', 'supervisor'] } },
  }, async (req) => {
    const items = await auth.listUsers({ ...req.query });
    return { items, next: items.length === req.query.limit ? items.at(-1)!.username : null };
  });

  app.get('/users/:id', {
    schema: { tags: ['users'], summary: 'Get a user (admin, supervisor)', params: IdParams, response: { 200: UserSchema, ...errorResponses(404) } },
    config: { auth: { roles: ['admin', 'supervisor'] } },
  }, async (req) => auth.getUser(req.params.id));

  app.patch('/users/:id', {
    schema: { tags: ['users'], summary: 'Change a user: name, role, department, password, active (admin)', params: IdParams, body: UpdateUserBody, response: { 200: UserSchema, ...errorResponses(404, 409) } },
    config: { auth: { roles: ['admin'] }, audit: { action: 'user.update', resource: 'user' } },
  }, async (req) => auth.updateUser(req.params.id, req.body, principalOf(req)));

  app.post('/api-keys', {
    schema: { tags: ['api-keys'], summary: 'Create an API key for an integrator or department (admin); the key is shown once', body: CreateApiKeyBody, response: { 201: CreatedApiKey, ...errorResponses(404) } },
    config: { auth: { roles: ['admin'] }, audit: { action: 'api_key.create', resource: 'api_key' } },
  }, async (req, reply) => reply.code(201).send(await auth.createApiKey(req.body, principalOf(req))));

  app.get('/api-keys', {
    schema: { tags: ['api-keys'], summary: 'List API keys (admin); secrets are never shown again', response: { 200: Type.Object({ items: Type.Array(ApiKeySchema) }), ...errorResponses() } },
    config: { auth: { roles: ['admin'] } },
  }, async () => ({ items: await auth.listApiKeys() }));

  app.delete('/api-keys/:id', {
    schema: { tags: ['api-keys'], summary: 'Revoke an API key (admin)', params: IdParams, response: { 200: ApiKeySchema, ...errorResponses(404) } },
    config: { auth: { roles: ['admin'] }, audit: { action: 'api_key.revoke', resource: 'api_key' } },
  }, async (req) => auth.revokeApiKey(req.params.id, principalOf(req)));
}
