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
  /**
   * Tells the channel's listeners that something they read was committed: those of this process
   * at once, those of other processes by a `NOTIFY` sent afterwards on its own, coalesced (one in
   * flight per channel, one more if announced meanwhile). Never inside the writer's transaction:
   * a NOTIFY there takes PostgreSQL's global notify-queue lock at commit and makes every writing
   * transaction on the server commit one at a time. Inside `transaction`, it waits for the COMMIT
   * (and is dropped on rollback).
   */
  announce?(channel: string): void;
  close(): Promise<void>;
}

/**
 * The listeners of one process, by channel, and the coalesced cross-process `NOTIFY` behind
 * `announce` (none for PGlite: it is one process).
 */
export class Announcements {
  private readonly subscribers = new Map<string, Set<() => void>>();
  private readonly sending = new Map<string, 'one' | 'one-more'>();

  constructor(private readonly notifyOthers?: (channel: string) => Promise<unknown>) {}

  subscribe(channel: string, onNotify: () => void): { first: boolean; unsubscribe: () => boolean } {
    const set = this.subscribers.get(channel) ?? new Set<() => void>();
    this.subscribers.set(channel, set);
    set.add(onNotify);
    return {
      first: set.size === 1,
      unsubscribe: () => {
        set.delete(onNotify);
        return set.size === 0;
      },
    };
  }

  /** Wakes this process's listeners of `channel`: a NOTIFY heard from another process, say. */
  deliver(channel: string): void {
    for (const notify of this.subscribers.get(channel) ?? []) notify();
  }

  announce(channel: string): void {
    this.deliver(channel);
    if (this.notifyOthers === undefined) return;
    const state = this.sending.get(channel);
    if (state !== undefined) {
      this.sending.set(channel, 'one-more');
      return;
    }
    this.sending.set(channel, 'one');
    const send = (): void => {
      // Best effort, like every notice: listeners poll as well.
      void this.notifyOthers?.(channel)
        .catch(() => undefined)
        .then(() => {
          if (this.sending.get(channel) === 'one-more') {
            this.sending.set(channel, 'one');
            send();
          } else this.sending.delete(channel);
        });
    };
    send();
  }
}

export const SQL_EXECUTOR = Symbol('SqlExecutor');

/** The SQLSTATE of a driver error (both drivers expose `code`), if any. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export const UNIQUE_VIOLATION = '23505';
export const DEADLOCK_DETECTED = '40P01';
