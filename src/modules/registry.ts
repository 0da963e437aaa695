/**
 * How a feature module plugs into the composition root without editing it: a factory gets the
 * shared dependencies and returns its routes (mounted under /api/v1), background work to start
 * and stop, and health checks. `src/modules/index.ts` lists the factories in start order.
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Database } from '../adapters/db/database.js';
import type { TelephonyPort } from '../adapters/ari/index.js';
import type { Clock } from '../domain/clock.js';
import type { Timers } from '../domain/timers.js';
import type { App } from '../http/types.js';
import type { AuditService } from './audit/audit.service.js';
import type { AuthService } from './auth/auth.service.js';
import type { DepartmentsService } from './departments/departments.service.js';
import type { ConsumedEventsRepository } from './events/consumed.repository.js';
import type { EventSubscriber } from './events/events.js';
import type { OutboxRepository } from './events/outbox.repository.js';
import type { HealthCheck } from './health/health.service.js';

export interface ModuleContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly db: Database;
  /** The database URL, for modules that need their own connections (job runners, LISTEN). */
  readonly databaseUrl: string;
  readonly clock: Clock;
  /** Call-flow timers (tests scale them down). */
  readonly timers: Timers;
  readonly outbox: OutboxRepository;
  readonly consumed: ConsumedEventsRepository;
  readonly subscriber: EventSubscriber;
  readonly audit: AuditService;
  readonly auth: AuthService;
  readonly departments: DepartmentsService;
  /** Names this process among the instances sharing the database (NOTIFY payloads, node ownership). */
  readonly instanceId: string;
  /** The ARI port when ARI_URL is set; undefined = telephony off. */
  readonly telephony: TelephonyPort | undefined;
  /** Services of modules built earlier in the list, by module name. */
  readonly modules: ReadonlyMap<string, FeatureModule>;
}

export interface FeatureModule {
  readonly name: string;
  /** Registered under /api/v1. */
  routes?(app: App): Promise<void>;
  /** Background work (timers, consumers); called after the app is built. */
  start?(): Promise<void>;
  /** Called at shutdown, in reverse order, after HTTP stopped and before the outbox flush. */
  stop?(): Promise<void>;
  readonly healthChecks?: readonly HealthCheck[];
  /** What other modules may use (e.g. the tickets service). */
  readonly exports?: Readonly<Record<string, unknown>>;
}

export type ModuleFactory = (ctx: ModuleContext) => FeatureModule | Promise<FeatureModule>;
