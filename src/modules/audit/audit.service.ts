import type { Database, Executor } from '../../adapters/db/database.js';
import type { Principal } from '../../domain/auth.js';
import type { AuditEntry, AuditQuery, AuditRecord, AuditRepository } from './audit.repository.js';

/** Where a request came from, for the audit trail. */
export interface RequestOrigin {
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly requestId: string | null;
}

type Recorded = Omit<AuditEntry, 'actorType' | 'actorId' | 'actorName' | 'actorRole' | 'ip' | 'userAgent' | 'requestId'>;

/** The outcome of the row written before a change is made; the outcome row of the same request id follows. */
export const ATTEMPT_OUTCOME = 'attempt' as const;

export class AuditService {
  constructor(private readonly db: Database, private readonly repo: AuditRepository) {}

  record(entry: Recorded, actor: Principal | null, origin: RequestOrigin): Promise<void> {
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

  /** Before a write runs: if this fails, the write must not happen. */
  recordAttempt(entry: Omit<Recorded, 'outcome' | 'statusCode'>, actor: Principal | null, origin: RequestOrigin): Promise<void> {
    return this.record({ ...entry, outcome: ATTEMPT_OUTCOME, statusCode: null, details: { ...entry.details, phase: 'attempt' } }, actor, origin);
  }

  /** A change the service makes on its own (bootstrap, timers); pass the change's transaction. */
  recordSystem(db: Executor, entry: Recorded): Promise<void> {
    return this.repo.insert(db, {
      ...entry, actorType: 'system', actorId: null, actorName: 'system', actorRole: null, ip: null, userAgent: null, requestId: null,
    });
  }

  list(q: AuditQuery): Promise<AuditRecord[]> {
    return this.repo.list(this.db, q);
  }
}
