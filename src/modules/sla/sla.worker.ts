/**
 * Adapter around graphile-worker: the durable timers are its jobs (rows in PostgreSQL), so they
 * survive restarts, and its row locking hands each job to exactly one worker of any instance.
 * The service never sees graphile-worker; it gets `TimerHandler`s called with the job payload.
 */
import { Logger as WorkerLogger, run, runMigrations, type LogLevel, type Runner, type Task } from 'graphile-worker';
import pg from 'pg';
import type { Logger } from 'pino';
import type { TimerKind } from './sla.repository.js';

/** graphile-worker task identifiers of the two timers. */
export const TIMER_TASKS: Readonly<Record<TimerKind, string>> = { warning: 'sla_warning', overdue: 'sla_overdue' };

export interface TimerJob {
  readonly id: string;
  /** 1 on the first run. */
  readonly attempt: number;
}

export type TimerHandler = (payload: unknown, job: TimerJob) => Promise<void>;

export interface SlaWorkerOptions {
  readonly connectionString: string;
  readonly concurrency: number;
  readonly pollIntervalMs: number;
  readonly logger: Logger;
}

// Any fixed 64-bit number; serialises graphile-worker's schema installation across instances
// that start together on a fresh database (its own migration races on CREATE SCHEMA).
const INSTALL_LOCK_KEY = 7_312_012_346;

function workerLogger(logger: Logger): WorkerLogger {
  return new WorkerLogger((scope) => (level: LogLevel, message: string, meta?: unknown) => {
    const fields = { scope, ...(meta && typeof meta === 'object' ? { meta } : {}) };
    const name = String(level); // a const enum of 'error' | 'warning' | 'info' | 'debug'
    if (name === 'error') logger.error(fields, message);
    else if (name === 'warning') logger.warn(fields, message);
    else logger.debug(fields, message); // worker chatter (connected, job completed) stays at debug
  });
}

/** Creates or upgrades the graphile_worker schema; safe to call from several instances at once. */
export async function installTimerSchema(connectionString: string, logger: Logger): Promise<void> {
  const client = new pg.Client({ connectionString, application_name: 'hotline-sla-install' });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [INSTALL_LOCK_KEY]);
    try {
      await runMigrations({ connectionString, maxPoolSize: 1, logger: workerLogger(logger) });
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [INSTALL_LOCK_KEY]);
    }
  } finally {
    await client.end();
  }
}

export class SlaTimerWorker {
  private runner: Runner | undefined;

  constructor(private readonly opts: SlaWorkerOptions) {}

  async start(handlers: Readonly<Record<TimerKind, TimerHandler>>): Promise<void> {
    if (this.runner) return;
    const task = (handler: TimerHandler): Task => async (payload, helpers) => {
      await handler(payload, { id: String(helpers.job.id), attempt: helpers.job.attempts });
    };
    this.runner = await run({
      connectionString: this.opts.connectionString,
      // Each running job holds a connection; a couple more serve polling and LISTEN.
      maxPoolSize: this.opts.concurrency + 2,
      concurrency: this.opts.concurrency,
      pollInterval: this.opts.pollIntervalMs,
      noHandleSignals: true, // the server owns the signals and calls stop()
      logger: workerLogger(this.opts.logger),
      taskList: { [TIMER_TASKS.warning]: task(handlers.warning), [TIMER_TASKS.overdue]: task(handlers.overdue) },
    });
    this.runner.promise.catch((err: unknown) => this.opts.logger.error({ err }, 'SLA timer worker stopped with an error'));
  }

  /** Waits for running jobs to finish; jobs not yet due stay in the database. */
  async stop(): Promise<void> {
    const runner = this.runner;
    this.runner = undefined;
    await runner?.stop();
  }

  get running(): boolean {
    return this.runner !== undefined;
  }
}
