import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { freshTestDatabase } from '@nexus/testing';
import { migrate } from '../migration-runner';
import { createPgExecutor } from '../pg-sql-executor.adapter';
import { createPgliteExecutor } from '../pglite-sql-executor.adapter';
import type { SqlExecutor } from '../sql-executor.port';
import { PGLITE_TEMPLATE_ENV } from './pglite-template';

export { anEvent } from './an-event';

/** Both backends every store test runs on: a fresh database on a real server, and PGlite. */
export const backends: ReadonlyArray<readonly [string, () => Promise<SqlExecutor>]> = [
  ['postgres', async () => migrated(createPgExecutor(await freshTestDatabase(), { max: 20 }))],
  ['pglite', () => migratedPglite()],
];

/**
 * A migrated in-memory PGlite. Loaded from the run's template when there is one: creating an empty
 * cluster and migrating it costs seconds of CPU each time, and the suites open dozens.
 */
export async function migratedPglite(): Promise<SqlExecutor> {
  const template = process.env[PGLITE_TEMPLATE_ENV];
  if (template === undefined) return migrated(await createPgliteExecutor('memory://'));
  return createPgliteExecutor('memory://', { loadDataDir: new Blob([readFileSync(template)]) });
}

async function migrated(sql: SqlExecutor): Promise<SqlExecutor> {
  await migrate(sql);
  return sql;
}

export function openPostgres(max = 20): Promise<SqlExecutor> {
  return freshTestDatabase().then((url) => migrated(createPgExecutor(url, { max })));
}

export function newStreamId(prefix = 'test'): string {
  return `${prefix}-${randomUUID()}`;
}

/** A promise with its resolve exposed, to hold a transaction open on cue. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}
