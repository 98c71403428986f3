import { PGlite, type Transaction } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { Announcements, TransactionAnnouncements, type SqlExecutor } from './sql-executor.port';

type PgliteSession = Pick<PGlite, 'query' | 'exec'> | Transaction;

/**
 * A `SqlExecutor` over PGlite's in-process API. PGlite is one Postgres session: its queries are
 * serialised, and a transaction holds the session exclusively until it ends.
 */
export class PgliteSqlExecutor implements SqlExecutor {
  readonly dialect = 'pglite' as const;
  // PGlite lives in this process only: announcing is calling its listeners.
  private readonly announcements = new Announcements();

  constructor(readonly db: PGlite) {}

  async query<R>(text: string, params?: unknown[]): Promise<R[]> {
    return (await this.db.query<R>(text, params)).rows;
  }

  async exec(sql: string): Promise<void> {
    await this.db.exec(sql);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const announced = new TransactionAnnouncements();
    const result = await this.db.transaction((tx) => fn(new PgliteTransactionExecutor(tx, announced)));
    announced.flush((channel, detail) => this.announce(channel, detail));
    return result;
  }

  /** Every writer of a PGlite database is in this process, and announces its commits here. */
  async listen(channel: string, onNotify: (detail: string) => void): Promise<() => Promise<void>> {
    const subscription = this.announcements.subscribe(channel, onNotify);
    return async () => {
      subscription.unsubscribe();
    };
  }

  announce(channel: string, detail?: string): void {
    this.announcements.announce(channel, detail);
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

class PgliteTransactionExecutor implements SqlExecutor {
  readonly dialect = 'pglite' as const;

  constructor(
    private readonly session: PgliteSession,
    private readonly announced: TransactionAnnouncements,
  ) {}

  async query<R>(text: string, params?: unknown[]): Promise<R[]> {
    return (await this.session.query<R>(text, params)).rows;
  }

  async exec(sql: string): Promise<void> {
    await this.session.exec(sql);
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return fn(this);
  }

  announce(channel: string, detail?: string): void {
    this.announced.add(channel, detail);
  }

  async close(): Promise<void> {
    throw new Error('a transaction executor is closed by its transaction');
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
