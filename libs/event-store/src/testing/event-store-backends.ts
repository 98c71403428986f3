import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { NewEvent } from '@nexus/events';
import { freshTestDatabase } from '@nexus/testing';
import { migrate } from '../migration-runner';
import { createPgExecutor } from '../pg-sql-executor.adapter';
import { createPgliteExecutor } from '../pglite-sql-executor.adapter';
import type { SqlExecutor } from '../sql-executor.port';
import { PGLITE_TEMPLATE_ENV } from './pglite-template';

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

export function anEvent(data: object = { n: 1 }, type = 'SomethingHappened'): NewEvent {
  return {
    id: randomUUID(),
    type,
    schemaVersion: 1,
    data,
    metadata: {
      actor: { userId: 'user-1', roles: ['user'], tenantId: 'tenant-1' },
      correlationId: randomUUID(),
      causationId: null,
      traceparent: null,
      ip: null,
      userAgent: null,
      idempotencyKey: null,
    },
    occurredAt: '2026-11-22T10:00:00.123Z',
  };
}

/** A promise with its resolve exposed, to hold a transaction open on cue. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}
