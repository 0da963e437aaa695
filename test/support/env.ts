/** Where the tests find PostgreSQL and NATS: env URLs, else the local services (no Docker here). */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';

export function databaseUrl(name: string, base = TEST_DATABASE_URL): string {
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
}
