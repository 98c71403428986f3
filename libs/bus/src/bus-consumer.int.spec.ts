import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { RecordedEvent } from '@nexus/events';
import { createConsumer, type BusConsumer, type BusConsumerOptions } from './bus-consumer';
import { OutboxRelay } from './outbox-relay';
import { appendEvents, natsConnection, openBusWorld, STREAM, streamMessageCount, waitFor, type BusWorld } from './testing/bus-test-kit';

describe('bus consumer', () => {
  let world: BusWorld;
  let relay: OutboxRelay;
  const consumers: BusConsumer[] = [];
  const consume = async (options: Partial<BusConsumerOptions> & Pick<BusConsumerOptions, 'handler'>) => {
    const consumer = await createConsumer({
      name: 'test-consumer',
      nats: world.nc,
      sql: world.sql,
      stream: STREAM,
      maxDeliver: 3,
      backoffMs: [300, 300],
      ...options,
    });
    consumers.push(consumer);
    return consumer;
  };

  beforeEach(async () => {
    world = await openBusWorld();
    relay = new OutboxRelay({ sql: world.sql, nats: world.nc, pollIntervalMs: 20, maxBackoffMs: 500 }).start();
  });
  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((c) => c.stop()));
    await relay.stop();
    await world.close();
  });

  it('dead-letters a poison message after MaxDeliver and keeps the others flowing', async () => {
    const written = await appendEvents(world.store, 4, 3);
    const poison = written[5] as RecordedEvent;
    const applied: string[] = [];
    await consume({
      handler: async (event) => {
        if (event.id === poison.id) throw new Error('cannot digest');
        applied.push(event.id);
      },
    });

    await waitFor(() => applied.length >= written.length - 1);
    await waitFor(async () => (await deadLetters()).length === 1);
    const [letter] = await deadLetters();
    expect(letter).toMatchObject({ event_id: poison.id, consumer: 'test-consumer', deliveries: 3 });
    expect(applied.sort()).toEqual(written.filter((e) => e.id !== poison.id).map((e) => e.id).sort());

    const later = await appendEvents(world.store, 1, 2);
    await waitFor(() => later.every((e) => applied.includes(e.id)));
  });

  it('never applies an event twice when its ack was lost', async () => {
    const written = await appendEvents(world.store, 3, 2);
    const victim = written[2] as RecordedEvent;
    const calls = new Map<string, number>();
    let victimDeliveries = 0;
    await consume({
      handler: async (event, tx) => {
        calls.set(event.id, (calls.get(event.id) ?? 0) + 1);
        await tx.query('SELECT 1');
      },
      dropAck: (event, deliveries) => {
        if (event.id !== victim.id) return false;
        victimDeliveries = deliveries;
        return deliveries === 1;
      },
    });

    await waitFor(() => victimDeliveries >= 2 && calls.size === written.length);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect([...calls.values()].every((n) => n === 1)).toBe(true);
    const [row] = await world.sql.query<{ n: string }>('SELECT count(*) AS n FROM processed_events');
    expect(Number(row?.n)).toBe(written.length);
  });

  it('keeps per-stream order with two instances sharing the work', async () => {
    const written = await appendEvents(world.store, 12, 5);
    const seen: Array<{ streamId: string; version: number; instance: number }> = [];
    const second = await natsConnection(world.nats.url);
    try {
      for (const [instance, nc] of [world.nc, second].entries()) {
        await consume({
          nats: nc,
          backoffMs: [5000],
          handler: async (event) => {
            await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
            seen.push({ streamId: event.streamId, version: event.streamVersion, instance });
          },
        });
      }
      await waitFor(() => seen.length >= written.length);
      await new Promise((resolve) => setTimeout(resolve, 200));
    } finally {
      await Promise.all(consumers.splice(0).map((c) => c.stop()));
      await second.close();
    }

    expect(seen).toHaveLength(written.length);
    const byStream = new Map<string, number[]>();
    for (const s of seen) byStream.set(s.streamId, [...(byStream.get(s.streamId) ?? []), s.version]);
    for (const versions of byStream.values()) expect(versions).toEqual([1, 2, 3, 4, 5]);
  });

  it('applies events waiting on several partitions in one transaction, in each stream’s order, isolating a poison one', async () => {
    const written = await appendEvents(world.store, 16, 4);
    const poison = written[9] as RecordedEvent;
    const seen: RecordedEvent[] = [];
    const batchSizes: number[] = [];
    await consume({
      batchLingerMs: 20,
      handler: async (event) => {
        if (event.id === poison.id) throw new Error('cannot digest');
        seen.push(event);
      },
      batchHandler: async (events) => {
        if (events.some((event) => event.id === poison.id)) throw new Error('cannot digest');
        batchSizes.push(events.length);
        seen.push(...events);
      },
    });

    await waitFor(() => seen.length >= written.length - 1);
    await waitFor(async () => (await deadLetters()).length === 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Every event once (the poison one never), each stream in version order.
    expect(seen.map((e) => e.id).sort()).toEqual(written.filter((e) => e.id !== poison.id).map((e) => e.id).sort());
    const byStream = new Map<string, number[]>();
    for (const event of seen) byStream.set(event.streamId, [...(byStream.get(event.streamId) ?? []), event.streamVersion]);
    for (const [streamId, versions] of byStream) {
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
      if (streamId !== poison.streamId) expect(versions).toEqual([1, 2, 3, 4]);
    }
    expect(Math.max(...batchSizes)).toBeGreaterThan(1);
    const [row] = await world.sql.query<{ n: string }>('SELECT count(*) AS n FROM processed_events');
    expect(Number(row?.n)).toBe(written.length - 1);
  }, 30_000);

  describe('with the handler outside the inbox transaction', () => {
    // The read horizon is server-wide: on the shared server, other suites' transactions would
    // hold it back too (and this suite's own held transaction would hold theirs).
    beforeEach(async () => {
      await relay.stop();
      await world.close();
      world = await openBusWorld({ ownPostgres: true });
      relay = new OutboxRelay({ sql: world.sql, nats: world.nc, pollIntervalMs: 20, maxBackoffMs: 500 }).start();
    });

    /** Whether an event the handler appends becomes readable (gap-safe) while the handler still runs. */
    const ownAppendVisibleDuringHandler = async (handlerOutsideTransaction: boolean): Promise<boolean> => {
      const [trigger] = await appendEvents(world.store, 1, 1);
      // The relay creates the JetStream stream when it starts leading; consumers need it.
      await waitFor(async () => (await streamMessageCount(world.nc).catch(() => 0)) > 0);
      let visible: boolean | undefined;
      await consume({
        name: `horizon-${handlerOutsideTransaction}`,
        handlerOutsideTransaction,
        handler: async (event) => {
          if (event.id !== trigger?.id) return;
          const [own] = await appendEvents(world.store, 1, 1);
          const deadline = Date.now() + 1500;
          do {
            const { events } = await world.store.readAll({ after: { transactionId: trigger.transactionId, position: trigger.globalPosition }, limit: 10_000 });
            visible = events.some((e) => e.id === own?.id);
            if (!visible) await new Promise((resolve) => setTimeout(resolve, 50));
          } while (!visible && Date.now() < deadline);
        },
      });
      await waitFor(() => visible !== undefined, 10_000);
      return visible === true;
    };

    it('holds no transaction open while the handler works, so what it appends is readable at once', async () => {
      expect(await ownAppendVisibleDuringHandler(true)).toBe(true);
      // The inbox transaction around a handler holds the read horizon back until the handler ends.
      expect(await ownAppendVisibleDuringHandler(false)).toBe(false);
    }, 20_000);

    it('still records the inbox row, so a redelivery after a lost ack does not run the handler again', async () => {
      const written = await appendEvents(world.store, 2, 2);
      const victim = written[1] as RecordedEvent;
      const calls = new Map<string, number>();
      let victimDeliveries = 0;
      await consume({
        handlerOutsideTransaction: true,
        handler: async (event) => {
          calls.set(event.id, (calls.get(event.id) ?? 0) + 1);
        },
        dropAck: (event, deliveries) => {
          if (event.id !== victim.id) return false;
          victimDeliveries = deliveries;
          return deliveries === 1;
        },
      });
      await waitFor(() => victimDeliveries >= 2 && calls.size === written.length);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect([...calls.values()].every((n) => n === 1)).toBe(true);
    });
  });

  function deadLetters() {
    return world.sql.query<{ event_id: string; consumer: string; deliveries: number }>(
      'SELECT event_id, consumer, deliveries FROM dead_letters',
    );
  }
});
