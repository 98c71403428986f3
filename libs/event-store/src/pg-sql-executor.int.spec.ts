import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createPgExecutor, type PgSqlExecutor } from './pg-sql-executor.adapter';
import { openPostgres } from './testing/event-store-backends';

const CHANNEL = 'nexus_test_reconnect';

/** Ends every other session of this database whose last statement matches `like`, as a server restart would. */
async function terminateSessions(admin: PgSqlExecutor, like: string): Promise<number> {
  const rows = await admin.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE $1`,
    [like],
  );
  // With a timeout, pg_terminate_backend waits until the session is gone: a statement sent on it
  // afterwards must find it cut, however slowly a busy server gets round to the signal.
  for (const { pid } of rows) await admin.query('SELECT pg_terminate_backend($1, 10000)', [pid]);
  return rows.length;
}

const until = async (condition: () => boolean, ms = 10_000): Promise<boolean> => {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  return condition();
};

describe('the PostgreSQL executor when its connections are cut', () => {
  let sql: PgSqlExecutor;
  let admin: PgSqlExecutor;
  beforeAll(async () => {
    admin = (await openPostgres(2)) as PgSqlExecutor;
    sql = createPgExecutor(String(admin.pool.options.connectionString), { max: 4 });
  });
  afterAll(async () => {
    await sql.close();
    await admin.close();
  });

  it('listens again on a new connection, and wakes its listeners once in case a notice was missed', async () => {
    let heard = 0;
    const off = await sql.listen(CHANNEL, () => (heard += 1));
    expect(await terminateSessions(admin, `LISTEN%${CHANNEL}%`)).toBe(1);

    // The wake-up after the reconnect: a notice sent while nobody listened would be lost.
    expect(await until(() => heard === 1)).toBe(true);
    // And notices are heard again, on the new session.
    await admin.query('SELECT pg_notify($1, $2)', [CHANNEL, '']);
    expect(await until(() => heard === 2)).toBe(true);
    await off();
  });

  it('fails a transaction whose connection is cut, without an unhandled error, and serves the next one', async () => {
    const cut = sql.transaction(async (tx) => {
      await tx.query('SELECT 1 AS marker_for_cut');
      await terminateSessions(admin, '%marker_for_cut%');
      await tx.query('SELECT 2');
    });
    // Cut while the statement ran ("terminating connection") or before it was sent ("connection error").
    await expect(cut).rejects.toThrow(/terminat|connection error/i);
    // A client erroring while checked out used to be an unhandled 'error' event: the process died.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await sql.transaction((tx) => tx.query<{ ok: number }>('SELECT 1 AS ok'))).toEqual([{ ok: 1 }]);
  });
});
