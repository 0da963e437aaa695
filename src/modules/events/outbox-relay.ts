/**
 * Moves outbox rows to the event transport. Rows are claimed with FOR UPDATE SKIP LOCKED so
 * several instances share the work; a row is marked published only after the transport
 * acknowledged it, so a crash in between re-publishes it with the same id (dropped as a
 * duplicate by JetStream, de-duplicated by consumers). While the transport is down the relay
 * backs off exponentially, forever; nothing is lost because the rows stay in PostgreSQL.
 */
import type { Logger } from 'pino';
import type { Database } from '../../adapters/db/database.js';
import type { EventPublisher } from './events.js';
import type { OutboxRepository } from './outbox.repository.js';

export interface OutboxRelayOptions {
  readonly batchSize: number;
  /** Poll interval when idle; a NOTIFY from PostgreSQL wakes the relay sooner. */
  readonly pollMs: number;
  readonly minBackoffMs?: number;
  readonly maxBackoffMs: number;
}

export interface RelayStatus {
  readonly running: boolean;
  readonly consecutiveFailures: number;
  readonly lastError: string | undefined;
  readonly published: number;
}

export class OutboxRelay {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private lastError: string | undefined;
  private published = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly db: Database,
    private readonly outbox: OutboxRepository,
    private readonly publisher: EventPublisher,
    private readonly logger: Logger,
    private readonly options: OutboxRelayOptions,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Called when PostgreSQL notifies that new rows were committed. */
  notify(): void {
    this.wake?.();
  }

  status(): RelayStatus {
    return { running: this.running, consecutiveFailures: this.failures, lastError: this.lastError, published: this.published };
  }

  /** Publishes everything pending now (used at shutdown); gives up after `timeoutMs`. */
  async flush(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let backoff = this.options.minBackoffMs ?? 100;
    while (Date.now() < deadline) {
      try {
        const n = await this.publishBatch();
        if (n === 0) return true;
      } catch {
        await sleep(Math.min(backoff, Math.max(0, deadline - Date.now())));
        backoff = Math.min(backoff * 2, this.options.maxBackoffMs);
      }
    }
    return false;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.loop = undefined;
  }

  /** Resolves when the relay has found nothing to publish (tests and shutdown). */
  whenIdle(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.wake?.();
    });
  }

  private async run(): Promise<void> {
    while (this.running) {
      let delay = this.options.pollMs;
      try {
        const n = await this.publishBatch();
        if (this.failures > 0) this.logger.info({ afterFailures: this.failures }, 'outbox relay recovered');
        this.failures = 0;
        this.lastError = undefined;
        if (n >= this.options.batchSize) continue; // more waiting: no pause
        if (n === 0) this.resolveIdle();
      } catch (err) {
        this.failures += 1;
        this.lastError = (err as Error).message;
        const base = (this.options.minBackoffMs ?? 100) * 2 ** Math.min(this.failures - 1, 20);
        // Full jitter keeps several instances from retrying in lock-step.
        delay = Math.min(this.options.maxBackoffMs, base) * (0.5 + Math.random() / 2);
        this.logger.warn({ err, failures: this.failures, retryInMs: Math.round(delay) }, 'outbox relay could not publish; will retry');
      }
      if (!this.running) break;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(resolve, delay);
      });
      clearTimeout(this.timer);
      this.wake = undefined;
    }
    this.resolveIdle();
  }

  private resolveIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /**
   * One transaction: claim, publish in order, mark. Stops at the first failure (order matters
   * to consumers), commits what was acknowledged plus the failed attempt, then reports it.
   */
  private async publishBatch(): Promise<number> {
    let failure: Error | undefined;
    const n = await this.db.transaction().execute(async (tx) => {
      const batch = await this.outbox.claimBatch(tx, this.options.batchSize);
      const done: string[] = [];
      for (const event of batch) {
        try {
          await this.publisher.publish(event);
          done.push(event.id);
        } catch (err) {
          failure = err instanceof Error ? err : new Error(String(err));
          await this.outbox.markFailed(tx, event.id, failure.message);
          break;
        }
      }
      await this.outbox.markPublished(tx, done);
      return done.length;
    });
    this.published += n;
    if (failure !== undefined) throw failure;
    return n;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
