import { sql } from 'kysely';
import type { Executor, Tx } from '../../adapters/db/database.js';

export type DeliveryStatus = 'pending' | 'delivering' | 'succeeded' | 'failed';

export interface WebhookRow {
  id: string;
  departmentId: string;
  url: string;
  events: string[];
  description: string | null;
  secretCiphertext: string;
  secretKeyId: string;
  secretHint: string;
  active: boolean;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface DeliveryRow {
  id: string;
  webhookId: string;
  departmentId: string;
  eventId: string;
  eventType: string;
  body: unknown;
  status: DeliveryStatus;
  attempts: number;
  maxAttempts: number;
  nextAttemptAt: Date;
  lastResponseCode: number | null;
  lastLatencyMs: number | null;
  lastError: string | null;
  redeliveries: number;
  createdAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
}

export interface AttemptRow {
  attempt: number;
  at: Date;
  responseCode: number | null;
  latencyMs: number;
  error: string | null;
  responseBody: string | null;
}

/** A claimed delivery with what is needed to send it. */
export interface ClaimedDelivery extends DeliveryRow {
  url: string;
  secretCiphertext: string;
  secretKeyId: string;
  webhookActive: boolean;
}

const W = ['id', 'departmentId', 'url', 'events', 'description', 'secretCiphertext', 'secretKeyId', 'secretHint', 'active', 'createdBy', 'createdAt', 'updatedAt'] as const;
const D = ['id', 'webhookId', 'departmentId', 'eventId', 'eventType', 'body', 'status', 'attempts', 'maxAttempts', 'nextAttemptAt',
  'lastResponseCode', 'lastLatencyMs', 'lastError', 'redeliveries', 'createdAt', 'updatedAt', 'completedAt'] as const;

export class WebhooksRepository {
  async insert(db: Executor, w: Omit<WebhookRow, 'createdAt' | 'updatedAt' | 'active'>): Promise<WebhookRow> {
    return (await db.insertInto('webhooks').values(w).returning(W).executeTakeFirstOrThrow());
  }

  async findById(db: Executor, id: string): Promise<WebhookRow | undefined> {
    return (await db.selectFrom('webhooks').select(W).where('id', '=', id).executeTakeFirst());
  }

  async lockById(tx: Tx, id: string): Promise<WebhookRow | undefined> {
    return (await tx.selectFrom('webhooks').select(W).where('id', '=', id).forUpdate().executeTakeFirst());
  }

  /** Keyset by (createdAt, id). */
  async list(db: Executor, f: { departmentId?: string; active?: boolean; after?: { createdAt: Date; id: string }; limit: number }): Promise<WebhookRow[]> {
    let q = db.selectFrom('webhooks').select(W).orderBy('createdAt').orderBy('id').limit(f.limit);
    if (f.departmentId) q = q.where('departmentId', '=', f.departmentId);
    if (f.active !== undefined) q = q.where('active', '=', f.active);
    if (f.after) {
      const a = f.after;
      q = q.where((eb) => eb.or([eb('createdAt', '>', a.createdAt), eb.and([eb('createdAt', '=', a.createdAt), eb('id', '>', a.id)])]));
    }
    return (await q.execute());
  }

  async update(db: Executor, id: string, patch: Partial<Pick<WebhookRow, 'url' | 'events' | 'description' | 'active' | 'secretCiphertext' | 'secretKeyId' | 'secretHint'>>, now: Date): Promise<WebhookRow | undefined> {
    return (await db.updateTable('webhooks').set({ ...patch, updatedAt: now }).where('id', '=', id).returning(W).executeTakeFirst());
  }

