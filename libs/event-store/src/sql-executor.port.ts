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
  listen?(channel: string, onNotify: (detail: string) => void): Promise<() => Promise<void>>;
  /**
   * Tells the channel's listeners that something they read was committed: those of this process
   * at once, those of other processes by a `NOTIFY` sent afterwards on its own, coalesced (one in
   * flight per channel, one more if announced meanwhile). Never inside the writer's transaction:
   * a NOTIFY there takes PostgreSQL's global notify-queue lock at commit and makes every writing
   * transaction on the server commit one at a time. Inside `transaction`, it waits for the COMMIT
   * (and is dropped on rollback).
   *
   * `detail` travels with the notice (the projector says which positions it applied, so readers
   * waiting for them need not ask the database). Notices coalesced in flight carry their details
   * joined by commas; a listener gets an empty detail when any of them had none, when they would
   * not fit in one notice, or after a reconnect — and then must look for itself.
   */
  announce?(channel: string, detail?: string): void;
  close(): Promise<void>;
}

/**
 * The listeners of one process, by channel, and the coalesced cross-process `NOTIFY` behind
 * `announce` (none for PGlite: it is one process).
 */
export class Announcements {
  private readonly subscribers = new Map<string, Set<(detail: string) => void>>();
  /** Per channel with a NOTIFY in flight: the details announced since it left (null: one had none). */
  private readonly pending = new Map<string, { details: string[] | null } | 'none'>();

  constructor(private readonly notifyOthers?: (channel: string, detail: string) => Promise<unknown>) {}

  subscribe(channel: string, onNotify: (detail: string) => void): { first: boolean; unsubscribe: () => boolean } {
    const set = this.subscribers.get(channel) ?? new Set<(detail: string) => void>();
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
  deliver(channel: string, detail = ''): void {
    for (const notify of this.subscribers.get(channel) ?? []) notify(detail);
  }

  announce(channel: string, detail = ''): void {
    this.deliver(channel, detail);
    if (this.notifyOthers === undefined) return;
    const inFlight = this.pending.get(channel);
    if (inFlight !== undefined) {
      const details = inFlight === 'none' ? [] : inFlight.details;
      this.pending.set(channel, { details: details === null || detail === '' ? null : [...details, detail] });
      return;
    }
    this.pending.set(channel, 'none');
    const send = (payload: string): void => {
      // Best effort, like every notice: listeners poll as well.
      void this.notifyOthers?.(channel, payload)
        .catch(() => undefined)
        .then(() => {
          const next = this.pending.get(channel);
          if (next === undefined || next === 'none') {
            this.pending.delete(channel);
            return;
          }
          this.pending.set(channel, 'none');
          send(joinDetails(next.details));
        });
    };
    send(detail);
  }
}

/** PostgreSQL refuses NOTIFY payloads of 8,000 bytes or more; past this, listeners look instead. */
const MAX_NOTICE_DETAIL = 7_000;

function joinDetails(details: readonly string[] | null): string {
  const joined = details?.join(',') ?? '';
  return joined.length > MAX_NOTICE_DETAIL ? '' : joined;
}

/** What a transaction announced, sent once it commits (each channel once, details joined). */
export class TransactionAnnouncements {
  private readonly byChannel = new Map<string, string[] | null>();

  add(channel: string, detail = ''): void {
    const details = this.byChannel.has(channel) ? this.byChannel.get(channel) : [];
    this.byChannel.set(channel, details === null || details === undefined || detail === '' ? null : [...details, detail]);
  }

  flush(announce: (channel: string, detail: string) => void): void {
    for (const [channel, details] of this.byChannel) announce(channel, joinDetails(details));
  }
}

/**
 * The executor a transaction hands its callback: statements on the transaction's connection (the
 * adapter's part), nested transactions joining it, announcements held until its COMMIT.
 */
export abstract class TransactionExecutor implements SqlExecutor {
  abstract readonly dialect: SqlExecutor['dialect'];
  /** Announced inside the transaction: sent after its COMMIT. */
  readonly announced = new TransactionAnnouncements();

  abstract query<R>(text: string, params?: unknown[]): Promise<R[]>;
  abstract exec(sql: string): Promise<void>;

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
 * PGlite's executors, in this thread or another: every writer of a PGlite database is in this
 * process and announces its commits here, so announcing is calling the listeners.
 */
export abstract class PgliteExecutor {
  readonly dialect = 'pglite' as const;
  private readonly announcements = new Announcements();

  async listen(channel: string, onNotify: (detail: string) => void): Promise<() => Promise<void>> {
    const subscription = this.announcements.subscribe(channel, onNotify);
    return async () => {
      subscription.unsubscribe();
    };
  }

  announce(channel: string, detail?: string): void {
    this.announcements.announce(channel, detail);
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
