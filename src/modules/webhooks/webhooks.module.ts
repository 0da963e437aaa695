/**
 * The webhooks feature module: registration API, the consumer that turns department events
 * (`<prefix>.dept.<id>.>`) into deliveries, and the deliverer loop.
 *
 * The signing secrets are sealed under a key derived from, in order: the `secretKey` option,
 * JWT_SECRET (required in production), or a random key kept in DATA_DIR/webhook-secret.key.
 * Changing that key makes stored secrets unusable: deliveries then fail with a clear error
 * until the department rotates its secret.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PgListener } from '../../adapters/db/listener.js';
import { idempotent } from '../events/idempotent-consumer.js';
import type { FeatureModule, ModuleContext, ModuleFactory } from '../registry.js';
import { SecretBox } from './webhooks.crypto.js';
import { WebhookDeliverer } from './webhooks.deliverer.js';
import { WebhooksRepository } from './webhooks.repository.js';
import { webhooksRoutes } from './webhooks.routes.js';
import { fetchSender } from './webhooks.sender.js';
import { WebhooksService, type WebhookSender } from './webhooks.service.js';

export interface WebhooksModuleOptions {
  /** Allow plain http to loopback receivers (tests, local development). Never in production. */
  readonly allowLoopbackHttp?: boolean;
  /** Attempts before a delivery is `failed` (default 8: about 20 minutes of backoff). */
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Deadline of one request (connect + response). */
  readonly timeoutMs?: number;
  /** Requests in flight per instance. */
  readonly concurrency?: number;
  readonly pollMs?: number;
  /** Finished deliveries are kept this long. */
  readonly retentionDays?: number;
  /** Master key for the signing secrets (at least 32 characters). */
  readonly secretKey?: string;
  /** Run the deliverer in this instance (default true). */
  readonly deliver?: boolean;
  readonly sender?: WebhookSender;
}

export const WEBHOOKS_CONSUMER = 'webhooks-enqueue';

export function createWebhooksModule(options: WebhooksModuleOptions = {}): ModuleFactory {
  return async function webhooks(ctx): Promise<FeatureModule> {
    const logger = ctx.logger;
    const prefix = ctx.config.nats.subjectPrefix;
    const box = new SecretBox(await masterKey(ctx, options));
    const settings = {
      allowLoopbackHttp: options.allowLoopbackHttp ?? false,
      maxAttempts: options.maxAttempts ?? 8,
      baseDelayMs: options.baseDelayMs ?? 10_000,
      maxDelayMs: options.maxDelayMs ?? 3_600_000,
      timeoutMs: options.timeoutMs ?? 10_000,
      subjectPrefix: prefix,
    };
    const service = new WebhooksService({
      db: ctx.db, repo: new WebhooksRepository(), box, sender: options.sender ?? fetchSender, clock: ctx.clock,
      departments: ctx.departments, settings, logger,
    });
    const deliverer = new WebhookDeliverer(service, ctx.clock, logger.child({ component: 'webhook-deliverer' }), {
      concurrency: options.concurrency ?? 8,
      pollMs: options.pollMs ?? 1000,
      retentionMs: (options.retentionDays ?? 30) * 86_400_000,
      pruneEveryMs: 3_600_000,
    });
    const runDeliverer = options.deliver !== false;
    const listener = new PgListener(ctx.databaseUrl, 'webhook_deliveries', () => deliverer.wake(), logger.child({ component: 'webhook-listener' }));
    const enqueue = idempotent(ctx.db, ctx.consumed, WEBHOOKS_CONSUMER, async (event, tx) => {
      await service.enqueueForEvent(tx, event);
    });
    let subscription: { stop(): Promise<void> } | undefined;

    return {
      name: 'webhooks',
      routes: (app) => webhooksRoutes(app, { webhooks: service }),
      async start() {
        subscription = await ctx.subscriber.subscribe(WEBHOOKS_CONSUMER, `${prefix}.dept.>`, async (event) => {
          await enqueue(event);
          deliverer.wake();
        });
        if (runDeliverer) {
          await listener.start();
          deliverer.start();
        }
      },
      async stop() {
        await subscription?.stop();
        if (runDeliverer) {
          await deliverer.stop();
          await listener.stop();
        }
      },
      healthChecks: [{
        name: 'webhooks',
        required: false,
        check: async () => {
          const s = deliverer.status;
          const down = runDeliverer && !s.running;
          return { status: down || s.consecutiveFailures > 0 ? 'degraded' : 'up', deliverer: runDeliverer ? s : 'disabled' };
        },
      }],
      exports: { webhooks: service },
    };
  };
}

async function masterKey(ctx: ModuleContext, options: WebhooksModuleOptions): Promise<string> {
  if (options.secretKey) return options.secretKey;
  if (ctx.config.auth.jwtSecret) return ctx.config.auth.jwtSecret;
  const file = path.join(ctx.config.dataDir, 'webhook-secret.key');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOENT') throw err;
  }
  await mkdir(ctx.config.dataDir, { recursive: true });
  try {
    await writeFile(file, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' });
    ctx.logger.warn({ file }, 'JWT_SECRET not set: generated the webhook secret key in DATA_DIR');
  } catch (err) {
    if ((err as { code?: string }).code !== 'EEXIST') throw err; // another instance was first
  }
  return (await readFile(file, 'utf8')).trim();
}

export const webhooksModule: ModuleFactory = createWebhooksModule();
