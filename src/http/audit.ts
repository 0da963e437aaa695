/**
 * Audits every write and every sensitive read, before the response leaves: who (principal),
 * what (action, resource, id, outcome), when, and from where (ip, user agent, request id).
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { AuditService } from '../modules/audit/audit.service.js';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

export const auditPlugin = fp(async (app: FastifyInstance, opts: { audit: AuditService }) => {
  app.addHook('onSend', async (request, reply, payload) => {
    const cfg = request.routeOptions.config.audit;
    const isWrite = !READS.has(request.method);
    if (!cfg?.sensitive && !isWrite) return payload;
    if (!cfg && reply.statusCode === 404 && !request.routeOptions.url) return payload; // unknown route: nothing was touched
    const status = reply.statusCode;
    const params = (request.params ?? {}) as Record<string, unknown>;
    const resourceId = typeof params.id === 'string' ? params.id : null;
    try {
      await opts.audit.record({
        action: cfg?.action ?? `${request.method} ${request.routeOptions.url ?? request.url}`,
        resourceType: cfg?.resource ?? 'http',
        resourceId,
        outcome: status < 400 ? 'success' : status === 401 || status === 403 ? 'denied' : 'failed',
        statusCode: status,
        details: { method: request.method, route: request.routeOptions.url ?? null },
      }, request.principal, { ip: request.ip, userAgent: request.headers['user-agent'] ?? null, requestId: String(request.id) });
    } catch (err) {
      // The change already happened; losing its audit row is logged loudly rather than hidden.
      request.log.error({ err }, 'audit write failed');
    }
    return payload;
  });
}, { name: 'hotline-audit' });
