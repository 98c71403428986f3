import { randomUUID } from 'node:crypto';
import type { NewEvent } from '@nexus/events';
import { freshTestDatabase } from '@nexus/testing';
import { migrate } from '../migration-runner';
import { createPgExecutor } from '../pg-sql-executor.adapter';
import { createPgliteExecutor } from '../pglite-sql-executor.adapter';
import type { SqlExecutor } from '../sql-executor.port';

/** Both backends every store test runs on: a fresh database on a real server, and PGlite. */
export const backends: ReadonlyArray<readonly [string, () => Promise<SqlExecutor>]> = [
  ['postgres', async () => migrated(createPgExecutor(await freshTestDatabase(), { max: 20 }))],
  ['pglite', async () => migrated(await createPgliteExecutor('memory://'))],
];

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
