import type { Database } from '../../adapters/db/database.js';
import type { Principal } from '../../domain/auth.js';
import type { AuditEntry, AuditQuery, AuditRecord, AuditRepository } from './audit.repository.js';

/** Where a request came from, for the audit trail. */
export interface RequestOrigin {
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly requestId: string | null;
}

export class AuditService {
  constructor(private readonly db: Database, private readonly repo: AuditRepository) {}

  record(entry: Omit<AuditEntry, 'actorType' | 'actorId' | 'actorName' | 'actorRole' | 'ip' | 'userAgent' | 'requestId'>, actor: Principal | null, origin: RequestOrigin): Promise<void> {
    return this.repo.insert(this.db, {
      ...entry,
      actorType: actor ? actor.kind : 'anonymous',
      actorId: actor?.id ?? null,
      actorName: actor?.name ?? null,
      actorRole: actor?.role ?? null,
      ip: origin.ip,
      userAgent: origin.userAgent?.slice(0, 300) ?? null,
      requestId: origin.requestId,
    });
  }

  list(q: AuditQuery): Promise<AuditRecord[]> {
    return this.repo.list(this.db, q);
  }
}