  async delete(db: Executor, id: string): Promise<boolean> {
    const r = await db.deleteFrom('webhooks').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async activeForDepartment(db: Executor, departmentId: string): Promise<WebhookRow[]> {
    return (await db.selectFrom('webhooks').select(W).where('departmentId', '=', departmentId).where('active', '=', true).execute());
  }

  /** Idempotent: a (webhook, event) pair is enqueued once. Returns how many rows were new. */
  async enqueue(tx: Tx, rows: readonly { id: string; webhookId: string; departmentId: string; eventId: string; eventType: string; body: unknown; maxAttempts: number; at: Date }[]): Promise<number> {
    if (rows.length === 0) return 0;
    const res = await tx.insertInto('webhookDeliveries')
      .values(rows.map((r) => ({
        id: r.id, webhookId: r.webhookId, departmentId: r.departmentId, eventId: r.eventId, eventType: r.eventType,
        body: JSON.stringify(r.body), maxAttempts: r.maxAttempts, nextAttemptAt: r.at, createdAt: r.at, updatedAt: r.at,
      })))
      .onConflict((oc) => oc.columns(['webhookId', 'eventId']).doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0);
  }

  /**
   * Claims due deliveries (pending and due, or claimed by a deliverer whose lease ran out) for
   * this deliverer; others skip the locked rows. The attempt is counted at claim time, so a
   * crash mid-request still uses up an attempt and cannot loop forever.
   */
  async claimDue(db: Executor, now: Date, leaseUntil: Date, limit: number): Promise<ClaimedDelivery[]> {
    const res = await sql<ClaimedDelivery>`
      UPDATE webhook_deliveries d
         SET status = 'delivering', attempts = d.attempts + 1, locked_until = ${leaseUntil}, updated_at = ${now}
        FROM (SELECT id FROM webhook_deliveries
               WHERE status IN ('pending', 'delivering') AND next_attempt_at <= ${now}
                 AND (status = 'pending' OR locked_until <= ${now})
               ORDER BY next_attempt_at
               LIMIT ${limit}
               FOR UPDATE SKIP LOCKED) due,
             webhooks w
       WHERE d.id = due.id AND w.id = d.webhook_id
      RETURNING d.id, d.webhook_id, d.department_id, d.event_id, d.event_type, d.body, d.status, d.attempts, d.max_attempts,
                d.next_attempt_at, d.last_response_code, d.last_latency_ms, d.last_error, d.redeliveries, d.created_at,
                d.updated_at, d.completed_at, w.url, w.secret_ciphertext, w.secret_key_id, w.active AS webhook_active`.execute(db);
    return res.rows;
  }

  /** Stores one attempt and its outcome; a no-op (false) if the claim was lost meanwhile. */
  async recordAttempt(tx: Tx, deliveryId: string, attempt: number, a: { at: Date; responseCode: number | null; latencyMs: number; error: string | null; responseBody: string | null },
    outcome: { status: 'succeeded' | 'failed' | 'pending'; nextAttemptAt: Date | null }): Promise<boolean> {
    const updated = await tx.updateTable('webhookDeliveries')
      .set({
        status: outcome.status,
        lockedUntil: null,
        lastResponseCode: a.responseCode,
        lastLatencyMs: a.latencyMs,
        lastError: a.error,
        updatedAt: a.at,
        completedAt: outcome.status === 'pending' ? null : a.at,
        ...(outcome.nextAttemptAt ? { nextAttemptAt: outcome.nextAttemptAt } : {}),
      })
      .where('id', '=', deliveryId).where('status', '=', 'delivering').where('attempts', '=', attempt)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) return false;
    await tx.insertInto('webhookDeliveryAttempts').values({ deliveryId, attempt, ...a }).onConflict((oc) => oc.columns(['deliveryId', 'attempt']).doNothing()).execute();
    return true;
  }

  async findDelivery(db: Executor, webhookId: string, deliveryId: string): Promise<DeliveryRow | undefined> {
    return (await db.selectFrom('webhookDeliveries').select(D).where('webhookId', '=', webhookId).where('id', '=', deliveryId).executeTakeFirst()) as DeliveryRow | undefined;
  }

  async listDeliveries(db: Executor, webhookId: string, f: { status?: DeliveryStatus; after?: { createdAt: Date; id: string }; limit: number }): Promise<DeliveryRow[]> {
    let q = db.selectFrom('webhookDeliveries').select(D).where('webhookId', '=', webhookId).orderBy('createdAt', 'desc').orderBy('id', 'desc').limit(f.limit);
    if (f.status) q = q.where('status', '=', f.status);
    if (f.after) {
      const a = f.after;
      q = q.where((eb) => eb.or([eb('createdAt', '<', a.createdAt), eb.and([eb('createdAt', '=', a.createdAt), eb('id', '<', a.id)])]));
    }
    return (await q.execute()) as DeliveryRow[];
  }

  async attempts(db: Executor, deliveryId: string): Promise<AttemptRow[]> {
    return db.selectFrom('webhookDeliveryAttempts').select(['attempt', 'at', 'responseCode', 'latencyMs', 'error', 'responseBody'])
      .where('deliveryId', '=', deliveryId).orderBy('attempt').execute();
  }

  /** A finished delivery goes back to pending with `extraAttempts` more; undefined if it is still in flight. */
  async redeliver(db: Executor, webhookId: string, deliveryId: string, extraAttempts: number, now: Date): Promise<DeliveryRow | undefined> {
    return (await db.updateTable('webhookDeliveries')
      .set((eb) => ({
        status: 'pending', nextAttemptAt: now, lockedUntil: null, completedAt: null, updatedAt: now,
        maxAttempts: eb('attempts', '+', extraAttempts), redeliveries: eb('redeliveries', '+', 1),
      }))
      .where('webhookId', '=', webhookId).where('id', '=', deliveryId).where('status', 'in', ['succeeded', 'failed'])
      .returning(D).executeTakeFirst()) as DeliveryRow | undefined;
  }

  /** Earliest time a delivery becomes due (to sleep until then), or undefined when none waits. */
  async nextDueAt(db: Executor): Promise<Date | undefined> {
    const res = await sql<{ at: Date | null }>`
      SELECT min(CASE WHEN status = 'pending' THEN next_attempt_at ELSE locked_until END) AS at
        FROM webhook_deliveries WHERE status IN ('pending', 'delivering')`.execute(db);
    const at = res.rows[0]?.at;
    return at ? new Date(at) : undefined;
  }

  /** Finished deliveries older than the retention, in bounded batches. */
  async pruneCompleted(db: Executor, before: Date, limit = 5000): Promise<number> {
    const res = await sql`
      WITH doomed AS (SELECT id FROM webhook_deliveries WHERE completed_at < ${before} ORDER BY completed_at LIMIT ${limit})
      DELETE FROM webhook_deliveries d USING doomed WHERE d.id = doomed.id`.execute(db);
    return Number(res.numAffectedRows ?? 0);
  }
}
