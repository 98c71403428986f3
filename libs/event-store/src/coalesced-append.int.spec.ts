import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { NewEvent } from '@nexus/events';
import { EventIdConflictError, WrongExpectedVersionError } from './event-store.errors';
import type { AppendResult } from './event-store.port';
import { createPgExecutor, type PgSqlExecutor } from './pg-sql-executor.adapter';
import { PostgresEventStore } from './postgres-event-store.adapter';
import type { SqlExecutor } from './sql-executor.port';
import { anEvent, backends, gate, newStreamId, openPostgres } from './testing/event-store-backends';
import { eventStoreForSuite } from './testing/suite-event-store';

const databaseUrlOf = (sql: SqlExecutor): string => String((sql as PgSqlExecutor).pool.options.connectionString);

/** A store whose appends queue behind one batch in flight: what is started together goes together. */
const oneInFlight = (sql: SqlExecutor): PostgresEventStore => new PostgresEventStore(sql, { appendCoalescing: { batchesInFlight: 1 } });

/** Keeps the store's one batch slot busy with a lone append, so the appends started next queue and go as one batch. */
const occupy = (store: PostgresEventStore): Promise<AppendResult> => store.appendToStream(newStreamId('occupy'), [anEvent()], { expectedVersion: 0 });

/** Text that array literals and JSON both escape (quotes, backslashes, braces, commas), for the batch to carry intact. */
const awkward = 'say "hi", {then} \\ leave\\ – ünïcödé 🎉 \n NULL';

const events = (n: number): NewEvent[] => Array.from({ length: n }, (_, i) => anEvent({ i, awkward, nothing: null, list: [awkward, 1.5] }));

async function rowsOf(sql: SqlExecutor, streamId: string): Promise<number> {
  const [row] = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE stream_id = $1', [streamId]);
  return row?.n ?? 0;
}

async function rowsOfTransaction(sql: SqlExecutor, transactionId: string): Promise<number> {
  const [row] = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE transaction_id = $1::xid8', [transactionId]);
  return row?.n ?? 0;
}

