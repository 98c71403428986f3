import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { BudgetExceededError, budgetDecider, fold, toBudgetStreamId, type AllocatedBudgetState } from '@nexus/domain';
import { PostgresEventStore, type EventStorePort } from '@nexus/event-store';
import type { Actor, BudgetCommand, BudgetEvent, EventMetadata } from '@nexus/events';
import { backends } from '../../../../libs/event-store/src/testing/event-store-backends';
import { eventStoreForSuite } from '../../../../libs/event-store/src/testing/suite-event-store';
import { CommandHandlingService } from './command-handling.service';

const alice: Actor = { userId: 'alice', roles: ['user'], tenantId: 'acme' };
const at = '2026-01-01T10:00:00.000Z';
const metadata: EventMetadata = { actor: alice, correlationId: randomUUID(), causationId: null, traceparent: null, ip: null, userAgent: null, idempotencyKey: null };

const allocate = (sessionId: string, tokens: number): BudgetCommand => ({
  type: 'AllocateBudget',
  data: { sessionId, tenantId: 'acme', limit: { tokens, costMicroUsd: 1_000_000_000, wallClockSeconds: 3600 }, actor: alice, at },
});
const reserve = (sessionId: string, tokens: number): BudgetCommand => ({
  type: 'ReserveBudget',
  data: {
    sessionId, reservationId: randomUUID(), amount: { tokens, costMicroUsd: 0, wallClockSeconds: 0 },
    purpose: 'llm call', runId: null, ttlSeconds: 300, actor: alice, at,
  },
});

/** The real store, counting the events each read returns: what a command costs to load. */
class CountingStore implements Pick<EventStorePort, 'readStream' | 'appendToStreams'> {
  eventsRead = 0;
  reads = 0;
  constructor(public target: EventStorePort) {}
  async readStream(...args: Parameters<EventStorePort['readStream']>) {
    const events = await this.target.readStream(...args);
    this.reads += 1;
    this.eventsRead += events.length;
    return events;
  }
  appendToStreams(...args: Parameters<EventStorePort['appendToStreams']>) {
    return this.target.appendToStreams(...args);
  }
}

const serviceOver = (store: Pick<EventStorePort, 'readStream' | 'appendToStreams'>, streams = 100) =>
  new CommandHandlingService(store as EventStorePort, { NEXUS_AGGREGATE_CACHE_STREAMS: streams });

const send = (service: CommandHandlingService, command: BudgetCommand) =>
  service.handle([{ streamId: toBudgetStreamId(command.data.sessionId), decider: budgetDecider, command }], metadata);

describe.each(backends)('command handling with folded states kept, on %s', (_name, open) => {
  let store: PostgresEventStore;
  eventStoreForSuite(open, (opened) => void ({ store } = opened));

  it('reads a stream once, then only what was appended since', async () => {
    const sessionId = randomUUID();
    const cached = new CountingStore(store);
    const uncached = new CountingStore(store);
    const [withCache, withoutCache] = [serviceOver(cached), serviceOver(uncached, 0)];
    await send(withCache, allocate(sessionId, 1_000_000));
    for (let i = 0; i < 30; i++) await send(i % 2 === 0 ? withCache : withoutCache, reserve(sessionId, 10));

    // The cached service read each event the other one wrote, once (14 events: its own appends it
    // folded as it wrote them); the other re-read the whole stream every time (2 + 4 + … + 30).
    expect(cached.eventsRead).toBe(14);
    expect(uncached.eventsRead).toBe(240);
    const state = fold(budgetDecider, (await store.readStream(toBudgetStreamId(sessionId))) as unknown as BudgetEvent[]);
    expect(await withCache.load(budgetDecider, toBudgetStreamId(sessionId))).toEqual(state);
  });

  it('decides on its folded state without reading the stream while nothing else writes it; a refusal is decided again on the stream', async () => {
    const sessionId = randomUUID();
    const counting = new CountingStore(store);
    const service = serviceOver(counting);
    // A stream it has not seen is taken to be new: the append's expected version 0 checks that.
    await send(service, allocate(sessionId, 1_000));
    const first = counting.reads;
    expect(first).toBe(0);
    for (let i = 0; i < 5; i++) await send(service, reserve(sessionId, 100));
    expect(counting.reads).toBe(first);

    // Another writer frees nothing here, but a refusal must never rest on a state that may be
    // behind: the command is decided again on the stream's tail before it is refused.
    await expect(send(service, reserve(sessionId, 600))).rejects.toThrow(BudgetExceededError);
    expect(counting.reads).toBe(first + 1);
  });

  it('reads a stream it took to be new when the decision or the append finds it is not', async () => {
    const sessionId = randomUUID();
    const streamId = toBudgetStreamId(sessionId);
    await send(serviceOver(store), allocate(sessionId, 1_000));
    // Not cached here: decided on an empty stream, the reservation is refused (no budget), so it
    // is decided again on the stream, where the budget is: reserved.
    const reading = new CountingStore(store);
    await send(serviceOver(reading), reserve(sessionId, 100));
    expect(reading.reads).toBeGreaterThan(0);
    // Decided on an empty stream, a second allocation would be appended as the stream's first
    // event: the append's expected version refuses it, and the retry decides on the stream.
    const appending = new CountingStore(store);
    await send(serviceOver(appending), allocate(sessionId, 1_000)).catch(() => undefined);
    expect(appending.reads).toBeGreaterThan(0);
    const types = (await store.readStream(streamId)).map((event) => event.type);
    expect(types).toEqual(['BudgetAllocated', 'BudgetReserved']);
  });

  it('decides on what another instance appended', async () => {
    const sessionId = randomUUID();
    const [a, b] = [serviceOver(store), serviceOver(store)];
    await send(a, allocate(sessionId, 1_000));
    await send(a, reserve(sessionId, 600));
    await send(b, reserve(sessionId, 300));
    // A's cached state (600 reserved) would allow 200 more; the stream says 900 are reserved.
    await expect(send(a, reserve(sessionId, 200))).rejects.toThrow(BudgetExceededError);
    await send(a, reserve(sessionId, 100));
    const state = (await b.load(budgetDecider, toBudgetStreamId(sessionId))) as AllocatedBudgetState;
    expect(state.reservations.size).toBe(3);
  });

  it('folds from the start again when the store is behind what it cached', async () => {
    const sessionId = randomUUID();
    const streamId = toBudgetStreamId(sessionId);
    const elsewhereSql = await open();
    const elsewhere = new PostgresEventStore(elsewhereSql);
    const counting = new CountingStore(elsewhere);
    const service = serviceOver(counting);
    try {
      await send(service, allocate(sessionId, 1_000));
      await send(service, reserve(sessionId, 100));
      await send(service, reserve(sessionId, 100));
      // The same stream in another database holding only its first event: the cached head
      // (version 3) is ahead of that store; the append fails on its expected version, and the
      // retry folds the stream from its start instead of failing again and again.
      const [first] = await elsewhere.readStream(streamId);
      if (first === undefined) throw new Error('no first event');
      const { id: _id, type, schemaVersion, data, metadata: firstMetadata, occurredAt } = first;
      await store.appendToStreams([{ streamId, expectedVersion: 0, events: [{ id: randomUUID(), type, schemaVersion, data, metadata: firstMetadata, occurredAt }] }]);
      counting.target = store;

      await send(service, reserve(sessionId, 100));

      expect((await store.readStream(streamId)).map((e) => e.type)).toEqual(['BudgetAllocated', 'BudgetReserved']);
    } finally {
      await elsewhereSql.close();
    }
  });
});
