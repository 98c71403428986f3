import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { migrate } from './migration-runner';
import { createPgExecutor } from './pg-sql-executor.adapter';
import { PgliteWorkerSqlExecutor } from './pglite-worker-sql-executor.adapter';
import type { SqlExecutor } from './sql-executor.port';

export interface DatabaseOptions {
  /** A PostgreSQL URL; absent means embedded PGlite under `dataDir`. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly poolSize: number;
}

/**
 * The database every Nexus app starts with: real PostgreSQL when a URL is configured, otherwise
 * an embedded PostgreSQL (PGlite) persisted in the data directory, in a thread of its own so that
 * its statements do not hold up the process's event loop. Migrations are applied before it is
 * handed out.
 */
export async function openDatabase({ databaseUrl, dataDir, poolSize }: DatabaseOptions): Promise<SqlExecutor> {
  let executor: SqlExecutor;
  if (databaseUrl !== undefined) {
    executor = createPgExecutor(databaseUrl, { max: poolSize });
  } else {
    const dir = join(dataDir, 'pgdata');
    mkdirSync(dir, { recursive: true });
    executor = await PgliteWorkerSqlExecutor.open(dir);
  }
  await migrate(executor);
  return executor;
}
