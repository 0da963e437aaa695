/**
 * The SLA feature module: calendar/policy API, `SlaService` for the tickets module, and the
 * in-process graphile-worker that runs the durable timers. Listed before tickets in
 * src/modules/index.ts so the tickets module can use `exports.sla`; the tickets service is
 * looked up in start(), once every module is built.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { PgListener } from '../../adapters/db/listener.js';
import type { FeatureModule, ModuleContext, ModuleFactory } from '../registry.js';
import type { SlaTicketsPort } from './sla.ports.js';
import { SlaRepository } from './sla.repository.js';
import { slaRoutes } from './sla.routes.js';
import { TimerScheduler } from './sla.scheduler.js';
import { SlaService } from './sla.service.js';
import { ticketsPortOf } from './sla.tickets-adapter.js';
import { installTimerSchema, SlaTimerWorker } from './sla.worker.js';

export interface SlaModuleOptions {
  /** Run the timer worker in this instance (several instances may; each job still fires once). */
  readonly worker?: boolean;
  /** Timers handled at the same time by this instance. */
  readonly concurrency?: number;
  /** How often the worker looks for timers that became due. */
  readonly pollIntervalMs?: number;
  /** How soon after a transition its timer jobs are added (batched with other transitions'). */
  readonly scheduleDelayMs?: number;
  /** Trust the cached calendar/policy this long without a NOTIFY. */
  readonly cacheTtlMs?: number;
  /** Attempts of a timer whose action fails (the worker backs off exponentially between them). */
  readonly maxAttempts?: number;
  /** How to reach the tickets module once all modules are built; tests substitute a fake. */
  readonly resolveTickets?: (ctx: ModuleContext) => SlaTicketsPort | undefined;
}

export function createSlaModule(options: SlaModuleOptions = {}): ModuleFactory {
  return function sla(ctx): FeatureModule {
    const logger = ctx.logger;
    const instance = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    const repo = new SlaRepository();
    const maxAttempts = options.maxAttempts ?? 12;
    const service = new SlaService(ctx.db, repo, ctx.outbox, ctx.clock, { cacheTtlMs: options.cacheTtlMs ?? 30_000, instance, maxAttempts }, logger);
    // Every instance schedules (it only writes jobs); `worker` decides who runs them.
    const scheduler = new TimerScheduler(ctx.db, repo, ctx.clock, {
      maxAttempts, batchSize: 500, delayMs: options.scheduleDelayMs ?? 250, idleMs: options.pollIntervalMs ?? 1000,
    }, logger.child({ component: 'sla-scheduler' }));
    service.attachScheduler(scheduler);
    const listener = new PgListener(ctx.databaseUrl, 'sla_config', () => service.invalidate(), logger.child({ component: 'sla-config-listener' }));
    const worker = new SlaTimerWorker({
      connectionString: ctx.databaseUrl,
      concurrency: options.concurrency ?? 2,
      pollIntervalMs: options.pollIntervalMs ?? 1000,
      logger: logger.child({ component: 'sla-worker' }),
    });
    const resolveTickets = options.resolveTickets ?? ((c: ModuleContext) => ticketsPortOf(c.modules.get('tickets')?.exports?.['tickets']));
    let tickets: SlaTicketsPort | undefined;
    let started = false; // the graphile_worker schema exists from start() on

    return {
      name: 'sla',
      routes: (app) => slaRoutes(app, { sla: service }),
      async start() {
        await installTimerSchema(ctx.databaseUrl, logger);
        started = true;
        await listener.start();
        await service.load();
        tickets = resolveTickets(ctx);
        if (tickets) {
          service.attachTickets(tickets);
          tickets.onTransition((tx, after, at, before) => service.syncTimers(tx, after, { at, fresh: before.status === 'draft' && before.version === 0 }));
        } else {
          logger.warn('no tickets module: SLA timers have no tickets to follow');
        }
        scheduler.start();
        if (options.worker !== false) {
          await worker.start({ warning: (p, job) => service.fire('warning', p, job), overdue: (p, job) => service.fire('overdue', p, job) });
        }
        logger.info({ instance, worker: worker.running }, 'SLA timers started');
      },
      async stop() {
        await scheduler.stop();
        await worker.stop();
        await listener.stop();
      },
      healthChecks: [{
        name: 'sla',
        required: false,
        check: async () => {
          const missingYears = await service.missingYears();
          const failedTimers = started ? await service.failedTimers() : 0;
          const problems = [
            ...(failedTimers > 0 ? [`${failedTimers} timer(s) failed every attempt: see graphile_worker.jobs`] : []),
            ...(missingYears.length > 0 ? [`calendar not loaded for ${missingYears.join(', ')}: holidays unknown there`] : []),
            ...(tickets ? [] : ['tickets module not attached']),
            ...(options.worker !== false && !worker.running ? ['timer worker not running'] : []),
          ];
          return { status: problems.length > 0 ? 'degraded' : 'up', ...(problems.length > 0 ? { detail: problems.join('; ') } : {}), worker: worker.running, instance, missingYears, failedTimers };
        },
      }],
      exports: { sla: service },
    };
  };
}

export const slaModule: ModuleFactory = createSlaModule();
