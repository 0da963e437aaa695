/** `npm run db:migrate`: applies pending migrations to DATABASE_URL (or the embedded database). */
import pino from 'pino';
import { ConfigError, loadConfig } from '../../config.js';
import { loggerOptions } from '../../logger.js';
import { createDb } from './database.js';
import { migrate } from './migrator.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = pino(loggerOptions(config.logLevel === 'silent' ? 'info' : config.logLevel, config.logPretty));
  const embedded = config.database.url ? undefined : await (await import('./embedded.js')).startEmbeddedPostgres(config.dataDir, config.database.embeddedPort, logger);
  const handle = createDb(config.database.url ?? embedded!.url, 2, logger);
  try {
    const result = await migrate(handle.pool, logger);
    logger.info({ applied: result.applied, current: result.current }, result.applied.length ? 'migrations applied' : 'database is up to date');
  } finally {
    await handle.close();
    await embedded?.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof ConfigError ? err.message : String((err as Error).stack ?? err)}\n`);
  process.exit(1);
});
