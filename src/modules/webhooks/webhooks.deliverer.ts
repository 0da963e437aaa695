/**
 * The delivery loop of one instance: keeps up to `concurrency` requests in flight, claiming due
 * deliveries as slots free up (FOR UPDATE SKIP LOCKED, so instances share the work), sleeps
 * until the next one is due or a NOTIFY wakes it, and prunes the old log now and then.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../domain/clock.js';
import type { WebhooksService } from './webhooks.service.js';

export interface DelivererOptions {
  readonly concurrency: number;
  /** Longest sleep when nothing is due. */
  readonly pollMs: number;
  readonly retentionMs: number;
  readonly pruneEveryMs: number;
}

export class WebhookDeliverer {
  private running = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private woken = false;
  private readonly inFlight = new Set<Promise<void>>();
  private failures = 0;
  private lastPrune = 0;

  constructor(private readonly service: WebhooksService, private readonly clock: Clock, private readonly logger: Logger, private readonly opts: DelivererOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** New or rescheduled work was committed (NOTIFY, or this instance enqueued it). */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /** Stops claiming and waits for the requests in flight to finish and be logged. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
  }

  get status(): { running: boolean; inFlight: number; consecutiveFailures: number } {
    return { running: this.running, inFlight: this.inFlight.size, consecutiveFailures: this.failures };
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.woken = false;
      let delay = this.opts.pollMs;
      try {
        const free = this.opts.concurrency - this.inFlight.size;
        if (free > 0) {
          const claimed = await this.service.claimDue(free);
          for (const d of claimed) this.track(this.service.deliver(d));
          if (claimed.length === free) continue; // maybe more waiting: claim again as slots free
          const next = await this.service.nextDueAt();
          if (next) delay = Math.max(0, Math.min(delay, next.getTime() - this.clock.now().getTime()));
        }
        this.failures = 0;
        await this.pruneNow();
      } catch (err) {
        this.failures += 1;
        delay = Math.min(this.opts.pollMs * 2 ** Math.min(this.failures, 6), 60_000);
        this.logger.warn({ err, failures: this.failures }, 'webhook deliverer could not claim work; will retry');
      }
      if (!this.running || this.woken) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeUp = undefined;
    }
  }

  private track(p: Promise<void>): void {
    const tracked = p
      .catch((err: unknown) => this.logger.error({ err }, 'webhook delivery attempt could not be stored; its lease will expire and it is retried'))
      .finally(() => {
        this.inFlight.delete(tracked);
        this.wake(); // a slot is free
      });
    this.inFlight.add(tracked);
  }

  private async pruneNow(): Promise<void> {
    const now = Date.now();
    if (now - this.lastPrune < this.opts.pruneEveryMs) return;
    this.lastPrune = now;
    const n = await this.service.prune(this.opts.retentionMs);
    if (n > 0) this.logger.info({ deleted: n }, 'pruned old webhook deliveries');
  }
}
