import pg from 'pg';
import type { SqlExecutor } from './sql-executor.port';

type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

/** A `SqlExecutor` over a `pg.Pool`; transactions hold one pooled client from BEGIN to COMMIT. */
export class PgSqlExecutor implements SqlExecutor {
  readonly dialect = 'postgres' as const;

  constructor(readonly pool: pg.Pool) {}

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
      const result = await fn(new PgTransactionExecutor(client));
      await client.query('COMMIT');
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

  async close(): Promise<void> {
    await this.pool.end();
  }
}

class PgTransactionExecutor implements SqlExecutor {
  readonly dialect = 'postgres' as const;

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