describe.each(backends)('coalesced appends on %s', (_name, open) => {
  let sql: SqlExecutor;
  let store: PostgresEventStore;
  eventStoreForSuite(open, (opened) => void ({ sql, store } = opened));

  it('stores appends started together in fewer transactions, each with its own result and an intact chain', async () => {
    // Half of the streams exist (the store remembers their heads), half are new.
    const existing = await Promise.all(Array.from({ length: 10 }, async () => {
      const streamId = newStreamId('existing');
      await store.appendToStream(streamId, events(2), { expectedVersion: 0 });
      return streamId;
    }));
    const requests = [
      ...existing.map((streamId, i) => ({ streamId, expectedVersion: 2, events: events(1 + (i % 3)) })),
      ...Array.from({ length: 10 }, (_, i) => ({ streamId: newStreamId('new'), expectedVersion: 0, events: events(1 + (i % 3)) })),
    ];

    const results = await Promise.all(requests.map((r) => store.appendToStream(r.streamId, r.events, { expectedVersion: r.expectedVersion })));

    for (const [i, result] of results.entries()) {
      const request = requests[i];
      if (request === undefined) throw new Error('no request');
      expect(result.streamId).toBe(request.streamId);
      expect(result.nextExpectedVersion).toBe(request.expectedVersion + request.events.length);
      expect(result.events.map((e) => e.id)).toEqual(request.events.map((e) => e.id));
      expect(result.lastPosition).toBe(Math.max(...result.events.map((e) => e.globalPosition)));
      const positions = result.events.map((e) => e.globalPosition);
      expect(positions).toEqual([...positions].sort((x, y) => x - y));
      expect(await store.readStream(request.streamId, { fromVersion: request.expectedVersion + 1 })).toEqual(result.events);
    }
    const transactions = new Set(results.flatMap((r) => r.events.map((e) => e.transactionId)));
    expect(transactions.size).toBeLessThan(requests.length);
    expect((await store.verifyChain()).failures).toEqual([]);
    // The heads the batch stored are remembered: the next append chains onto them.
    const [batched] = results;
    if (batched === undefined) throw new Error('no result');
    const next = await store.appendToStream(batched.streamId, [anEvent()], { expectedVersion: batched.nextExpectedVersion });
    expect(next.events[0]?.prevHash).toBe(batched.events[batched.events.length - 1]?.hash);
  });

  it('refuses only the request with a stale expected version, and stores the rest of its batch', async () => {
    const batching = oneInFlight(sql);
    const taken = newStreamId('taken');
    const moved = newStreamId('moved');
    await batching.appendToStream(taken, [anEvent()], { expectedVersion: 0 });
    await batching.appendToStream(moved, [anEvent()], { expectedVersion: 0 });
    // Another writer moves `moved` on: `batching` still remembers it at version 1.
    await new PostgresEventStore(sql).appendToStream(moved, [anEvent()], { expectedVersion: 1 });

    const busy = occupy(batching);
    const fine = [newStreamId('a'), newStreamId('b')].map((streamId) => batching.appendToStream(streamId, [anEvent()], { expectedVersion: 0 }));
    const takenAgain = batching.appendToStream(taken, [anEvent()], { expectedVersion: 0 });
    const movedStale = batching.appendToStream(moved, [anEvent()], { expectedVersion: 1 });
    const stored = await Promise.all(fine);
    await busy;

    await expect(takenAgain).rejects.toMatchObject({ name: 'WrongExpectedVersionError', expectedVersion: 0, actualVersion: 1 });
    await expect(movedStale).rejects.toMatchObject({ name: 'WrongExpectedVersionError', expectedVersion: 1, actualVersion: 2 });
    expect(stored[0]?.events[0]?.transactionId).toBe(stored[1]?.events[0]?.transactionId);
    expect(await rowsOf(sql, taken)).toBe(1);
    expect(await rowsOf(sql, moved)).toBe(2);
    // The stale head is forgotten: the next append with the right version goes in.
    expect((await batching.appendToStream(moved, [anEvent()], { expectedVersion: 2 })).nextExpectedVersion).toBe(3);
  });

  it('replays a retried append inside a batch and writes nothing for it', async () => {
    const batching = oneInFlight(sql);
    const streamId = newStreamId('retried');
    const original = events(2);
    const first = await batching.appendToStream(streamId, original, { expectedVersion: 0 });

    const busy = occupy(batching);
    const others = [newStreamId('c'), newStreamId('d')].map((id) => batching.appendToStream(id, [anEvent()], { expectedVersion: 0 }));
    const retry = batching.appendToStream(streamId, original, { expectedVersion: 0 });
    await busy;

    expect(await retry).toEqual(first);
    const stored = await Promise.all(others);
    expect(stored.map((r) => r.nextExpectedVersion)).toEqual([1, 1]);
    expect(stored[0]?.events[0]?.transactionId).toBe(stored[1]?.events[0]?.transactionId);
    expect(await rowsOf(sql, streamId)).toBe(2);
  });

  it('sends the batch again alone when its event ids are stored already: the retry replays, the misplaced ids are refused', async () => {
    const batching = oneInFlight(sql);
    const streamId = newStreamId('retried');
    const original = [anEvent()];
    const first = await batching.appendToStream(streamId, original, { expectedVersion: 0 });
    const elsewhere = newStreamId('elsewhere');
    await batching.appendToStream(elsewhere, [anEvent()], { expectedVersion: 0 });

    // Both chain onto their remembered heads, so the statement takes their rows and the unique
    // index on event ids fails it.
    const busy = occupy(batching);
    const other = batching.appendToStream(newStreamId('e'), [anEvent()], { expectedVersion: 0 });
    const retry = batching.appendToStream(streamId, original, { expectedVersion: 1 });
    const misplaced = batching.appendToStream(elsewhere, original, { expectedVersion: 1 });
    await busy;

    expect(await retry).toEqual(first);
    await expect(misplaced).rejects.toThrow(EventIdConflictError);
    expect((await other).nextExpectedVersion).toBe(1);
    expect(await rowsOf(sql, streamId)).toBe(1);
    expect(await rowsOf(sql, elsewhere)).toBe(1);
  });

  it('refuses a request that repeats an event id, alone', async () => {
    const batching = oneInFlight(sql);
    const busy = occupy(batching);
    const event = anEvent();
    const repeated = batching.appendToStream(newStreamId('repeated'), [event, event], { expectedVersion: 0 });
    const other = batching.appendToStream(newStreamId('f'), [anEvent()], { expectedVersion: 0 });
    await busy;

    await expect(repeated).rejects.toThrow(EventIdConflictError);
    expect((await other).nextExpectedVersion).toBe(1);
  });

  it('splits what is queued into batches of at most the configured rows, and sends a larger request alone', async () => {
    const batching = new PostgresEventStore(sql, { appendCoalescing: { batchesInFlight: 1, maxBatchRows: 3 } });
    const busy = occupy(batching);
    const small = Array.from({ length: 5 }, () => batching.appendToStream(newStreamId('small'), [anEvent()], { expectedVersion: 0 }));
    const large = batching.appendToStream(newStreamId('large'), events(4), { expectedVersion: 0 });
    await busy;

    const transactionOf = (result: AppendResult): string => result.events[0]?.transactionId ?? '';
    const batches = (await Promise.all(small)).map(transactionOf);
    expect(batches.map((id) => batches.filter((other) => other === id).length)).toEqual([3, 3, 3, 2, 2]);
    const alone = await large;
    expect(await rowsOfTransaction(sql, transactionOf(alone))).toBe(4);
  });

  it('sends a lone append at once, in its own transaction', async () => {
    const streamId = newStreamId('lone');
    const first = await store.appendToStream(streamId, events(2), { expectedVersion: 0 });
    const second = await store.appendToStream(streamId, [anEvent()], { expectedVersion: 2 });

    for (const result of [first, second]) {
      const transactionId = result.events[0]?.transactionId ?? '';
      expect(result.events.every((e) => e.transactionId === transactionId)).toBe(true);
      expect(await rowsOfTransaction(sql, transactionId)).toBe(result.events.length);
    }
    expect(first.events[0]?.transactionId).not.toBe(second.events[0]?.transactionId);
  });

  it('keeps a second request for a stream out of the batch its first is in', async () => {
    const batching = oneInFlight(sql);
    const streamId = newStreamId('twice');
    const busy = occupy(batching);
    const both = [0, 0].map(() => batching.appendToStream(streamId, [anEvent()], { expectedVersion: 0 }));
    await busy;

    const outcomes = await Promise.allSettled(both);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected']);
    expect(outcomes[1]?.status === 'rejected' && outcomes[1].reason instanceof WrongExpectedVersionError).toBe(true);
    expect(await rowsOf(sql, streamId)).toBe(1);
  });
});

