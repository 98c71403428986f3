import { describe, expect, it } from '@jest/globals';
import { WrongExpectedVersionError } from './event-store.errors';
import { PostgresEventStore } from './postgres-event-store.adapter';
import { anEvent, newStreamId, openPostgres } from './testing/event-store-backends';
import { eventStoreForSuite } from './testing/suite-event-store';

/**
 * Postgres only: racing writers need concurrent sessions. PGlite is a single in-process session
 * that runs one statement (and one transaction) at a time, so its writers can never overlap.
 */
describe('event store on postgres under concurrent writers', () => {
  let store: PostgresEventStore;
  eventStoreForSuite(() => openPostgres(20), (opened) => void ({ store } = opened));

  it('lets exactly one of 200 writers with the same expected version win', async () => {
    const streamId = newStreamId();

    const outcomes = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) => store.appendToStream(streamId, [anEvent({ i })], { expectedVersion: 0 })),
    );

    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(199);
    expect(lost.every((o) => o.reason instanceof WrongExpectedVersionError)).toBe(true);
    expect(lost.map((o) => (o.reason as WrongExpectedVersionError).actualVersion)).toEqual(Array(199).fill(1));
    expect((await store.readStream(streamId)).map((e) => e.streamVersion)).toEqual([1]);
  });

  it('keeps versions contiguous and the chain intact when writers retry on conflict', async () => {
    const streamId = newStreamId();
    const writeWithRetry = async (i: number): Promise<void> => {
      for (;;) {
        const current = (await store.readStream(streamId)).length;
        try {
          await store.appendToStream(streamId, [anEvent({ i })], { expectedVersion: current });
          return;
        } catch (error) {
          if (!(error instanceof WrongExpectedVersionError)) throw error;
        }
      }
    };

    await Promise.all(Array.from({ length: 40 }, (_, i) => writeWithRetry(i)));

    const events = await store.readStream(streamId);
    expect(events.map((e) => e.streamVersion)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(new Set(events.map((e) => (e.data as { i: number }).i)).size).toBe(40);
    expect(events.slice(1).every((e, i) => e.prevHash === events[i]?.hash)).toBe(true);
  });

  it('appends to one stream from many writers with expected version any', async () => {
    const streamId = newStreamId();

    await Promise.all(Array.from({ length: 30 }, (_, i) => store.appendToStream(streamId, [anEvent({ i })], { expectedVersion: 'any' })));

    expect((await store.readStream(streamId)).map((e) => e.streamVersion)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });
});
