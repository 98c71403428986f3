import pg from 'pg';
import { Announcements, type SqlExecutor } from './sql-executor.port';

type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

/** A `SqlExecutor` over a `pg.Pool`; transactions hold one pooled client from BEGIN to COMMIT. */
export class PgSqlExecutor implements SqlExecutor {
  readonly dialect = 'postgres' as const;

  private listener: Promise<pg.PoolClient> | undefined;
  private readonly announcements: Announcements;
  private listenQueue: Promise<void> = Promise.resolve();

  constructor(readonly pool: pg.Pool) {
    this.announcements = new Announcements((channel) => pool.query('SELECT pg_notify($1, $2)', [channel, '']));
  }

  async query<R>(text: string, params?: unknown[]): Promise<R[]> {
    return (await this.pool.query(text, params)).rows as R[];
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const tx = new PgTransactionExecutor(client);
      const result = await fn(tx);
      await client.query('COMMIT');
      for (const channel of tx.announced) this.announce(channel);
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw error;
    } finally {
      client.release(broken);
    }
  }

  /**
   * One pooled client listens for every subscriber of this executor (LISTEN is per session), so
   * consumers sharing a pool do not each hold a connection for it.
   */
  async listen(channel: string, onNotify: () => void): Promise<() => Promise<void>> {
    this.listener ??= this.pool.connect().then((client) => {
      client.on('notification', (message) => this.announcements.deliver(message.channel));
      // A lost connection ends notices quietly; listeners poll as well.
      client.on('error', () => undefined);
      return client;
    });
    const client = await this.listener;
    // One statement at a time on the shared client: subscribers come and go concurrently.
    const run = (statement: string): Promise<void> =>
      (this.listenQueue = this.listenQueue.then(() => client.query(statement)).then(() => undefined, () => undefined));
    const subscription = this.announcements.subscribe(channel, onNotify);
    if (subscription.first) await run(`LISTEN ${pg.escapeIdentifier(channel)}`);
    return async () => {
      if (subscription.unsubscribe()) await run(`UNLISTEN ${pg.escapeIdentifier(channel)}`);
    };
  }

  announce(channel: string): void {
    this.announcements.announce(channel);
  }

  async close(): Promise<void> {
    const listener = await this.listener?.catch(() => undefined);
    listener?.release(true);
    await this.pool.end();
  }
}

class PgTransactionExecutor implements SqlExecutor {
  readonly dialect = 'postgres' as const;
  /** Announced inside the transaction: sent after its COMMIT. */
  readonly announced = new Set<string>();

  constructor(private readonly client: Queryable) {}

  async query<R>(text: string, params?: unknown[]): Promise<R[]> {
    return (await this.client.query(text, params)).rows as R[];
  }

  async exec(sql: string): Promise<void> {
    await this.client.query(sql);
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return fn(this);
  }

  announce(channel: string): void {
    this.announced.add(channel);
  }

  async close(): Promise<void> {
    throw new Error('a transaction executor is closed by its transaction');
  }
}

/** Opens a pool on `url`; size it for the concurrency the process needs (`max`, default 10). */
export function createPgExecutor(url: string, options: { max?: number } = {}): PgSqlExecutor {
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10 });
  // An idle client's error (server restart) must not crash the process; the next query fails.
  pool.on('error', () => undefined);
  return new PgSqlExecutor(pool);
}
