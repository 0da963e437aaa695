/**
 * Department webhooks: registration (URL, event filter, a signing secret shown once), the
 * enqueueing of one delivery per matching webhook for each department event, and delivery with
 * signatures, retries and a log. A department handler sees and manages only its own webhooks;
 * operators and admins act on a department's behalf.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Database, Tx } from '../../adapters/db/database.js';
import { isDepartmentScoped, requireRole, type Principal } from '../../domain/auth.js';
import type { Clock } from '../../domain/clock.js';
import { ConflictError, NotFoundError, ValidationError } from '../../domain/errors.js';
import type { EventEnvelope } from '../events/events.js';
import { parseRetryAfter, retryDelayMs } from './webhooks.backoff.js';
import { generateSecret, SecretUnavailableError, secretHint, signature, type SecretBox } from './webhooks.crypto.js';
import { departmentOfSubject, isValidEventPattern, matchesAny } from './webhooks.filters.js';
import type { AttemptRow, ClaimedDelivery, DeliveryRow, DeliveryStatus, WebhookRow, WebhooksRepository } from './webhooks.repository.js';

const MANAGERS = ['dept_handler', 'operator', 'admin'] as const;
const READERS = ['dept_handler', 'supervisor', 'operator', 'admin'] as const;
const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);
const ERROR_MAX = 1000;

/** The HTTP port the deliverer sends through; throws on network errors and timeouts. */
export interface WebhookSender {
  send(req: { url: string; headers: Readonly<Record<string, string>>; body: string; timeoutMs: number }): Promise<{ status: number; body: string; retryAfter: string | null }>;
}

export interface WebhooksSettings {
  /** Plain http to 127.0.0.1/::1/localhost (tests, local receivers); https otherwise. */
  readonly allowLoopbackHttp: boolean;
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly timeoutMs: number;
  readonly subjectPrefix: string;
}

export interface WebhooksDeps {
  readonly db: Database;
  readonly repo: WebhooksRepository;
  readonly box: SecretBox;
  readonly sender: WebhookSender;
  readonly clock: Clock;
  readonly departments: { activeIds(ids: readonly string[]): Promise<Set<string>> };
  readonly settings: WebhooksSettings;
  readonly logger: Logger;
  readonly random?: () => number;
}

export interface PublicWebhook {
  id: string; departmentId: string; url: string; events: string[]; description: string | null;
  secretHint: string; active: boolean; createdAt: string; updatedAt: string;
}

export interface PublicDelivery {
  id: string; webhookId: string; eventId: string; eventType: string; status: DeliveryStatus; attempts: number; maxAttempts: number;
  nextAttemptAt: string | null; responseCode: number | null; latencyMs: number | null; error: string | null; redeliveries: number;
  createdAt: string; completedAt: string | null;
}

export interface PublicAttempt { attempt: number; at: string; responseCode: number | null; latencyMs: number; error: string | null; responseBody: string | null }

export class WebhooksService {
  constructor(private readonly deps: WebhooksDeps) {}

  async create(input: { departmentId?: string; url: string; events: readonly string[]; description?: string }, actor: Principal): Promise<{ webhook: PublicWebhook; secret: string }> {
    requireRole(actor, MANAGERS);
    const departmentId = this.targetDepartment(input.departmentId, actor);
    const url = this.checkUrl(input.url);
    const events = checkEvents(input.events);
    if (!(await this.deps.departments.activeIds([departmentId])).has(departmentId)) {
      throw new NotFoundError('Department', departmentId, 'department_not_found');
    }
    const id = randomUUID();
    const secret = generateSecret();
    const row = await this.deps.repo.insert(this.deps.db, {
      id, departmentId, url, events, description: input.description ?? null,
      secretCiphertext: this.deps.box.seal(secret, id), secretKeyId: this.deps.box.keyId, secretHint: secretHint(secret), createdBy: actor.id,
    });
    return { webhook: toPublic(row), secret };
  }

