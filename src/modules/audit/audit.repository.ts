import type { Executor } from '../../adapters/db/database.js';

export interface AuditEntry {
  readonly actorType: 'user' | 'api_key' | 'system' | 'anonymous';
  readonly actorId: string | null;
  readonly actorName: string | null;
  readonly actorRole: string | null;
  readonly action: string;
  readonly resourceType: string;
  readonly resourceId: string | null;
  readonly outcome: 'attempt' | 'success' | 'denied' | 'failed';
  readonly statusCode: number | null;
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly requestId: string | null;
  readonly details: Record<string, unknown>;
}

export interface AuditRecord extends AuditEntry {
  readonly id: string;
  readonly at: Date;
}

export interface AuditQuery {
  readonly actorId?: string;
  readonly resourceType?: string;
  readonly resourceId?: string;
  readonly action?: string;
  readonly from?: Date;
  readonly to?: Date;
  /** Keyset: entries with id below this one. */
  readonly before?: string;
  readonly limit: number;
}

export class AuditRepository {
  async insert(db: Executor, e: AuditEntry): Promise<void> {
    await db.insertInto('auditLog').values({ ...e, details: JSON.stringify(e.details) }).execute();
  }

  async list(db: Executor, q: AuditQuery): Promise<AuditRecord[]> {
    let sel = db.selectFrom('auditLog').selectAll().orderBy('id', 'desc').limit(q.limit);
    if (q.actorId) sel = sel.where('actorId', '=', q.actorId);
    if (q.resourceType) sel = sel.where('resourceType', '=', q.resourceType);
    if (q.resourceId) sel = sel.where('resourceId', '=', q.resourceId);
    if (q.action) sel = sel.where('action', '=', q.action);
    if (q.from) sel = sel.where('at', '>=', q.from);
    if (q.to) sel = sel.where('at', '<', q.to);
    if (q.before) sel = sel.where('id', '<', q.before);
    return (await sel.execute()) as unknown as AuditRecord[];
  }
}
