import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate } from '../libs/event-store/src/migration-runner';
import { createPgliteExecutor } from '../libs/event-store/src/pglite-sql-executor.adapter';
import { PGLITE_TEMPLATE_ENV } from '../libs/event-store/src/testing/pglite-template';
import { startPostgres, type PostgresServer } from '../libs/testing/src/infra/index';

/**
 * One PostgreSQL server for the whole Jest run (starting a cluster costs about a second here):
 * suites get their own database on it through `freshTestDatabase()`. With `DATABASE_URL` set,
 * that server is used instead. Imported by path, not `@nexus/testing`, whose index pulls in
 * `@jest/globals`, which only loads inside a test file.
 *
 * The apps are compiled to dist/ first (well under a second): the app processes and CLI calls
 * the suites start run from there (`@nexus/testing`'s entry points), on half the CPU the
 * TypeScript loader costs at each start.
 *
 * A migrated PGlite data directory is dumped once too: the store suites open dozens of PGlite
 * databases, each of which would otherwise create and migrate an empty cluster (seconds of CPU).
 */
export default async function globalSetup(): Promise<void> {
  const { build } = await import('../scripts/build.mjs');
  await build();
  process.env['NEXUS_TEST_COMPILED'] = '1';
  const pglite = await createPgliteExecutor('memory://');
  await migrate(pglite);
  const template = join(tmpdir(), `nexus-test-pglite-${process.pid}.tar`);
  writeFileSync(template, Buffer.from(await (await pglite.db.dumpDataDir('none')).arrayBuffer()));
  await pglite.close();
  process.env[PGLITE_TEMPLATE_ENV] = template;
  if (process.env['NEXUS_TEST_PG_URL']) return;
  const server = await startPostgres();
  process.env['NEXUS_TEST_PG_URL'] = server.url;
  (globalThis as { __nexusPostgres?: PostgresServer }).__nexusPostgres = server;
}