  async list(f: { departmentId?: string; active?: boolean; after?: string; limit: number }, actor: Principal): Promise<{ items: PublicWebhook[]; next: string | null }> {
    requireRole(actor, READERS);
    // A department handler lists its own department's webhooks, whatever filter it sends.
    const departmentId = isDepartmentScoped(actor) ? actor.departmentId! : f.departmentId;
    const rows = await this.deps.repo.list(this.deps.db, {
      ...(departmentId ? { departmentId } : {}), ...(f.active !== undefined ? { active: f.active } : {}),
      ...(f.after ? { after: decodeCursor(f.after) } : {}), limit: f.limit,
    });
    const last = rows.at(-1);
    return { items: rows.map(toPublic), next: rows.length === f.limit && last ? encodeCursor(last) : null };
  }

  async get(id: string, actor: Principal): Promise<PublicWebhook> {
    requireRole(actor, READERS);
    return toPublic(await this.visible(id, actor));
  }

  async update(id: string, patch: { url?: string; events?: readonly string[]; description?: string | null; active?: boolean }, actor: Principal): Promise<PublicWebhook> {
    requireRole(actor, MANAGERS);
    await this.visible(id, actor);
    const row = await this.deps.repo.update(this.deps.db, id, {
      ...(patch.url !== undefined ? { url: this.checkUrl(patch.url) } : {}),
      ...(patch.events !== undefined ? { events: checkEvents(patch.events) } : {}),
      ...(patch.description !== undefined ? { description: patch.description } : {}),
      ...(patch.active !== undefined ? { active: patch.active } : {}),
    }, this.deps.clock.now());
    if (!row) throw notFound(id);
    return toPublic(row);
  }

  /** Deletes the webhook with its delivery log; pending deliveries are dropped with it. */
  async remove(id: string, actor: Principal): Promise<void> {
    requireRole(actor, MANAGERS);
    await this.visible(id, actor);
    if (!(await this.deps.repo.delete(this.deps.db, id))) throw notFound(id);
  }

  /** A new secret, shown once; deliveries signed from now on use it. */
  async rotateSecret(id: string, actor: Principal): Promise<{ webhook: PublicWebhook; secret: string }> {
    requireRole(actor, MANAGERS);
    await this.visible(id, actor);
    const secret = generateSecret();
    const row = await this.deps.repo.update(this.deps.db, id, {
      secretCiphertext: this.deps.box.seal(secret, id), secretKeyId: this.deps.box.keyId, secretHint: secretHint(secret),
    }, this.deps.clock.now());
    if (!row) throw notFound(id);
    return { webhook: toPublic(row), secret };
  }

  async listDeliveries(webhookId: string, f: { status?: DeliveryStatus; after?: string; limit: number }, actor: Principal): Promise<{ items: PublicDelivery[]; next: string | null }> {
    requireRole(actor, READERS);
    await this.visible(webhookId, actor);
    const rows = await this.deps.repo.listDeliveries(this.deps.db, webhookId, {
      ...(f.status ? { status: f.status } : {}), ...(f.after ? { after: decodeCursor(f.after) } : {}), limit: f.limit,
    });
    const last = rows.at(-1);
    return { items: rows.map(toDelivery), next: rows.length === f.limit && last ? encodeCursor(last) : null };
  }

  async getDelivery(webhookId: string, deliveryId: string, actor: Principal): Promise<PublicDelivery & { body: unknown; attemptLog: PublicAttempt[] }> {
    requireRole(actor, READERS);
    await this.visible(webhookId, actor);
    const row = await this.deps.repo.findDelivery(this.deps.db, webhookId, deliveryId);
    if (!row) throw new NotFoundError('Delivery', deliveryId, 'delivery_not_found');
    return { ...toDelivery(row), body: row.body, attemptLog: (await this.deps.repo.attempts(this.deps.db, row.id)).map(toAttempt) };
  }

  /** Sends a finished (succeeded or failed) delivery again, with a fresh attempt budget. */
  async redeliver(webhookId: string, deliveryId: string, actor: Principal): Promise<PublicDelivery> {
    requireRole(actor, MANAGERS);
    const webhook = await this.visible(webhookId, actor);
    if (!webhook.active) throw new ConflictError('The webhook is deactivated; activate it first', 'webhook_inactive');
    const row = await this.deps.repo.redeliver(this.deps.db, webhookId, deliveryId, this.deps.settings.maxAttempts, this.deps.clock.now());
    if (row) return toDelivery(row);
    if (!(await this.deps.repo.findDelivery(this.deps.db, webhookId, deliveryId))) throw new NotFoundError('Delivery', deliveryId, 'delivery_not_found');
    throw new ConflictError('The delivery is still pending or being delivered', 'delivery_in_progress');
  }

