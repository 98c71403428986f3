import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EVENTS_APPENDED_CHANNEL } from './append-events';
import { PostgresEventStore } from './postgres-event-store.adapter';
import type { SqlExecutor } from './sql-executor.port';
import { createPgExecutor, type PgSqlExecutor } from './pg-sql-executor.adapter';
import { anEvent, backends, newStreamId, openPostgres } from './testing/event-store-backends';
import { eventStoreForSuite } from './testing/suite-event-store';

const databaseUrlOf = (sql: SqlExecutor): string => String((sql as PgSqlExecutor).pool.options.connectionString);

/** Resolves at the next notice on the channel (false after `ms`). */
const nextNotice = (sql: SqlExecutor, ms = 10_000) =>
  new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => void stop.then((off) => off()).then(() => resolve(false)), ms);
    const stop = (sql.listen as NonNullable<SqlExecutor['listen']>).call(sql, EVENTS_APPENDED_CHANNEL, () => {
      clearTimeout(timer);
      void stop.then((off) => off()).then(() => resolve(true));
    });
  });

describe.each(backends)('append announcements on %s', (_, open) => {
  let sql: SqlExecutor;
  let store: PostgresEventStore;
  eventStoreForSuite(open, (opened) => void ({ sql, store } = opened));

  it('wakes the listeners of this process when an append commits', async () => {
    const heard = nextNotice(sql);
    await new Promise((resolve) => setTimeout(resolve, 50)); // the LISTEN is in place
    await store.appendToStream(newStreamId(), [anEvent()], { expectedVersion: 0 });
    expect(await heard).toBe(true);
  });

  it('holds an announcement made inside a transaction until its commit, and drops it on rollback', async () => {
    let heard = false;
    const off = await (sql.listen as NonNullable<SqlExecutor['listen']>).call(sql, EVENTS_APPENDED_CHANNEL, () => (heard = true));
    try {
      // The earlier test's append may still be on its way back as a server notice (late on a
      // loaded machine): wait for the channel to fall quiet before listening for this test's.
      for (let quiet = 0, tries = 0; quiet < 5 && tries < 100; tries += 1) {
        heard = false;
        await new Promise((resolve) => setTimeout(resolve, 100));
        quiet = heard ? 0 : quiet + 1;
      }
      heard = false;
      await expect(
        sql.transaction(async (tx) => {
          await new PostgresEventStore(tx).appendToStream(newStreamId(), [anEvent()], { expectedVersion: 0 });
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(heard).toBe(false);
      await sql.transaction(async (tx) => {
        await new PostgresEventStore(tx).appendToStream(newStreamId(), [anEvent()], { expectedVersion: 0 });
        expect(heard).toBe(false);
      });
      expect(heard).toBe(true);
    } finally {
      await off();
    }
  });
});

describe('append announcements across processes (postgres)', () => {
  let writer: SqlExecutor;
  let reader: SqlExecutor;
  beforeAll(async () => {
    // Two pools on one database (NOTIFY does not cross databases): two processes, as far as it goes.
    writer = await openPostgres(4);
    reader = createPgExecutor(databaseUrlOf(writer), { max: 4 });
  });
  afterAll(async () => {
    await writer.close();
    await reader.close();
  });

  it('reaches another pool by a NOTIFY sent after the commit, with no trigger in the appending transaction', async () => {
    const [trigger] = await reader.query(`SELECT 1 FROM pg_trigger WHERE tgname = 'events_notify_appended'`);
    expect(trigger).toBeUndefined();
    const heard = nextNotice(reader);
    await new Promise((resolve) => setTimeout(resolve, 200)); // the LISTEN is in place
    await new PostgresEventStore(writer).appendToStream(newStreamId(), [anEvent()], { expectedVersion: 0 });
    expect(await heard).toBe(true);
  });

  it('carries each announcement\'s detail to the other pool, coalesced ones joined, within a transaction merged', async () => {
    const channel = 'nexus_detail_test';
    const heard: string[] = [];
    const off = await (reader.listen as NonNullable<SqlExecutor['listen']>).call(reader, channel, (detail) => heard.push(detail));
    try {
      await new Promise((resolve) => setTimeout(resolve, 200)); // the LISTEN is in place
      // Announced back to back: the first goes at once, the next two wait for it and go as one.
      writer.announce?.(channel, '1');
      writer.announce?.(channel, '2');
      writer.announce?.(channel, '3');
      await writer.transaction(async (tx) => {
        tx.announce?.(channel, '4');
        tx.announce?.(channel, '5');
      });
      const deadline = Date.now() + 10_000;
      while (heard.join(',').split(',').length < 5 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(heard.join(',').split(',').sort()).toEqual(['1', '2', '3', '4', '5']);
      expect(heard.length).toBeLessThan(5);
      // One without a detail makes the coalesced notice say nothing: listeners must look themselves.
      heard.length = 0;
      writer.announce?.(channel, '6');
      writer.announce?.(channel, '7');
      writer.announce?.(channel);
      while (heard.length < 2 && Date.now() < deadline + 10_000) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(heard).toEqual(['6', '']);
    } finally {
      await off();
    }
  });
});
