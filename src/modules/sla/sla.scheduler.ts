/**
 * Turns running deadlines into timer jobs. A transition only records its ticket's deadline
 * (`sla_ticket_timers`, pending) in its own transaction; this loop adds the graphile-worker jobs
 * for everything pending in batches. Adding jobs one by one inside every intake cost two
 * round trips, and each job's NOTIFY woke every idle worker for a poll that found nothing.
 * A crash between commit and batch loses nothing: the row stays pending and any instance's
 * scheduler picks it up (rows are claimed with SKIP LOCKED).
 */
import type { Logger } from 'pino';
import type { Database } from '../../adapters/db/database.js';
import type { Clock } from '../../domain/clock.js';
import type { PendingTimerRow, SlaRepository, TimerKind } from './sla.repository.js';

export const timerKey = (ticketId: string, kind: TimerKind): string => `sla:${ticketId}:${kind}`;

export interface SchedulerOptions {
  readonly maxAttempts: number;
  /** Rows per batch transaction. */
  readonly batchSize: number;
  /** How soon after a transition wrote a deadline its jobs are added (transactions commit meanwhile). */
  readonly delayMs: number;
  /** Poll when idle: other instances' leftovers, rows whose transaction committed after the batch ran. */
  readonly idleMs: number;
}

/** The jobs of pending timers: the same payload and due moments as when transitions added them one by one. */
export function jobsFor(rows: readonly PendingTimerRow[], now: Date): { task: string; key: string; payload: unknown; delayMs: number }[] {
  return rows.flatMap((r) => {
    const payload = { ticketId: r.ticketId, stage: r.stage, dueAt: r.dueAt.toISOString(), warnAt: r.warnAt.toISOString() };
    return [
      ...(r.warningJob ? [{ task: 'sla_warning', key: timerKey(r.ticketId, 'warning'), payload, delayMs: r.warnAt.getTime() - now.getTime() }] : []),
      // Overdue is strictly after the deadline (slaStatus).
      ...(r.overdueJob ? [{ task: 'sla_overdue', key: timerKey(r.ticketId, 'overdue'), payload, delayMs: r.dueAt.getTime() + 1 - now.getTime() }] : []),
    ];
  });
}

export class TimerScheduler {
  private running = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private soon: NodeJS.Timeout | undefined;
  private idle: NodeJS.Timeout | undefined;
  /** A wake-up that arrived while a batch was running: run again instead of sleeping. */
  private requested = false;

  constructor(
    private readonly db: Database,
    private readonly repo: SlaRepository,
    private readonly clock: Clock,
    private readonly opts: SchedulerOptions,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops the loop after adding the jobs of what is pending (another instance would, later). */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wakeUp?.();
    await this.loop;
    this.loop = undefined;
    await this.flush().catch((err: unknown) => this.logger.warn({ err }, 'SLA timers left pending at shutdown; the next scheduler adds their jobs'));
  }

  /** A transition wrote a deadline: schedule a batch shortly (many transitions share it). */
  wake(): void {
    if (!this.running || this.soon) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      this.requested = true;
      this.wakeUp?.();
    }, this.opts.delayMs);
    this.soon.unref();
  }

  /** Adds the jobs of every timer pending now; returns how many timers it scheduled. */
  async flush(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.batch();
      total += n;
      if (n < this.opts.batchSize) return total;
    }
  }

  private async batch(): Promise<number> {
    return this.db.transaction().execute(async (tx) => {
      const rows = await this.repo.claimPendingTimers(tx, this.opts.batchSize);
      if (rows.length === 0) return 0;
      await this.repo.scheduleJobs(tx, jobsFor(rows, this.clock.now()), this.opts.maxAttempts);
      await this.repo.markScheduled(tx, rows.map((r) => r.ticketId));
      return rows.length;
    });
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      this.requested = false;
      try {
        await this.flush();
        failures = 0;
      } catch (err) {
        failures += 1;
        this.logger.warn({ err, failures }, 'SLA timer scheduling failed; will retry');
      }
      if (!this.running) break;
      if (this.requested && failures === 0) continue;
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
        this.idle = setTimeout(resolve, failures > 0 ? Math.min(30_000, this.opts.idleMs * 2 ** failures) : this.opts.idleMs);
      });
      clearTimeout(this.idle);
      this.wakeUp = undefined;
    }
    clearTimeout(this.soon);
    this.soon = undefined;
  }
}
