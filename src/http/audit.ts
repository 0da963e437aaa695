/**
 * Audits every write and every sensitive read: who (principal), what (action, resource, id,
 * outcome), when, and from where (ip, user agent, request id). It fails closed:
 *  - a write first gets an attempt row, before the handler runs; if that row cannot be written
 *    the request is refused with 503 and nothing changes. The outcome row follows at onSend (the
 *    change is committed by then, so a failure there is logged and the attempt row remains);
 *  - a sensitive read gets its row before the response leaves; if that row cannot be written the
 *    data is not sent (503).
 * Requests refused before the handler (401, 403, 400) get only the outcome row.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { UnavailableError } from '../domain/errors.js';
import type { AuditService } from '../modules/audit/audit.service.js';
import { problem } from './problem.js';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);
// Bodies larger than this are not parsed just to find a created resource's id.
const MAX_ID_SCAN_BYTES = 256 * 1024;

function actionOf(request: FastifyRequest): { action: string; resourceType: string; sensitive: boolean } {
  const cfg = request.routeOptions.config.audit;
  return {
    action: cfg?.action ?? `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`,
    resourceType: cfg?.resource ?? 'http',
    sensitive: cfg?.sensitive === true,
  };
}

function paramId(request: FastifyRequest): string | null {
  const params = (request.params ?? {}) as Record<string, unknown>;
  return typeof params.id === 'string' ? params.id : null;
}

/** The id of what a create returned: `{ id }`, or `{ <resource>: { id } }` (e.g. `{ apiKey: { id } }`). */
export function createdId(payload: unknown, resourceType: string, contentType: string): string | null {
  if (typeof payload !== 'string' || payload.length > MAX_ID_SCAN_BYTES || !/json/.test(contentType)) return null;
  let body: unknown;
  try {
    body = JSON.parse(payload);
  } catch {
    return null;
  }
  if (typeof body !== 'object' || body === null) return null;
  const b = body as Record<string, unknown>;
  if (typeof b.id === 'string') return b.id;
  const key = resourceType.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
  const nested = b[key];
  return typeof nested === 'object' && nested !== null && typeof (nested as { id?: unknown }).id === 'string' ? (nested as { id: string }).id : null;
}

function origin(request: FastifyRequest) {
  return { ip: request.ip, userAgent: request.headers['user-agent'] ?? null, requestId: String(request.id) };
}

/** Replaces a response that must not leave without its audit row. */
function refuse(request: FastifyRequest, reply: FastifyReply, payload: unknown): string {
  const p = problem(request, 503, 'audit_unavailable', 'The audit log cannot be written right now, so this data is not shown; try again shortly');
  if (payload && typeof (payload as { destroy?: unknown }).destroy === 'function') (payload as { destroy(): void }).destroy();
  for (const h of ['content-disposition', 'etag', 'content-length', 'last-modified']) reply.removeHeader(h);
  void reply.code(503).type('application/problem+json; charset=utf-8');
  return JSON.stringify(p);
}

export const auditPlugin = fp(async (app: FastifyInstance, opts: { audit: AuditService }) => {
  const attempted = new WeakSet<FastifyRequest>();

  app.addHook('preHandler', async (request) => {
    if (READS.has(request.method) || !request.routeOptions.url) return;
    const { action, resourceType } = actionOf(request);
    try {
      await opts.audit.recordAttempt({
        action, resourceType, resourceId: paramId(request),
        details: { method: request.method, route: request.routeOptions.url },
      }, request.principal, origin(request));
      attempted.add(request);
    } catch (err) {
      request.log.error({ err }, 'audit write failed; refusing the change');
      throw new UnavailableError('The audit log cannot be written right now, so nothing was changed; try again shortly', 'audit_unavailable', { cause: err });
    }
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const { action, resourceType, sensitive } = actionOf(request);
    const isWrite = !READS.has(request.method);
    if (!sensitive && !isWrite) return payload;
    if (!request.routeOptions.config.audit && reply.statusCode === 404 && !request.routeOptions.url) return payload; // unknown route: nothing was touched
    const status = reply.statusCode;
    const resourceId = paramId(request)
      ?? (isWrite && status < 300 ? createdId(payload, resourceType, String(reply.getHeader('content-type') ?? '')) : null);
    const query = (request.query ?? {}) as Record<string, unknown>;
    try {
      await opts.audit.record({
        action, resourceType, resourceId,
        outcome: status < 400 ? 'success' : status === 401 || status === 403 ? 'denied' : 'failed',
        statusCode: status,
        details: {
          method: request.method, route: request.routeOptions.url ?? null, ...(isWrite ? { phase: 'outcome' } : {}),
          // Which filters a sensitive read used (names only: values may be phone numbers).
          ...(sensitive && !isWrite && Object.keys(query).length ? { query: Object.keys(query).sort() } : {}),
        },
      }, request.principal, origin(request));
    } catch (err) {
      if (!isWrite && status < 400) {
        request.log.error({ err }, 'audit write failed; the sensitive data is not sent');
        return refuse(request, reply, payload);
      }
      // The change is committed; its attempt row (written before the handler) remains.
      request.log.error({ err, attempted: attempted.has(request) }, 'audit write failed after the change');
    }
    return payload;
  });
}, { name: 'hotline-audit' });
