import { afterEach, describe, expect, it } from '@jest/globals';
import { PostgresEventStore, type SqlExecutor } from '@nexus/event-store';
import type { RecordedEvent } from '@nexus/events';
import { anEvent, backends, newStreamId } from '../../event-store/src/testing/event-store-backends';
import { createLogConsumer } from './log-consumer';
import { waitFor } from './testing/bus-test-kit';

describe.each(backends)('log consumer on %s', (_name, open) => {
  let sql: SqlExecutor;
  afterEach(async () => sql?.close());

  const effects = async (): Promise<string[]> =>
    (await sql.query<{ event_id: string }>('SELECT event_id FROM log_effects ORDER BY n')).map((r) => r.event_id);

  const start = (fail: (event: RecordedEvent) => boolean = () => false) =>
    createLogConsumer({
      name: 'test-consumer',
      sql,
      storeFor: (executor) => new PostgresEventStore(executor),
      pollMs: 10,
      maxAttempts: 3,
      handler: async (event, tx) => {
        if (fail(event)) throw new Error('poison');
        await tx.query('INSERT INTO log_effects (event_id) VALUES ($1)', [event.id]);
      },
    });

  it('applies every event once, in log order, across a restart, and dead-letters a poison one', async () => {
    sql = await open();
    await sql.exec('CREATE TABLE log_effects (n serial PRIMARY KEY, event_id uuid NOT NULL UNIQUE)');
    const store = new PostgresEventStore(sql);
    const stream = newStreamId();
    const first = (await store.appendToStream(stream, [anEvent({ n: 1 }), anEvent({ n: 2 }), anEvent({ n: 3 })], { expectedVersion: 0 })).events;
    const poison = first[1] as RecordedEvent;

    const consumer = start((event) => event.id === poison.id);
    await waitFor(async () => (await effects()).length === 2);
    await consumer.stop();
    expect(await effects()).toEqual([first[0]?.id, first[2]?.id]);
    const [dead] = await sql.query<{ event_id: string; deliveries: number }>('SELECT event_id, deliveries FROM dead_letters');
    expect(dead).toEqual({ event_id: poison.id, deliveries: 3 });

    const later = (await store.appendToStream(stream, [anEvent({ n: 4 })], { expectedVersion: 3 })).events;
    const restarted = start();
    await waitFor(async () => (await effects()).length === 3);
    await restarted.stop();
    expect(await effects()).toEqual([first[0]?.id, first[2]?.id, later[0]?.id]);
  }, 30_000);

  it('wakes on an append notice instead of sleeping out its poll', async () => {
    sql = await open();
    await sql.exec('CREATE TABLE log_effects (n serial PRIMARY KEY, event_id uuid NOT NULL UNIQUE)');
    const store = new PostgresEventStore(sql);
    const consumer = createLogConsumer({
      name: 'woken',
      sql,
      storeFor: (executor) => new PostgresEventStore(executor),
      // Far longer than the wait below: only the notice can get the event handled in time.
      pollMs: 60_000,
      handler: async (event, tx) => {
        await tx.query('INSERT INTO log_effects (event_id) VALUES ($1)', [event.id]);
      },
    });
    try {
      // Let the first (empty) pass end, so the consumer is idle, waiting.
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (const n of [1, 2]) {
        const [event] = (await store.appendToStream(newStreamId(), [anEvent({ n })], { expectedVersion: 0 })).events;
        await waitFor(async () => (await effects()).includes(event?.id ?? ''), 5000);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await consumer.stop();
    }
  }, 30_000);

  it('runs handlers whose effects go elsewhere outside the transaction, once per event', async () => {
    sql = await open();
    await sql.exec('CREATE TABLE log_effects (n serial PRIMARY KEY, event_id uuid NOT NULL UNIQUE)');
    const store = new PostgresEventStore(sql);
    const written = (await store.appendToStream(newStreamId(), [anEvent(), anEvent()], { expectedVersion: 0 })).events;
    const consumer = createLogConsumer({
      name: 'outside',
      sql,
      storeFor: (executor) => new PostgresEventStore(executor),
      pollMs: 10,
      handlerOutsideTransaction: true,
      // On PGlite this would wait for ever inside the consumer's transaction.
      handler: async (event) => void (await sql.query('INSERT INTO log_effects (event_id) VALUES ($1)', [event.id])),
    });
    await waitFor(async () => (await effects()).length === 2);
    await consumer.stop();
    expect(await effects()).toEqual(written.map((e) => e.id));
  }, 30_000);

  it('passes by the events it does not want without a statement each: no inbox rows, one checkpoint save', async () => {
    sql = await open();
    await sql.exec('CREATE TABLE log_effects (n serial PRIMARY KEY, event_id uuid NOT NULL UNIQUE)');
    const store = new PostgresEventStore(sql);
    const ignored = (await store.appendToStream(newStreamId('other'), [anEvent(), anEvent(), anEvent()], { expectedVersion: 0 })).events;
    const wanted = (await store.appendToStream(newStreamId('wanted'), [anEvent()], { expectedVersion: 0 })).events;
    const after = (await store.appendToStream(newStreamId('other'), [anEvent(), anEvent()], { expectedVersion: 0 })).events;
    const start = () =>
      createLogConsumer({
        name: 'choosy',
        sql,
        storeFor: (executor) => new PostgresEventStore(executor),
        pollMs: 10,
        accepts: (event) => event.streamId.startsWith('wanted-'),
        handler: async (event, tx) => void (await tx.query('INSERT INTO log_effects (event_id) VALUES ($1)', [event.id])),
      });
    const checkpoint = async () =>
      (await sql.query<{ position: string }>(`SELECT position::text AS position FROM log_consumer_checkpoints WHERE consumer = 'choosy'`))[0]?.position;
    const last = after.at(-1) as RecordedEvent;
    let consumer = start();
    await waitFor(async () => (await checkpoint()) === String(last.globalPosition));
    await consumer.stop();
    expect(await effects()).toEqual(wanted.map((e) => e.id));
    const inbox = await sql.query<{ event_id: string }>(`SELECT event_id::text AS event_id FROM processed_events WHERE consumer = 'choosy'`);
    expect(inbox.map((row) => row.event_id)).toEqual(wanted.map((e) => e.id));
    expect(ignored.every((e) => e.globalPosition < last.globalPosition)).toBe(true);

    // Started again, it goes on from the checkpoint: nothing applied twice.
    const more = (await store.appendToStream(newStreamId('wanted'), [anEvent()], { expectedVersion: 0 })).events;
    consumer = start();
    await waitFor(async () => (await effects()).length === 2);
    await consumer.stop();
    expect(await effects()).toEqual([...wanted, ...more].map((e) => e.id));
  }, 30_000);
});
