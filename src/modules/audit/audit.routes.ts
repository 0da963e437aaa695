import { Type } from 'typebox';
import { errorResponses } from '../../http/schemas.js';
import type { App } from '../../http/types.js';
import type { AuditService } from './audit.service.js';

const AuditEntrySchema = Type.Object({
  id: Type.String(),
  at: Type.String({ format: 'date-time' }),
  actorType: Type.String(),
  actorId: Type.Union([Type.String(), Type.Null()]),
  actorName: Type.Union([Type.String(), Type.Null()]),
  actorRole: Type.Union([Type.String(), Type.Null()]),
  action: Type.String(),
  resourceType: Type.String(),
  resourceId: Type.Union([Type.String(), Type.Null()]),
  outcome: Type.String(),
  statusCode: Type.Union([Type.Integer(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  requestId: Type.Union([Type.String(), Type.Null()]),
  details: Type.Record(Type.String(), Type.Unknown()),
});

const AuditQuery = Type.Object({
  actorId: Type.Optional(Type.String({ maxLength: 64 })),
  resourceType: Type.Optional(Type.String({ maxLength: 64 })),
  resourceId: Type.Optional(Type.String({ maxLength: 128 })),
  action: Type.Optional(Type.String({ maxLength: 128 })),
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
  before: Type.Optional(Type.String({ pattern: '^[0-9]{1,18}$', description: 'Keyset cursor: entries older than this id' })),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
}, { additionalProperties: false });

export async function auditRoutes(app: App, opts: { audit: AuditService }): Promise<void> {
  app.get('/audit', {
    schema: { tags: ['audit'], summary: 'Read the audit log (admin); newest first', querystring: AuditQuery, response: { 200: Type.Object({ items: Type.Array(AuditEntrySchema), next: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses() } },
    // Reading the audit log is itself a sensitive read.
    config: { auth: { roles: ['admin'] }, audit: { action: 'audit.read', resource: 'audit_log', sensitive: true } },
  }, async (req) => {
    const { from, to, ...q } = req.query;
    const items = await opts.audit.list({ ...q, ...(from ? { from: new Date(from) } : {}), ...(to ? { to: new Date(to) } : {}) });
    return {
      items: items.map((e) => ({ ...e, id: String(e.id), at: e.at.toISOString() })),
      next: items.length === q.limit ? String(items.at(-1)!.id) : null,
    };
  });
}
