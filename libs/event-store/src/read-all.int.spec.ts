import { describe, expect, it } from '@jest/globals';
import type { GlobalCheckpoint } from './event-store.port';
import { PostgresEventStore } from './postgres-event-store.adapter';
import type { SqlExecutor } from './sql-executor.port';
import { anEvent, backends, gate, newStreamId, openPostgres } from './testing/event-store-backends';
import { eventStoreForSuite } from './testing/suite-event-store';

async function readToEnd(store: PostgresEventStore, after: GlobalCheckpoint, limit = 1000) {
  const events = [];
  let checkpoint = after;
  for (;;) {
    const page = await store.readAll({ after: checkpoint, limit });
    events.push(...page.events);
    checkpoint = page.checkpoint;
    if (page.events.length < limit) return { events, checkpoint };
  }
}

/**
 * The snapshot horizon is server-wide: a transaction open in another suite's database on the
 * shared server briefly holds readers back too. So reads that expect events wait for them.
 */
async function readAtLeast(store: PostgresEventStore, after: GlobalCheckpoint, count: number, limit?: number) {
  const deadline = Date.now() + 5000;
  const events = [];
  let checkpoint = after;
  while (events.length < count && Date.now() < deadline) {
    const page = await readToEnd(store, checkpoint, limit);
    events.push(...page.events);
    checkpoint = page.checkpoint;
    if (events.length < count) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { events, checkpoint };
}

describe.each(backends)('reading all events on %s', (_name, open) => {
  let store: PostgresEventStore;
  eventStoreForSuite(open, (opened) => void ({ store } = opened));

  it('pages through every committed event in (transaction, position) order', async () => {
    const start = (await readToEnd(store, { transactionId: '0', position: 0 })).checkpoint;
    const written = [];
    for (let i = 0; i < 7; i += 1) {
      written.push(...(await store.appendToStream(newStreamId(), [anEvent({ i }), anEvent({ i })], { expectedVersion: 0 })).events);
    }

    const { events, checkpoint } = await readAtLeast(store, start, 14, 3);

    expect(events.map((e) => e.id)).toEqual(written.map((e) => e.id));
    expect(checkpoint).toEqual({ transactionId: written[13]?.transactionId, position: written[13]?.globalPosition });
    expect(await store.hasReached(checkpoint, written[13]?.globalPosition ?? 0)).toBe(true);
    expect((await store.readAll({ after: checkpoint })).events).toEqual([]);
  });
});

/**
 * Postgres only: these tests hold one transaction open while another commits, which takes two
 * sessions. PGlite is one in-process session: a transaction blocks every other query until it
 * ends, so the interleaving cannot happen there (and cannot bite there either).
 */
describe('reading all events on postgres while transactions are in flight', () => {
  let sql: SqlExecutor;
  let store: PostgresEventStore;
  eventStoreForSuite(() => openPostgres(10), (opened) => void ({ sql, store } = opened));

  /** Appends in a transaction that stays open until `release` resolves; `fail` rolls it back. */
  function appendAndHold(release: Promise<void>, fail = false) {
    const appended = gate();
    let positions: number[] = [];
    const done = sql.transaction(async (tx) => {
      const result = await new PostgresEventStore(tx).appendToStream(newStreamId('slow'), [anEvent(), anEvent()], { expectedVersion: 0 });
      positions = result.events.map((e) => e.globalPosition);
      appended.open();
      await release;
      if (fail) throw new Error('rolled back on purpose');
    });
    return { appended: appended.promise, done, positions: () => positions };
  }

  it('does not pass an open transaction, then reads both in order once it commits', async () => {
    const start = (await readToEnd(store, { transactionId: '0', position: 0 })).checkpoint;
    const release = gate();
    const slow = appendAndHold(release.promise);
    await slow.appended;
    const fast = await store.appendToStream(newStreamId('fast'), [anEvent()], { expectedVersion: 0 });
    expect(fast.lastPosition).toBeGreaterThan(Math.max(...slow.positions()));

    const whileOpen = await readToEnd(store, start);
    expect(whileOpen.events).toEqual([]);
    expect(whileOpen.checkpoint).toEqual(start);
    // The reader learns that committed events wait behind the open transaction.
    expect(await store.hasUnreadEvents(whileOpen.checkpoint)).toBe(true);

    release.open();
    await slow.done;
    // Asked after the older transaction ended but before reading again (a reader's race): the
    // events are no longer held back, yet still unread, so the reader must still look again soon.
    expect(await store.hasUnreadEvents(whileOpen.checkpoint)).toBe(true);
    const afterCommit = await readAtLeast(store, whileOpen.checkpoint, 3);
    expect(afterCommit.events.map((e) => e.globalPosition)).toEqual([...slow.positions(), fast.lastPosition]);
    expect(await store.hasUnreadEvents(afterCommit.checkpoint)).toBe(false);
  });

  it('reads a later position that committed first only after the earlier one, skipping none', async () => {
    const start = (await readToEnd(store, { transactionId: '0', position: 0 })).checkpoint;
    const release = gate();
    const slow = appendAndHold(release.promise);
    await slow.appended;
    const fast = await store.appendToStream(newStreamId('fast'), [anEvent()], { expectedVersion: 0 });
    // A bare `position > n` reader would now see `fast` and move past the slow positions.
    const bare = await sql.query<{ n: string }>('SELECT count(*) AS n FROM events WHERE global_position > $1', [start.position]);
    expect(Number(bare[0]?.n)).toBe(1);

    release.open();
    await slow.done;
    const read = await readAtLeast(store, start, 3);
    expect(read.events.map((e) => e.globalPosition)).toEqual([...slow.positions(), fast.lastPosition]);
    expect(await store.hasReached(read.checkpoint, fast.lastPosition)).toBe(true);
  });

  it('moves on after an open transaction rolls back', async () => {
    const start = (await readToEnd(store, { transactionId: '0', position: 0 })).checkpoint;
    const release = gate();
    const slow = appendAndHold(release.promise, true);
    await slow.appended;
    const fast = await store.appendToStream(newStreamId('fast'), [anEvent()], { expectedVersion: 0 });
    expect((await readToEnd(store, start)).events).toEqual([]);

    release.open();
    await expect(slow.done).rejects.toThrow('rolled back on purpose');
    const read = await readAtLeast(store, start, 1);
    expect(read.events.map((e) => e.globalPosition)).toEqual([fast.lastPosition]);
  });
});
