import { PGlite, type Transaction } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PgliteExecutor, TransactionExecutor, type SqlExecutor } from './sql-executor.port';

type PgliteSession = Pick<PGlite, 'query' | 'exec'> | Transaction;

/**
 * A `SqlExecutor` over PGlite's in-process API. PGlite is one Postgres session: its queries are
 * serialised, and a transaction holds the session exclusively until it ends.
 */
export class PgliteSqlExecutor extends PgliteExecutor implements SqlExecutor {
  constructor(readonly db: PGlite) {
    super();
  }

  async query<R>(text: string, params?: unknown[]): Promise<R[]> {
    return (await this.db.query<R>(text, params)).rows;
  }

  async exec(sql: string): Promise<void> {
    await this.db.exec(sql);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    let executor: PgliteTransactionExecutor | undefined;
    const result = await this.db.transaction((tx) => fn((executor = new PgliteTransactionExecutor(tx))));
    executor?.announced.flush((channel, detail) => this.announce(channel, detail));
    return result;
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

class PgliteTransactionExecutor extends TransactionExecutor {
  readonly dialect = 'pglite' as const;

  constructor(private readonly session: PgliteSession) {
    super();
  }

  async query<R>(text: string, params?: unknown[]): Promise<R[]> {
    return (await this.session.query<R>(text, params)).rows;
  }

  async exec(sql: string): Promise<void> {
    await this.session.exec(sql);
  }
}

/**
 * Opens PGlite on a data directory (persisted) or `'memory://'`, with pgvector loaded so a
 * migration may `CREATE EXTENSION vector`.
 */
export async function createPgliteExecutor(dataDir = 'memory://', options: { readonly loadDataDir?: Blob } = {}): Promise<PgliteSqlExecutor> {
  // `loadDataDir`: start from a dumped data directory (`db.dumpDataDir()`) instead of an empty one.
  const db = await PGlite.create(dataDir, { extensions: { vector }, ...(options.loadDataDir === undefined ? {} : { loadDataDir: options.loadDataDir }) });
  return new PgliteSqlExecutor(db);
}
