import { createHash } from 'node:crypto';
import pg from 'pg';
import { Announcements, TransactionExecutor, type SqlExecutor } from './sql-executor.port';

type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

/** Backoff of the listening connection's reconnects while the database is away. */
const RELISTEN_MIN_MS = 100;
const RELISTEN_MAX_MS = 2000;

/** A `SqlExecutor` over a `pg.Pool`; transactions hold one pooled client from BEGIN to COMMIT. */
export class PgSqlExecutor implements SqlExecutor {
  readonly dialect = 'postgres' as const;

  private listener: Promise<pg.PoolClient> | undefined;
  /** Channels this process listens on: LISTENed again on every new listening connection. */
  private readonly listening = new Set<string>();
  private readonly announcements: Announcements;
  private listenQueue: Promise<void> = Promise.resolve();
  private relisten: NodeJS.Timeout | undefined;
  private relistenDelayMs = RELISTEN_MIN_MS;
  /** Releases the current listening client, once (its 'error' and 'end' both report a loss). */
  private dropListener: (() => void) | undefined;
  private closed = false;

  constructor(readonly pool: pg.Pool) {
    this.announcements = new Announcements((channel, detail) => pool.query('SELECT pg_notify($1, $2)', [channel, detail]));
  }

  async query<R>(text: string, params?: unknown[]): Promise<R[]> {
    return (await this.pool.query(prepared(text, params))).rows as R[];
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
      tx.announced.flush((channel, detail) => this.announce(channel, detail));
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
   * consumers sharing a pool do not each hold a connection for it. When that connection is lost
   * (a database restart), a new one is opened with backoff and LISTENs again, and every
   * subscriber is woken once: a notice may have been sent while nobody listened. A database that
   * is down when a subscriber arrives is not an error either: the same loop picks it up.
   */
  async listen(channel: string, onNotify: (detail: string) => void): Promise<() => Promise<void>> {
    const subscription = this.announcements.subscribe(channel, onNotify);
    if (subscription.first) {
      this.listening.add(channel);
      await this.onListener(`LISTEN ${pg.escapeIdentifier(channel)}`, true);
    }
    return async () => {
      if (!subscription.unsubscribe()) return;
      this.listening.delete(channel);
      await this.onListener(`UNLISTEN ${pg.escapeIdentifier(channel)}`, false);
    };
  }

  /**
   * One statement at a time on the listening client (subscribers come and go concurrently). A
   * failure is left to the reconnect loop, which LISTENs on every channel still wanted.
   */
  private onListener(statement: string, connect: boolean): Promise<void> {
    this.listenQueue = this.listenQueue
      .then(async () => {
        if (!connect && this.listener === undefined) return;
        const client = await this.listeningClient();
        await client.query(statement);
      })
      .catch(() => this.scheduleRelisten());
    return this.listenQueue;
  }

  private listeningClient(): Promise<pg.PoolClient> {
    this.listener ??= this.openListener().catch((error: unknown) => {
      this.listener = undefined;
      throw error;
    });
    return this.listener;
  }

  private async openListener(): Promise<pg.PoolClient> {
    const client = await this.pool.connect();
    let released = false;
    const lost = (): void => {
      if (released) return;
      released = true;
      // Only the current listener's loss matters; a replaced one is already gone.
      if (this.listener === current) this.listener = undefined;
      client.release(true);
      this.scheduleRelisten();
    };
    const current = Promise.resolve(client);
    this.dropListener = lost;
    client.on('notification', (message) => this.announcements.deliver(message.channel, message.payload ?? ''));
    client.on('error', lost);
    client.on('end', lost);
    try {
      for (const channel of this.listening) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    } catch (error) {
      lost();
      throw error;
    }
    this.listener = current;
    return client;
  }

  private scheduleRelisten(): void {
    if (this.closed || this.relisten !== undefined || this.listening.size === 0) return;
    this.relisten = setTimeout(() => {
      this.relisten = undefined;
      if (this.closed || this.listener !== undefined) return;
      this.listeningClient().then(
        () => {
          this.relistenDelayMs = RELISTEN_MIN_MS;
          for (const channel of this.listening) this.announcements.deliver(channel);
        },
        () => {
          this.relistenDelayMs = Math.min(this.relistenDelayMs * 2, RELISTEN_MAX_MS);
          this.scheduleRelisten();
        },
      );
    }, this.relistenDelayMs);
    this.relisten.unref();
  }

  announce(channel: string, detail?: string): void {
    this.announcements.announce(channel, detail);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.relisten);
    const listener = await this.listener?.catch(() => undefined);
    this.listener = undefined;
    if (listener !== undefined) this.dropListener?.();
    await this.pool.end();
  }
}

class PgTransactionExecutor extends TransactionExecutor {
  readonly dialect = 'postgres' as const;

  constructor(private readonly client: Queryable) {
    super();
  }

  async query<R>(text: string, params?: unknown[]): Promise<R[]> {
    return (await this.client.query(prepared(text, params))).rows as R[];
  }

  async exec(sql: string): Promise<void> {
    await this.client.query(sql);
  }
}

const statementNames = new Map<string, string>();
const MAX_PREPARED = 1000;

/**
 * A parameterised statement goes as a named prepared statement: each connection parses and plans
 * it once, then only binds and executes. Nexus's statements are few and fixed (their texts vary
 * only with batch sizes), and on a small server parsing them again for every call cost more
 * than running most of them. Statements without parameters (BEGIN, DDL) go as they are.
 */
function prepared(text: string, params: unknown[] | undefined): pg.QueryConfig {
  if (params === undefined || params.length === 0) return { text };
  let name = statementNames.get(text);
  if (name === undefined) {
    // A bound on what each connection keeps prepared, should some caller build texts per call.
    if (statementNames.size >= MAX_PREPARED) return { text, values: params };
    name = `nexus_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    statementNames.set(text, name);
  }
  return { name, text, values: params };
}

/** Opens a pool on `url`; size it for the concurrency the process needs (`max`, default 10). */
export function createPgExecutor(url: string, options: { max?: number } = {}): PgSqlExecutor {
  // Prepared statements (see `prepared`) keep being planned for their parameters: a generic plan
  // chosen on stale statistics would read a whole consumer's inbox to find a few of its rows.
  const serverOptions = [new URL(url).searchParams.get('options'), '-c plan_cache_mode=force_custom_plan'].filter(Boolean).join(' ');
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10, options: serverOptions });
  // An idle client's error (server restart) must not crash the process; the next query fails.
  pool.on('error', () => undefined);
  // Nor a checked-out one's: the pool listens only while a client is idle, and a client emitting
  // 'error' with no listener (a transaction's or a lock holder's, when the server goes away)
  // would end the process. Its pending query fails with the error; the holder releases it broken.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return new PgSqlExecutor(pool);
}
