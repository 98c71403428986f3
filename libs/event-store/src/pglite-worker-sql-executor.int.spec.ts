import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EVENTS_APPENDED_CHANNEL } from './append-events';
import { WrongExpectedVersionError } from './event-store.errors';
import { migrate } from './migration-runner';
import { openDatabase } from './open-database';
import { PgliteWorkerSqlExecutor } from './pglite-worker-sql-executor.adapter';
import { PostgresEventStore } from './postgres-event-store.adapter';
import { sqlState, UNIQUE_VIOLATION, type SqlExecutor } from './sql-executor.port';
import { anEvent } from './testing/an-event';
import { verifyChain } from './verify-chain';

describe('the embedded database in a thread of its own', () => {
  let dir: string;
  let sql: SqlExecutor;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nexus-pglite-worker-'));
    sql = await openDatabase({ databaseUrl: undefined, dataDir: dir, poolSize: 1 });
  });
  afterAll(async () => {
    await sql.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is what an app without a database URL opens, migrated', async () => {
    expect(sql).toBeInstanceOf(PgliteWorkerSqlExecutor);
    expect(sql.dialect).toBe('pglite');
    const [row] = await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'events'`);
    expect(row?.n).toBe(1);
  });

  it('runs the event store: appends, conflicts, reads and the hash chain', async () => {
    const store = new PostgresEventStore(sql);
    const first = await store.appendToStream('worker-1', [anEvent({ n: 1 }), anEvent({ n: 2 })], { expectedVersion: 0 });
    expect(first.nextExpectedVersion).toBe(2);
    await expect(store.appendToStream('worker-1', [anEvent({ n: 3 })], { expectedVersion: 1 })).rejects.toBeInstanceOf(WrongExpectedVersionError);
    // Concurrent appends (they coalesce into one statement) all land, in order per stream.
    await Promise.all(Array.from({ length: 10 }, (_, i) => store.appendToStream(`worker-many-${i}`, [anEvent({ i })], { expectedVersion: 0 })));
    expect((await store.readStream('worker-1')).map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }]);
    expect((await verifyChain(sql, {})).failures).toEqual([]);
  });

  it('gives PostgreSQL errors with their SQLSTATE, as the store tells conflicts by it', async () => {
    await sql.exec('CREATE TABLE worker_unique (id int PRIMARY KEY)');
    await sql.query('INSERT INTO worker_unique VALUES (1)');
    const error = await sql.query('INSERT INTO worker_unique VALUES (1)').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(sqlState(error)).toBe(UNIQUE_VIOLATION);
  });

  it('refuses a parameter the thread cannot receive, and carries on', async () => {
    const error = await sql.query('SELECT $1::text AS v', [() => 'a function']).catch((e: unknown) => e);
    expect((error as Error).name).toBe('DataCloneError');
    expect(await sql.query<{ v: string }>('SELECT $1::text AS v', ['next'])).toEqual([{ v: 'next' }]);
  });

  it('commits a transaction whole, rolls it back on a throw, and announces only what committed', async () => {
    await sql.exec('CREATE TABLE worker_tx (n int)');
    const heard: string[] = [];
    const off = await (sql.listen?.(EVENTS_APPENDED_CHANNEL, (detail) => heard.push(detail)) ?? Promise.resolve(async () => undefined));
    await sql.transaction(async (tx) => {
      await tx.query('INSERT INTO worker_tx VALUES (1)');
      await tx.query('INSERT INTO worker_tx VALUES (2)');
      tx.announce?.(EVENTS_APPENDED_CHANNEL, 'kept');
    });
    await expect(
      sql.transaction(async (tx) => {
        await tx.query('INSERT INTO worker_tx VALUES (3)');
        tx.announce?.(EVENTS_APPENDED_CHANNEL, 'dropped');
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    await off();
    expect((await sql.query<{ n: number }>('SELECT n FROM worker_tx ORDER BY n')).map((r) => r.n)).toEqual([1, 2]);
    expect(heard).toEqual(['kept']);
  });

  it('keeps a transaction to itself: a statement from outside waits until it ends', async () => {
    await sql.exec('CREATE TABLE worker_isolation (n int)');
    const order: string[] = [];
    let inside!: () => void;
    const holding = new Promise<void>((resolve) => (inside = resolve));
    const transaction = sql.transaction(async (tx) => {
      await tx.query('INSERT INTO worker_isolation VALUES (1)');
      inside();
      await new Promise((resolve) => setTimeout(resolve, 100));
      order.push('transaction ends');
    });
    await holding;
    const outside = sql.query<{ n: number }>('SELECT count(*)::int AS n FROM worker_isolation').then((rows) => {
      order.push('outside reads');
      return rows[0]?.n;
    });
    await transaction;
    expect(await outside).toBe(1);
    expect(order).toEqual(['transaction ends', 'outside reads']);
  });

  it('leaves the event loop free while a long statement runs', async () => {
    let ticks = 0;
    const timer = setInterval(() => (ticks += 1), 10);
    const started = performance.now();
    // Seconds of work for the database's thread; on the main thread it would allow no tick at all.
    await sql.query('SELECT count(*) FROM generate_series(1, 3000000) AS g(n) WHERE n % 7 = 3');
    const elapsed = performance.now() - started;
    clearInterval(timer);
    expect(elapsed).toBeGreaterThan(100);
    // Generous: a loaded machine runs few of the ticks due, but more than none.
    expect(ticks).toBeGreaterThan(2);
  });

  it('persists in its data directory: a new thread opens what the last one wrote', async () => {
    const other = mkdtempSync(join(tmpdir(), 'nexus-pglite-worker-reopen-'));
    try {
      const first = await PgliteWorkerSqlExecutor.open(join(other, 'pgdata'));
      await migrate(first);
      await new PostgresEventStore(first).appendToStream('kept-1', [anEvent({ kept: true })], { expectedVersion: 0 });
      await first.close();
      const second = await PgliteWorkerSqlExecutor.open(join(other, 'pgdata'));
      expect((await new PostgresEventStore(second).readStream('kept-1')).map((e) => e.data)).toEqual([{ kept: true }]);
      await second.close();
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
