/**
 * Once per test run: find PostgreSQL (TEST_DATABASE_URL, or a testcontainers PostgreSQL when a
 * Docker engine answers, or the local server), migrate a template database, and hand its name
 * to the tests, which clone it per file in milliseconds.
 */
import { existsSync } from 'node:fs';
import pg from 'pg';
import pino from 'pino';
import type { TestProject } from 'vitest/node';
import { createDb } from '../../src/adapters/db/database.js';
import { migrate } from '../../src/adapters/db/migrator.js';
import { databaseUrl } from './env.js';

declare module 'vitest' {
  export interface ProvidedContext {
    templateDb: string;
    dbTag: string;
    adminDbUrl: string;
    natsUrl: string;
  }
}

async function dockerAnswers(): Promise<boolean> {
  if (!process.env.DOCKER_HOST && !existsSync('/var/run/docker.sock')) return false;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stops: Array<() => Promise<unknown>> = [];
  let adminUrl = process.env.TEST_DATABASE_URL;
  let natsUrl = process.env.TEST_NATS_URL;
  if ((!adminUrl || !natsUrl) && (await dockerAnswers())) {
    const { GenericContainer, Wait } = await import('testcontainers');
    if (!adminUrl) {
      const c = await new GenericContainer('postgres:16-alpine').withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
        .withExposedPorts(5432).withWaitStrategy(Wait.forLogMessage(/ready to accept connections/, 2)).start();
      stops.push(() => c.stop());
      adminUrl = `postgres://postgres@${c.getHost()}:${c.getMappedPort(5432)}/postgres`;
    }
    if (!natsUrl) {
      const c = await new GenericContainer('nats:2-alpine').withCommand(['-js']).withExposedPorts(4222).start();
      stops.push(() => c.stop());
      natsUrl = `nats://${c.getHost()}:${c.getMappedPort(4222)}`;
    }
  }
  adminUrl ??= 'postgres://postgres@127.0.0.1:5432/postgres';
  natsUrl ??= 'nats://127.0.0.1:4222';
  process.env.TEST_DATABASE_URL = adminUrl;
  process.env.TEST_NATS_URL = natsUrl;

  // One template per project: projects may run side by side.
  const tag = `${project.name.replace(/[^a-z0-9]/gi, '')}_${process.pid}`;
  const template = `hotline_tpl_${tag}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${template}`);
  const handle = createDb(databaseUrl(template, adminUrl), 2, pino({ level: 'silent' }));
  await migrate(handle.pool, pino({ level: 'silent' }));
  await handle.close();
  project.provide('templateDb', template);
  project.provide('adminDbUrl', adminUrl);
  project.provide('dbTag', tag);
  project.provide('natsUrl', natsUrl);

  return async () => {
    const { rows } = await admin.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [`hotline_%_${tag}%`]);
    for (const r of rows) await admin.query(`DROP DATABASE IF EXISTS ${r.datname} WITH (FORCE)`);
    await admin.end();
    for (const stop of stops) await stop();
  };
}
