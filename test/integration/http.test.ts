import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ HTTP_BODY_LIMIT_BYTES: '2048' });
});
afterAll(async () => t.close());

const auth = () => ({ authorization: `Bearer ${t.adminToken}` });

describe('HTTP contract', () => {
  it('answers liveness and readiness with each dependency', async () => {
    expect((await t.hotline.app.inject('/healthz')).json()).toMatchObject({ status: 'ok' });
    const ready = await t.hotline.app.inject('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({
      status: 'ready',
      checks: { postgres: { status: 'up' }, nats: { status: 'disabled' }, ari: { status: 'disabled' }, ami: { status: 'disabled' } },
    });
  });

  it('gives every response a request id, and echoes a safe one', async () => {
    const a = await t.hotline.app.inject('/healthz');
    expect(a.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const b = await t.hotline.app.inject({ url: '/healthz', headers: { 'x-request-id': 'trace-42' } });
    expect(b.headers['x-request-id']).toBe('trace-42');
    const c = await t.hotline.app.inject({ url: '/healthz', headers: { 'x-request-id': '<script>' } });
    expect(c.headers['x-request-id']).not.toBe('<script>');
  });

  it('serves an OpenAPI document built from the route schemas', async () => {
    const res = await t.hotline.app.inject('/docs/json');
    expect(res.statusCode).toBe(200);
    const doc = res.json<{ openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown> }>>; components: { securitySchemes: object } }>();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/auth/login', '/api/v1/users', '/api/v1/api-keys', '/api/v1/departments', '/api/v1/audit', '/readyz']));
    expect(doc.paths['/api/v1/users']!.post!.responses).toHaveProperty('201');
    expect(doc.paths['/api/v1/users']!.post!.responses).toHaveProperty('403');
    expect(doc.components.securitySchemes).toHaveProperty('bearer');
    expect((await t.hotline.app.inject('/docs')).statusCode).toBeLessThan(400);
  });

  it('declares a success response for every operation, binary for file downloads', async () => {
    const doc = (await t.hotline.app.inject('/docs/json')).json<{ paths: Record<string, Record<string, { responses?: Record<string, { content?: Record<string, { schema?: object }> }> }>> }>();
    const methods = new Set(['get', 'put', 'post', 'delete', 'patch']);
    const missing = Object.entries(doc.paths).flatMap(([p, ops]) => Object.entries(ops)
      .filter(([m, op]) => methods.has(m) && !Object.keys(op.responses ?? {}).some((code) => /^2\d\d$/.test(code)))
      .map(([m]) => `${m.toUpperCase()} ${p}`));
    expect(missing, 'operations without a 2xx response schema').toEqual([]);
    const download = doc.paths['/api/v1/attachments/{id}']!.get!.responses!['200']!;
    expect(download.content).toEqual({ '*/*': { schema: { type: 'string', format: 'binary' } } });
  });

  describe('problem details for malformed requests', () => {
    it.each([
      ['validation: missing field', { method: 'POST', url: '/api/v1/departments', payload: { name: 'x', level: 'city' } }, 400, 'validation_failed', /code is required/],
      ['validation: unknown field', { method: 'POST', url: '/api/v1/departments', payload: { code: 'a', name: 'x', level: 'city', hack: true } }, 400, 'validation_failed', /hack is not an accepted property/],
      ['validation: bad enum', { method: 'POST', url: '/api/v1/departments', payload: { code: 'a', name: 'x', level: 'galaxy' } }, 400, 'validation_failed', /level/],
      ['validation: bad uuid param', { method: 'GET', url: '/api/v1/departments/not-a-uuid' }, 400, 'validation_failed', /params\/id/],
      ['validation: query out of range', { method: 'GET', url: '/api/v1/departments?limit=100000' }, 400, 'validation_failed', /limit/],
      ['malformed JSON', { method: 'POST', url: '/api/v1/departments', payload: '{"code":', headers: { 'content-type': 'application/json' } }, 400, 'malformed_json', /JSON/],
      ['unsupported media type', { method: 'POST', url: '/api/v1/departments', payload: 'code=a', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, 'unsupported_media_type', /./],
      ['body too large', { method: 'POST', url: '/api/v1/departments', payload: { code: 'a', name: 'x'.repeat(5000), level: 'city' } }, 413, 'payload_too_large', /./],
      ['unknown route', { method: 'GET', url: '/api/v1/nothing-here' }, 404, 'route_not_found', /nothing-here/],
      ['unknown department', { method: 'GET', url: '/api/v1/departments/00000000-0000-4000-8000-000000000000' }, 404, 'department_not_found', /was not found/],
    ] as const)('%s', async (_name, req, status, code, detail) => {
      const res = await t.hotline.app.inject({ ...req, headers: { ...auth(), ...('headers' in req ? req.headers : {}) } } as never);
      expect(res.statusCode).toBe(status);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      const body = res.json<Record<string, unknown>>();
      expect(body).toMatchObject({ status, code, type: `urn:hotline:problem:${code}`, requestId: res.headers['x-request-id'] });
      expect(body.detail).toMatch(detail);
      expect(typeof body.title).toBe('string');
    });
  });
});
