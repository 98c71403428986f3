/**
 * The one seam between the store's SQL and a database: node-postgres over a real server, or
 * PGlite in process. Every statement the store runs is written once against this port and must
 * run unchanged on both.
 */
export interface SqlExecutor {
  readonly dialect: 'postgres' | 'pglite';
  /** One statement with `$n` parameters; rows come back as the driver parsed them. */
  query<R>(text: string, params?: unknown[]): Promise<R[]>;
  /** Several `;`-separated statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * Runs `fn` in one transaction on one connection, committing when it resolves and rolling back
   * when it throws. Inside, `tx.transaction` joins the same transaction.
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * Calls `onNotify` for every `NOTIFY` on `channel` until the returned function is called.
   * Absent inside a transaction. Best effort: a notification can be missed (a reconnect), so
   * listeners poll as well.
   */
  listen?(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export const SQL_EXECUTOR = Symbol('SqlExecutor');

/** The SQLSTATE of a driver error (both drivers expose `code`), if any. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export const UNIQUE_VIOLATION = '23505';
export const DEADLOCK_DETECTED = '40P01';
