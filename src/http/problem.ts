/**
 * The one place where errors become HTTP: RFC 9457 problem details with a stable `code`.
 * Domain errors carry their own code and status; Fastify's own errors are mapped to codes
 * here; anything else is a 500 whose message is not shown.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { App } from './types.js';
import { DomainError } from '../domain/errors.js';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: string;
  requestId: string;
  [extra: string]: unknown;
}

export const PROBLEM_BASE = 'urn:hotline:problem:';

const TITLES: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 406: 'Not Acceptable',
  409: 'Conflict', 413: 'Content Too Large', 415: 'Unsupported Media Type', 422: 'Unprocessable Content', 429: 'Too Many Requests',
  500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

// Fastify's error codes → our stable codes.
const FASTIFY_CODES: Record<string, { status: number; code: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'invalid_content_length' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'payload_too_large' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'empty_json_body' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'malformed_json' },
  FST_ERR_CTP_EMPTY_TYPE: { status: 415, code: 'unsupported_media_type' },
  FST_ERR_CTP_INVALID_TYPE: { status: 415, code: 'unsupported_media_type' },
  FST_ERR_NOT_FOUND: { status: 404, code: 'route_not_found' },
};

export function problem(request: FastifyRequest, status: number, code: string, detail: string, extra: Record<string, unknown> = {}): Problem {
  // Extension members never replace the RFC 9457 ones (a detail named `status` is not the HTTP status).
  return {
    ...extra,
    type: `${PROBLEM_BASE}${code}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    instance: request.url.split('?')[0] ?? request.url,
    code,
    requestId: String(request.id),
  };
}

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  return reply.code(p.status).type('application/problem+json; charset=utf-8').send(p);
}

export function registerProblemHandlers(app: App): void {
  app.setErrorHandler((error: FastifyError | DomainError | Error, request, reply) => {
    if (error instanceof DomainError) {
      if (error.status >= 500) request.log.error({ err: error }, 'dependency failure');
      return sendProblem(reply, problem(request, error.status, error.code, error.message, error.details ?? {}));
    }
    const fe = error as FastifyError;
    if (fe.validation) {
      const errors = fe.validation.map((v) => {
        const extra = v.params?.additionalProperty;
        const missing = v.params?.missingProperty;
        if (typeof extra === 'string') return { in: fe.validationContext ?? 'body', path: `${v.instancePath}/${extra}`, message: 'is not an accepted property' };
        if (typeof missing === 'string') return { in: fe.validationContext ?? 'body', path: `${v.instancePath}/${missing}`, message: 'is required' };
        return { in: fe.validationContext ?? 'body', path: v.instancePath || '/', message: v.message ?? 'is invalid' };
      });
      const first = errors[0];
      const detail = first ? `${first.in}${first.path === '/' ? '' : first.path} ${first.message}` : 'The request is invalid';
      return sendProblem(reply, problem(request, 400, 'validation_failed', detail, { errors }));
    }
    const mapped = fe.code ? FASTIFY_CODES[fe.code] : undefined;
    if (mapped) return sendProblem(reply, problem(request, mapped.status, mapped.code, fe.message));
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      return sendProblem(reply, problem(request, fe.statusCode, 'bad_request', fe.message));
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(reply, problem(request, 500, 'internal_error', 'Something went wrong on our side; the request id identifies it in our logs'));
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, problem(request, 404, 'route_not_found', `No route ${request.method} ${request.url.split('?')[0] ?? ''}`)));
}
