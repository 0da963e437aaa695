/**
 * Composition root: builds adapters, repositories, services and the Fastify app, and owns the
 * order in which they start and stop. Nothing else constructs a client.
 */
import { randomUUID } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { createDb, type DbHandle } from './adapters/db/database.js';
import { PgListener } from './adapters/db/listener.js';
import { migrate } from './adapters/db/migrator.js';
import { amiReadiness, createAmiAdapter, type AmiAdapter } from './adapters/ami/index.js';
import { createTelephony, type AriManager, type TelephonyPort } from './adapters/ari/index.js';
import { NatsEventBus } from './adapters/nats/nats.js';
import { systemClock, type Clock } from './domain/clock.js';
import { realTimers, type Timers } from './domain/timers.js';
import { auditPlugin } from './http/audit.js';
import { authPlugin } from './http/auth.js';
import { registerProblemHandlers } from './http/problem.js';
import { buildValidatorFactory } from './http/validation.js';
import { ProblemSchema } from './http/schemas.js';
import type { App } from './http/types.js';
import { AuditRepository } from './modules/audit/audit.repository.js';
import { auditRoutes } from './modules/audit/audit.routes.js';
import { AuditService } from './modules/audit/audit.service.js';
import { AuthRepository } from './modules/auth/auth.repository.js';
import { authRoutes } from './modules/auth/auth.routes.js';
import { AuthService } from './modules/auth/auth.service.js';
import type { ScryptParams } from './modules/auth/password.js';
import { DepartmentsRepository } from './modules/departments/departments.repository.js';
import { departmentsRoutes } from './modules/departments/departments.routes.js';
import { DepartmentsService } from './modules/departments/departments.service.js';
import { ConsumedEventsRepository } from './modules/events/consumed.repository.js';
import type { EventPublisher, EventSubscriber } from './modules/events/events.js';
import { InProcessBus } from './modules/events/in-process-bus.js';
import { OutboxRelay } from './modules/events/outbox-relay.js';
import { OutboxRepository } from './modules/events/outbox.repository.js';
import { ManagedSubscriber } from './modules/events/subscriptions.js';
import { healthRoutes } from './modules/health/health.routes.js';
import { HealthRepository } from './modules/health/health.repository.js';
import { HealthService } from './modules/health/health.service.js';
import { FEATURE_MODULES } from './modules/index.js';
import { telephonyModule } from './modules/telephony/telephony.module.js';
import { TelephonyService } from './modules/telephony/telephony.service.js';
import type { FeatureModule, ModuleFactory } from './modules/registry.js';

export interface BuildOptions {
  readonly config: Config;
  readonly logger: Logger;
  /** Resolved by the server: DATABASE_URL or the embedded database. */
  readonly databaseUrl: string;
  /** Resolved by the server: JWT_SECRET or the one kept in DATA_DIR. */
  readonly jwtSecret: string;
  readonly clock?: Clock;
  /** Call-flow timers; tests pass scaled ones. */
  readonly timers?: Timers;
  /** Tests lower the KDF cost; production keeps the default. */
  readonly scrypt?: ScryptParams;
  /** Defaults to every module in src/modules/index.ts. */
  readonly modules?: readonly ModuleFactory[];
}

export interface Hotline {
  readonly app: App;
  readonly db: DbHandle;
  readonly services: {
    readonly auth: AuthService;
    readonly audit: AuditService;
    readonly departments: DepartmentsService;
    readonly health: HealthService;
  };
  /** The ARI port (call control) when ARI_URL is set. */
  readonly telephony: (AriManager & TelephonyPort) | undefined;
  readonly ami: AmiAdapter | undefined;
  /** Feature modules by name, with what they export. */
  readonly modules: ReadonlyMap<string, FeatureModule>;
  readonly events: {
    readonly outbox: OutboxRepository;
    readonly consumed: ConsumedEventsRepository;
    readonly relay: OutboxRelay;
    readonly subscriber: EventSubscriber;
    readonly publisher: EventPublisher;
  };
  /** Starts background work (relay, listeners) after the app is built. */
  start(): Promise<void>;
  /** Stops taking work, drains in-flight requests and the outbox, closes connections. */
  close(): Promise<void>;
}

