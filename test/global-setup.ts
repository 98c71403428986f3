import { startPostgres, type PostgresServer } from '../libs/testing/src/infra/index';

/**
 * One PostgreSQL server for the whole Jest run (starting a cluster costs about a second here):
 * suites get their own database on it through `freshTestDatabase()`. With `DATABASE_URL` set,
 * that server is used instead. Imported by path, not `@nexus/testing`, whose index pulls in
 * `@jest/globals`, which only loads inside a test file.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env['NEXUS_TEST_PG_URL']) return;
  const server = await startPostgres();
  process.env['NEXUS_TEST_PG_URL'] = server.url;
  (globalThis as { __nexusPostgres?: PostgresServer }).__nexusPostgres = server;
}