  /**
   * For one consumed event (inside the consumer's transaction): a delivery per active webhook
   * of the department the subject is addressed to whose filter matches. Other subjects are
   * ignored, so a department only ever receives events published for it.
   */
  async enqueueForEvent(tx: Tx, event: EventEnvelope): Promise<number> {
    const departmentId = departmentOfSubject(event.subject, this.deps.settings.subjectPrefix);
    if (!departmentId) return 0;
    const hooks = (await this.deps.repo.activeForDepartment(tx, departmentId)).filter((w) => matchesAny(w.events, event.type));
    const at = this.deps.clock.now();
    return this.deps.repo.enqueue(tx, hooks.map((w) => {
      const id = randomUUID();
      return {
        id, webhookId: w.id, departmentId, eventId: event.id, eventType: event.type, maxAttempts: this.deps.settings.maxAttempts, at,
        body: { id, event: event.type, eventId: event.id, occurredAt: event.occurredAt, departmentId, data: event.payload },
      };
    }));
  }

  /** Claims up to `limit` due deliveries for this instance (see `deliver`). */
  async claimDue(limit: number): Promise<ClaimedDelivery[]> {
    const now = this.deps.clock.now();
    // The lease outlives the request timeout, so a live deliverer never loses its claim.
    const lease = new Date(now.getTime() + this.deps.settings.timeoutMs + 30_000);
    return this.deps.repo.claimDue(this.deps.db, now, lease, limit);
  }

  async nextDueAt(): Promise<Date | undefined> {
    return this.deps.repo.nextDueAt(this.deps.db);
  }

  async prune(retentionMs: number): Promise<number> {
    return this.deps.repo.pruneCompleted(this.deps.db, new Date(this.deps.clock.now().getTime() - retentionMs));
  }

  /** One attempt of a claimed delivery: sign, send, log, and schedule a retry or finish. */
  async deliver(d: ClaimedDelivery): Promise<void> {
    const started = this.deps.clock.now();
    const t0 = performance.now();
    let responseCode: number | null = null;
    let responseBody: string | null = null;
    let error: string | null = null;
    let retryAfter: string | null = null;
    let final = false; // failures that no retry can fix
    if (!d.webhookActive) {
      error = 'the webhook is deactivated';
      final = true;
    } else if (d.attempts > d.maxAttempts) {
      error = 'attempt limit reached';
      final = true;
    } else {
      try {
        const secret = this.deps.box.open(d.secretCiphertext, d.secretKeyId, d.webhookId);
        const body = JSON.stringify(d.body);
        const timestamp = Math.floor(started.getTime() / 1000);
        const res = await this.deps.sender.send({
          url: d.url, body, timeoutMs: this.deps.settings.timeoutMs,
          headers: {
            'content-type': 'application/json', 'user-agent': 'hotline-12345-webhooks/1',
            'x-hotline-event': d.eventType, 'x-hotline-delivery': d.id, 'x-hotline-timestamp': String(timestamp),
            'x-hotline-signature': signature(secret, timestamp, body),
          },
        });
        responseCode = res.status;
        responseBody = res.body.slice(0, 2000);
        retryAfter = res.retryAfter;
        if (res.status < 200 || res.status >= 300) error = res.status >= 300 && res.status < 400 ? `HTTP ${res.status} (redirects are not followed)` : `HTTP ${res.status}`;
      } catch (err) {
        error = (err instanceof Error ? err.message : String(err)).slice(0, ERROR_MAX);
        if (err instanceof SecretUnavailableError) final = true;
      }
    }
    const latencyMs = Math.round(performance.now() - t0);
    const at = this.deps.clock.now();
    const outcome = error === null
      ? { status: 'succeeded' as const, nextAttemptAt: null }
      : final || d.attempts >= d.maxAttempts
        ? { status: 'failed' as const, nextAttemptAt: null }
        : { status: 'pending' as const, nextAttemptAt: new Date(at.getTime() + this.backoff(d.attempts, retryAfter, at)) };
    const recorded = await this.deps.db.transaction().execute((tx) =>
      this.deps.repo.recordAttempt(tx, d.id, d.attempts, { at, responseCode, latencyMs, error, responseBody }, outcome));
    if (!recorded) this.deps.logger.warn({ deliveryId: d.id, attempt: d.attempts }, 'webhook delivery claim was lost before its result was stored');
    else if (outcome.status === 'failed') this.deps.logger.warn({ deliveryId: d.id, webhookId: d.webhookId, attempts: d.attempts, error }, 'webhook delivery failed for good');
  }

