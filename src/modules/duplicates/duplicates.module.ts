/**
 * The duplicates feature module: a consumer of accepted tickets (and of direct answers, which
 * are accepted and closed at once) that stores suggested merges, repeat flags and clusters,
 * and settles suggestions when the tickets module merges; plus the read API under /duplicates.
 */
import { warmUpText, type DuplicateConfig } from '../../domain/text/index.js';
import { idempotent } from '../events/idempotent-consumer.js';
import type { FeatureModule, ModuleFactory } from '../registry.js';
import { DuplicatesRepository } from './duplicates.repository.js';
import { duplicatesRoutes } from './duplicates.routes.js';
import { DEFAULT_DUPLICATES_SETTINGS, DuplicatesService, type ClusterSettings } from './duplicates.service.js';

export interface DuplicatesModuleOptions {
  /** Overrides of DEFAULT_DUPLICATE_CONFIG (src/domain/text): window in days, thresholds, limit. */
  readonly duplicates?: Partial<DuplicateConfig>;
  readonly clusters?: Partial<ClusterSettings>;
}

export const DUPLICATES_CONSUMER = 'duplicates-analysis';

export function createDuplicatesModule(options: DuplicatesModuleOptions = {}): ModuleFactory {
  return function duplicates(ctx): FeatureModule {
    const prefix = ctx.config.nats.subjectPrefix;
    const configured = ctx.config.tickets.duplicates;
    const service = new DuplicatesService({
      db: ctx.db, repo: new DuplicatesRepository(), clock: ctx.clock, outbox: ctx.outbox,
      settings: {
        // DUPLICATE_WINDOW_HOURS and DUPLICATE_MIN_SIMILARITY; options (tests) override them.
        duplicates: { ...DEFAULT_DUPLICATES_SETTINGS.duplicates, windowDays: configured.windowHours / 24, contentOnlyMin: configured.minSimilarity, ...options.duplicates },
        clusters: { ...DEFAULT_DUPLICATES_SETTINGS.clusters, ...options.clusters },
      },
    });
    const handle = idempotent(ctx.db, ctx.consumed, DUPLICATES_CONSUMER, async (event, tx) => {
      const p = event.payload as { ticketId?: unknown; masterTicketId?: unknown; directAnswer?: unknown; by?: unknown };
      if (typeof p.ticketId !== 'string') return;
      if (event.type === 'ticket.accepted' || (event.type === 'ticket.closed' && p.directAnswer === true)) {
        await service.analyze(tx, p.ticketId);
      } else if (event.type === 'ticket.merged' && typeof p.masterTicketId === 'string') {
        await service.merged(tx, p.ticketId, p.masterTicketId, 'system');
      }
    });
    let subscription: { stop(): Promise<void> } | undefined;

    return {
      name: 'duplicates',
      routes: (app) => duplicatesRoutes(app, { duplicates: service }),
      async start() {
        warmUpText();
        // Hotline-wide ticket subjects only (one token after `ticket`), not the per-department copies.
        subscription = await ctx.subscriber.subscribe(DUPLICATES_CONSUMER, `${prefix}.ticket.*`, handle);
      },
      async stop() {
        await subscription?.stop();
      },
      exports: { duplicates: service },
    };
  };
}

export const duplicatesModule: ModuleFactory = createDuplicatesModule();
