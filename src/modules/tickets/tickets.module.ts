/**
 * The tickets feature: 事项目录 (categories), citizens, intake, attachments, the lifecycle, search
 * and the progress self-query. Exports `tickets` (TicketsService: get, applyAction, findForSystem,
 * onTransition, progressQuery) for the sla, duplicates, webhooks and IVR code.
 */
import path from 'node:path';
import { warmUpText } from '../../domain/text/index.js';
import { parseLifecyclePolicy } from '../../domain/tickets/index.js';
import { CategoriesRepository } from '../categories/categories.repository.js';
import { categoriesRoutes } from '../categories/categories.routes.js';
import { CategoriesService } from '../categories/categories.service.js';
import type { FeatureModule, ModuleContext } from '../registry.js';
import { DEFAULT_SIZE_LIMITS, SNIFF_BYTES } from './attachment-types.js';
import { AttachmentsRepository } from './attachments.repository.js';
import { attachmentsRoutes } from './attachments.routes.js';
import { AttachmentsService } from './attachments.service.js';
import { FileBlobStore } from './attachments.store.js';
import { deadlineSourceFrom } from './deadlines.js';
import { IdempotencyRepository } from './idempotency.repository.js';
import { DraftsService } from './drafts.service.js';
import { IDEMPOTENCY_TTL_MS, IntakeService } from './intake.service.js';
import { TicketsRepository } from './tickets.repository.js';
import { ticketsRoutes } from './tickets.routes.js';
import { TicketsService } from './tickets.service.js';

/** Per client address: enough for a caller checking a few tickets, too few to guess codes. */
const PROGRESS_RATE_LIMIT = { max: 20, windowMs: 60_000 };
const PRUNE_EVERY_MS = 3600_000;

export function ticketsModule(ctx: ModuleContext): FeatureModule {
  const repo = new TicketsRepository();
  const attachmentsRepo = new AttachmentsRepository();
  const idempotency = new IdempotencyRepository();
  const categories = new CategoriesService(ctx.db, new CategoriesRepository(), ctx.outbox);
  const tickets = new TicketsService({
    db: ctx.db, repo, attachments: attachmentsRepo, outbox: ctx.outbox, departments: ctx.departments, clock: ctx.clock,
    subjectPrefix: ctx.config.nats.subjectPrefix,
    // 不满意: TICKET_REOPEN_MAX automatic reopens, then 督办 (TICKET_REOPEN_SUPERVISE).
    policy: parseLifecyclePolicy({ dissatisfied: { reopen: ctx.config.tickets.reopen.max > 0, maxReopens: ctx.config.tickets.reopen.max, superviseWhenExhausted: ctx.config.tickets.reopen.superviseWhenExhausted } }),
    // The sla module (listed before this one) owns the policy and the holiday calendar when present.
    deadlines: deadlineSourceFrom(() => ctx.modules.get('sla')?.exports?.['sla']),
  });
  const intake = new IntakeService({ db: ctx.db, tickets, repo, idempotency, categories, clock: ctx.clock });
  const drafts = new DraftsService(ctx.db, repo, tickets, categories, ctx.clock);
  const attachments = new AttachmentsService({
    db: ctx.db, repo: attachmentsRepo, tickets: repo, clock: ctx.clock, limits: DEFAULT_SIZE_LIMITS,
    store: new FileBlobStore(path.join(ctx.config.dataDir, 'attachments'), SNIFF_BYTES),
  });
  let pruner: NodeJS.Timeout | undefined;

  return {
    name: 'tickets',
    async routes(app) {
      await categoriesRoutes(app, { categories });
      await ticketsRoutes(app, { tickets, intake, drafts, progressRateLimit: PROGRESS_RATE_LIMIT });
      await app.register(async (scope) => attachmentsRoutes(scope, { attachments }));
    },
    async start() {
      warmUpText(); // the jieba dictionary loads now, not on the first intake
      pruner = setInterval(() => {
        idempotency.prune(ctx.db, new Date(ctx.clock.now().getTime() - IDEMPOTENCY_TTL_MS))
          .catch((err: unknown) => ctx.logger.warn({ err }, 'idempotency key pruning failed'));
      }, PRUNE_EVERY_MS);
      pruner.unref();
    },
    async stop() {
      if (pruner) clearInterval(pruner);
    },
    exports: { tickets, intake, drafts, categories, attachments },
  };
}
