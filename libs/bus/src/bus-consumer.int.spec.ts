import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { RecordedEvent } from '@nexus/events';
import { createConsumer, type BusConsumer, type BusConsumerOptions } from './bus-consumer';
import { OutboxRelay } from './outbox-relay';
import { appendEvents, natsConnection, openBusWorld, STREAM, waitFor, type BusWorld } from './testing/bus-test-kit';

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

  function deadLetters() {
    return world.sql.query<{ event_id: string; consumer: string; deliveries: number }>(
      'SELECT event_id, consumer, deliveries FROM dead_letters',
    );
  }
});