describe('coalesced appends from two processes on postgres', () => {
  let first: SqlExecutor;
  let second: SqlExecutor;
  beforeAll(async () => {
    // Two pools on one database: two processes, as far as the event store can tell.
    first = await openPostgres(8);
    second = createPgExecutor(databaseUrlOf(first), { max: 8 });
  });
  afterAll(async () => {
    await first.close();
    await second.close();
  });

  it('lets exactly one batch create a stream both race for, and stores the rest of both batches', async () => {
    const stores = [oneInFlight(first), oneInFlight(second)];
    const contested = newStreamId('contested');
    const busy = stores.map(occupy);
    const batches = stores.map((store) => ({
      contested: store.appendToStream(contested, [anEvent()], { expectedVersion: 0 }),
      others: [newStreamId('g'), newStreamId('h')].map((id) => store.appendToStream(id, [anEvent()], { expectedVersion: 0 })),
    }));
    await Promise.all(busy);

    const outcomes = await Promise.allSettled(batches.map((b) => b.contested));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const lost = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(lost?.reason).toBeInstanceOf(WrongExpectedVersionError);
    const others = await Promise.all(batches.flatMap((b) => b.others));
    expect(others.map((r) => r.nextExpectedVersion)).toEqual([1, 1, 1, 1]);
    expect(await rowsOf(first, contested)).toBe(1);
  });

  it('sends every request of a batch again alone when a rival still uncommitted fails the batch', async () => {
    const batching = oneInFlight(first);
    const contested = newStreamId('contested');
    const rivalHolds = gate();
    const rivalInserted = gate();
    // The rival appends the stream in a transaction it keeps open until the batch waits on it.
    const rival = second.transaction(async (tx) => {
      await new PostgresEventStore(tx).appendToStream(contested, [anEvent()], { expectedVersion: 0 });
      rivalInserted.open();
      await rivalHolds.promise;
    });
    await rivalInserted.promise;

    const busy = occupy(batching);
    const lost = batching.appendToStream(contested, [anEvent()], { expectedVersion: 0 });
    const others = [newStreamId('i'), newStreamId('j')].map((id) => batching.appendToStream(id, [anEvent()], { expectedVersion: 0 }));
    await busy;
    await waitForLockWait(second);
    rivalHolds.open();
    await rival;

    await expect(lost).rejects.toMatchObject({ name: 'WrongExpectedVersionError', actualVersion: 1 });
    const stored = await Promise.all(others);
    expect(stored.map((r) => r.nextExpectedVersion)).toEqual([1, 1]);
    // Alone, each went in its own transaction.
    expect(stored[0]?.events[0]?.transactionId).not.toBe(stored[1]?.events[0]?.transactionId);
    expect(await rowsOf(first, contested)).toBe(1);
  });
});

/** Resolves once a session of the database waits for a lock (the batch, on the rival's row). */
async function waitForLockWait(sql: SqlExecutor): Promise<void> {
  for (let tries = 0; tries < 500; tries += 1) {
    const [row] = await sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    if ((row?.n ?? 0) > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('no session came to wait for the rival');
}
