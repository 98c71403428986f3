import { afterAll, beforeAll } from '@jest/globals';
import { PostgresEventStore } from '../postgres-event-store.adapter';
import type { SqlExecutor } from '../sql-executor.port';

export interface SuiteEventStore {
  readonly sql: SqlExecutor;
  readonly store: PostgresEventStore;
}

/**
 * The event store a suite's tests share: opened (a fresh database, migrated) before them and
 * closed after them. `use` is handed it once open, for the suite to keep in its own variables.
 * Kept apart from `event-store-backends`, which the benchmarks import outside Jest.
 */
export function eventStoreForSuite(open: () => Promise<SqlExecutor>, use: (opened: SuiteEventStore) => void): void {
  let sql: SqlExecutor | undefined;
  beforeAll(async () => {
    sql = await open();
    use({ sql, store: new PostgresEventStore(sql) });
  });
  afterAll(() => sql?.close());
}
