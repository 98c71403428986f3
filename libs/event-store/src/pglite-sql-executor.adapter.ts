import { PGlite, type Transaction } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import type { SqlExecutor } from './sql-executor.port';

type PgliteSession = Pick<PGlite, 'query' | 'exec'> | Transaction;

/**
 * A `SqlExecutor` over PGlite's in-process API. PGlite is one Postgres session: its queries are
 * serialised, and a transaction holds the session exclusively until it ends.
 */
export class PgliteSqlExecutor implements SqlExecutor {
  readonly dialect = 'pglite' as const;

  constructor(readonly db: PGlite) {}

  async query<R>(text: string, params?: unknown[]): Promise<R[]> {
    return (await this.db.query<R>(text, params)).rows;
  }

  async exec(sql: string): Promise<void> {
    await this.db.exec(sql);
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => fn(new PgliteTransactionExecutor(tx)));
  }

  /** PGlite is one session: it hears its own NOTIFYs, i.e. every append in the process. */
  async listen(channel: string, onNotify: () => void): Promise<() => Promise<void>> {
    const unlisten = await this.db.listen(channel, () => onNotify());
    return async () => {
      if (!this.db.closed) await unlisten();
    };
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

class PgliteTransactionExecutor implements SqlExecutor {
  readonly dialect = 'pglite' as const;

  constructor(private readonly session: PgliteSession) {}

  async query<R>(text: string, params?: unknown[]): Promise<R[]> {
    return (await this.session.query<R>(text, params)).rows;
  }

  async exec(sql: string): Promise<void> {
    await this.session.exec(sql);
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return fn(this);
  }

  async close(): Promise<void> {
    throw new Error('a transaction executor is closed by its transaction');
  }
}

/**
 * Opens PGlite on a data directory (persisted) or `'memory://'`, with pgvector loaded so a
 * migration may `CREATE EXTENSION vector`.
 */
export async function createPgliteExecutor(dataDir = 'memory://'): Promise<PgliteSqlExecutor> {
  const db = await PGlite.create(dataDir, { extensions: { vector } });
  return new PgliteSqlExecutor(db);
}