export async function buildApp(opts: BuildOptions): Promise<Hotline> {
  const { config, logger } = opts;
  const clock = opts.clock ?? systemClock;
  const instanceId = randomUUID();

  const db = createDb(opts.databaseUrl, config.database.poolSize, logger.child({ component: 'db' }));
  if (config.database.migrateOnStart) await migrate(db.pool, logger.child({ component: 'migrator' }));

  // Events: one outbox, relayed to NATS JetStream or, without NATS_URL, an in-process bus.
  const outbox = new OutboxRepository(config.nats.subjectPrefix);
  const consumed = new ConsumedEventsRepository();
  const nats = config.nats.url
    ? new NatsEventBus({ url: config.nats.url, stream: config.nats.stream, subjectPrefix: config.nats.subjectPrefix }, logger.child({ component: 'nats' }))
    : undefined;
  const bus: EventPublisher & EventSubscriber = nats ?? new InProcessBus(logger.child({ component: 'bus' }));
  // Modules subscribe through this: their subscriptions end after the shutdown flush, not before.
  const subscriptions = new ManagedSubscriber(bus);
  const relay = new OutboxRelay(db.db, outbox, bus, logger.child({ component: 'outbox-relay' }), {
    batchSize: config.outbox.batchSize, pollMs: config.outbox.pollMs, maxBackoffMs: config.outbox.maxBackoffMs,
  });
  const listener = new PgListener(opts.databaseUrl, 'outbox', () => relay.notify(), logger.child({ component: 'outbox-listener' }));

  const audit = new AuditService(db.db, new AuditRepository());
  const auth = new AuthService(db.db, new AuthRepository(), outbox, {
    jwtSecret: opts.jwtSecret, sessionTtlSeconds: config.auth.sessionTtlSeconds, ...(opts.scrypt ? { scrypt: opts.scrypt } : {}),
  }, clock, logger.child({ component: 'auth' }), audit);
  const departments = new DepartmentsService(db.db, new DepartmentsRepository(), outbox);

  const health = new HealthService();
  health.register({
    name: 'postgres', required: true,
    check: async () => {
      await new HealthRepository().ping(db.db);
      return { status: 'up', pool: { total: db.pool.totalCount, idle: db.pool.idleCount, waiting: db.pool.waitingCount } };
    },
  });
  health.register({
    name: 'nats', required: false,
    check: async () => {
      const relayStatus = relay.status();
      const pending = await outbox.pendingCount(db.db);
      if (!nats) return { status: 'disabled', detail: 'NATS_URL not set: in-process bus', outboxPending: pending };
      const s = nats.status();
      return { status: s.state === 'connected' ? 'up' : 'down', state: s.state, ...(s.lastError ? { detail: s.lastError } : {}), outboxPending: pending, relayFailures: relayStatus.consecutiveFailures };
    },
  });
  // Telephony: ARI controls calls, AMI observes registrations and SIP security. Both are off
  // until configured; neither makes the instance unready (tickets and the API keep working).
  const ari = config.ari.nodes.length
    ? createTelephony({ nodes: config.ari.nodes, app: config.ari.app, requestTimeoutMs: config.ari.requestTimeoutMs, transport: config.ari.transport, idleSocketMs: config.ari.idleSocketMs }, logger)
    : undefined;
  const ami = config.ami.host
    ? createAmiAdapter({
      host: config.ami.host, port: config.ami.port, username: config.ami.username!, password: config.ami.password!,
      actionTimeoutMs: config.ami.actionTimeoutMs,
      security: {
        threshold: config.ami.security.threshold, windowMs: config.ami.security.windowMs, blockMs: config.ami.security.blockMs,
        allowCidrs: config.ami.security.allowCidrs, reloadModule: config.ami.security.reloadModule,
        ...(config.ami.security.blocklistFile ? { aclFile: config.ami.security.blocklistFile } : {}),
      },
    }, logger)
    : undefined;
  health.register({
    name: 'ari', required: false,
    check: async () => {
      if (!ari) return { status: 'disabled', detail: 'ARI_URL not set: telephony is off' };
      const nodes = ari.health();
      const up = nodes.filter((n) => n.state === 'connected').length;
      return {
        status: up === nodes.length ? 'up' : up > 0 ? 'degraded' : 'down',
        nodes: nodes.map((n) => ({ id: n.nodeId, state: n.state, since: n.since, attempts: n.attempts, ...(n.lastError ? { lastError: n.lastError } : {}) })),
      };
    },
  });
  health.register({
    name: 'ami', required: false,
    check: async () => {
      if (!ami) return { status: 'disabled', detail: 'AMI_HOST not set' };
      return amiReadiness(ami.status());
    },
  });
  const telephonyService = new TelephonyService(ami ? { endpoints: ami.endpoints, security: ami.security } : undefined, db.db, outbox, logger.child({ component: 'telephony' }));

  const modules = new Map<string, FeatureModule>([['telephony', telephonyModule(telephonyService)]]);
  for (const factory of opts.modules ?? FEATURE_MODULES) {
    const m = await factory({
      config, logger: logger.child({ module: factory.name }), db: db.db, databaseUrl: opts.databaseUrl, clock,
      outbox, consumed, subscriber: subscriptions, audit, auth, departments, modules, instanceId, telephony: ari, timers: opts.timers ?? realTimers,
    });
    if (modules.has(m.name)) throw new Error(`two feature modules are named ${m.name}`);
    modules.set(m.name, m);
    for (const check of m.healthChecks ?? []) health.register(check);
  }

  // Typed as Fastify's logger so the instance matches `App` (pino's Logger is a superset).
  const loggerInstance: FastifyBaseLogger = logger;
  const app = Fastify({
    loggerInstance,
    bodyLimit: config.http.bodyLimitBytes,
    trustProxy: config.http.trustProxy,
    requestIdHeader: false, // genReqId decides, so an unsafe incoming id is never trusted
    // Accept a caller's request id only if it is short and harmless; otherwise mint one.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
    },
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    // Query strings are coerced to their schema's types, JSON bodies are not (src/http/validation.ts).
    schemaController: { compilersFactory: { buildValidator: buildValidatorFactory({ removeAdditional: false, useDefaults: true, allErrors: false }) } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  let shuttingDown = false;
  app.addHook('onRequest', async (req, reply) => {
    void reply.header('x-request-id', req.id);
  });
  // While draining, a finished response also ends its keep-alive connection; otherwise an idle
  // client socket would hold the server open until its keep-alive timeout.
  app.addHook('onSend', async (_req, reply, payload) => {
    if (shuttingDown) void reply.header('connection', 'close');
    return payload;
  });
  registerProblemHandlers(app);
  app.addSchema(ProblemSchema);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: '12345 Hotline API', version: '1', description: 'Contact-center backend for 12345 government-service hotlines. Errors are RFC 9457 problem details with a stable `code`.' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
        },
      },
      security: [{ bearer: [] }, { apiKey: [] }],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(rateLimit, { global: false });
  await app.register(authPlugin, { auth });
  await app.register(auditPlugin, { audit });

  await app.register(healthRoutes, { health });
  await app.register(async (api) => {
    await api.register(authRoutes, { auth, loginRateLimit: config.auth.loginRateLimit });
    await api.register(departmentsRoutes, { departments });
    await api.register(auditRoutes, { audit });
    for (const m of modules.values()) if (m.routes) await api.register(async (scope) => m.routes!(scope));
  }, { prefix: '/api/v1' });

  if (config.auth.bootstrapAdmin) await auth.ensureBootstrapAdmin(config.auth.bootstrapAdmin);

  let started = false;
  let closed = false;
  return {
    app, db,
    services: { auth, audit, departments, health },
    modules,
    telephony: ari,
    ami,
    events: { outbox, consumed, relay, subscriber: subscriptions, publisher: bus },
    async start() {
      if (started) return;
      started = true;
      ami?.start();
      for (const m of modules.values()) await m.start?.();
      // After the modules: the call flow must hear the first connect's resync. ARI connects in
      // the background and retries forever; start-up does not wait for Asterisk.
      void ari?.start().catch((err: unknown) => logger.error({ err }, 'ARI start failed'));
      // Only now, with every consumer subscribed: the in-process bus keeps nothing for late subscribers.
      await listener.start();
      relay.start();
    },
    async close() {
      if (closed) return;
      closed = true;
      // The whole grace period is the budget: the outbox flush may use what the other steps left,
      // keeping a reserve for closing NATS and PostgreSQL before close-with-grace gives up.
      const deadline = Date.now() + config.http.shutdownGraceMs;
      const reserveMs = Math.min(5000, config.http.shutdownGraceMs / 5);
      const step = async (name: string, fn: () => Promise<unknown>) => {
        const t0 = Date.now();
        await fn();
        logger.info({ step: name, ms: Date.now() - t0 }, 'shutdown step done');
      };
      health.setDraining();
      shuttingDown = true;
      await step('http', () => app.close()); // stops accepting, waits for in-flight requests
      subscriptions.hold(); // consumers stay subscribed through the flush below
      for (const m of [...modules.values()].reverse()) if (m.stop) await step(`module:${m.name}`, () => m.stop!());
      if (ari) await step('ari', () => ari.stop());
      if (ami) await step('ami', () => ami.close());
      if (started) {
        // Publish what the last requests wrote, while NATS is still connected.
        await step('outbox-flush', async () => {
          if (!(await relay.flush(Math.max(250, deadline - Date.now() - reserveMs)))) {
            logger.warn('outbox not fully flushed at shutdown; the next start publishes the rest');
          }
        });
        await step('outbox-relay', () => relay.stop());
        await step('outbox-listener', () => listener.stop());
      }
      await step('subscriptions', () => subscriptions.stopAll());
      if (nats) await step('nats', () => nats.drain());
      await step('postgres', () => db.close());
    },
  };
}
