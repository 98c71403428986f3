import { createTestDatabase, startPostgres, type PostgresServer } from './postgres-server';

let shared: Promise<string> | undefined;

/**
 * The Postgres server a test run shares: `NEXUS_TEST_PG_URL` (set by the jest global setup),
 * else `DATABASE_URL`, else one throwaway server started lazily for this process. Suites that
 * need to crash or restart a server start their own with `startPostgres()` instead.
 */
export function sharedPostgresUrl(): Promise<string> {
  const fromEnv = process.env['NEXUS_TEST_PG_URL'] ?? process.env['DATABASE_URL'];
  if (fromEnv) return Promise.resolve(fromEnv);
  shared ??= startPostgres().then((server: PostgresServer) => server.url);
  return shared;
}

/** A fresh database on the shared server: the usual way for an integration suite to begin. */
export async function freshTestDatabase(prefix?: string): Promise<string> {
  return createTestDatabase(await sharedPostgresUrl(), prefix);
}