  private backoff(attempt: number, retryAfter: string | null, now: Date): number {
    return retryDelayMs(attempt, this.deps.settings, this.deps.random, parseRetryAfter(retryAfter, now));
  }

  /** The webhook, if the actor may see it; another department's webhook does not exist for them. */
  private async visible(id: string, actor: Principal): Promise<WebhookRow> {
    const row = await this.deps.repo.findById(this.deps.db, id);
    if (!row || (isDepartmentScoped(actor) && row.departmentId !== actor.departmentId)) throw notFound(id);
    return row;
  }

  private targetDepartment(given: string | undefined, actor: Principal): string {
    if (isDepartmentScoped(actor)) {
      if (given && given !== actor.departmentId) throw new NotFoundError('Department', given, 'department_not_found');
      return actor.departmentId!;
    }
    if (!given) throw new ValidationError('Name the department the webhook is for', { field: 'departmentId' }, 'webhook_department_required');
    return given;
  }

  private checkUrl(raw: string): string {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new ValidationError('The webhook URL is not a valid absolute URL', { field: 'url' }, 'webhook_url_invalid');
    }
    if (url.username || url.password) throw new ValidationError('Put no credentials in the webhook URL; verify the signature instead', { field: 'url' }, 'webhook_url_credentials');
    if (url.hash) throw new ValidationError('The webhook URL must not have a fragment', { field: 'url' }, 'webhook_url_invalid');
    const loopbackHttp = url.protocol === 'http:' && this.deps.settings.allowLoopbackHttp && LOOPBACK.has(url.hostname);
    if (url.protocol !== 'https:' && !loopbackHttp) {
      throw new ValidationError('The webhook URL must use https', { field: 'url' }, 'webhook_url_insecure');
    }
    return url.toString();
  }
}

function checkEvents(events: readonly string[]): string[] {
  const unique = [...new Set(events)];
  const bad = unique.filter((p) => !isValidEventPattern(p));
  if (unique.length === 0 || bad.length > 0) {
    throw new ValidationError('Event filters look like ticket.dispatched, ticket.* or ticket.>', { field: 'events', invalid: bad }, 'webhook_events_invalid');
  }
  return unique;
}

function notFound(id: string): NotFoundError {
  return new NotFoundError('Webhook', id, 'webhook_not_found');
}

function encodeCursor(r: { createdAt: Date; id: string }): string {
  return Buffer.from(`${r.createdAt.toISOString()}|${r.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (!id || !/^[0-9a-f-]{36}$/i.test(id) || Number.isNaN(createdAt.getTime())) throw new ValidationError('The cursor is not one this API gave out', { field: 'after' }, 'cursor_invalid');
  return { createdAt, id };
}

function toPublic(r: WebhookRow): PublicWebhook {
  return {
    id: r.id, departmentId: r.departmentId, url: r.url, events: r.events, description: r.description, secretHint: r.secretHint,
    active: r.active, createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString(),
  };
}

function toDelivery(r: DeliveryRow): PublicDelivery {
  const open = r.status === 'pending' || r.status === 'delivering';
  return {
    id: r.id, webhookId: r.webhookId, eventId: r.eventId, eventType: r.eventType, status: r.status, attempts: r.attempts, maxAttempts: r.maxAttempts,
    nextAttemptAt: open ? r.nextAttemptAt.toISOString() : null, responseCode: r.lastResponseCode, latencyMs: r.lastLatencyMs, error: r.lastError,
    redeliveries: r.redeliveries, createdAt: r.createdAt.toISOString(), completedAt: r.completedAt ? r.completedAt.toISOString() : null,
  };
}

function toAttempt(a: AttemptRow): PublicAttempt {
  return { attempt: a.attempt, at: a.at.toISOString(), responseCode: a.responseCode, latencyMs: a.latencyMs, error: a.error, responseBody: a.responseBody };
}
