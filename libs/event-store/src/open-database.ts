import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { migrate } from './migration-runner';
import { createPgExecutor } from './pg-sql-executor.adapter';
import { createPgliteExecutor } from './pglite-sql-executor.adapter';
import type { SqlExecutor } from './sql-executor.port';

export interface DatabaseOptions {
  /** A PostgreSQL URL; absent means embedded PGlite under `dataDir`. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly poolSize: number;
}

/**
 * The database every Nexus app starts with: real PostgreSQL when a URL is configured, otherwise
 * an embedded PostgreSQL (PGlite) persisted in the data directory, on this thread: the
 * worker-thread adapter (`PgliteWorkerSqlExecutor`) is not the default until the loss of an
 * embedded platform seen once on CI with it is understood. Migrations are applied before it is
 * handed out.
 */
export async function openDatabase({ databaseUrl, dataDir, poolSize }: DatabaseOptions): Promise<SqlExecutor> {
  let executor: SqlExecutor;
  if (databaseUrl !== undefined) {
    executor = createPgExecutor(databaseUrl, { max: poolSize });
  } else {
    const dir = join(dataDir, 'pgdata');
    mkdirSync(dir, { recursive: true });
    executor = await createPgliteExecutor(dir);
  }
  await migrate(executor);
  return executor;
}
