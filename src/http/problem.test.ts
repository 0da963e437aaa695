import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { problem } from './problem.js';

describe('problem details', () => {
  it('extension members never replace the RFC 9457 members', () => {
    const req = { url: '/api/v1/callbacks/1?x=1', id: 'req-1' } as unknown as FastifyRequest;
    const p = problem(req, 409, 'callback_closed', 'The task is already done', { status: 'done', code: 'other', type: 'x', allowed: ['a'] });
    expect(p).toEqual({
      type: 'urn:hotline:problem:callback_closed', title: expect.any(String), status: 409, detail: 'The task is already done',
      instance: '/api/v1/callbacks/1', code: 'callback_closed', requestId: 'req-1', allowed: ['a'],
    });
  });
});
