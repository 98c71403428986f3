import { randomUUID } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createPgExecutor, migrate, PostgresEventStore, type PgSqlExecutor } from '@nexus/event-store';
import type { RecordedEvent } from '@nexus/events';
import { anEvent } from '../../../event-store/src/testing/event-store-backends';
import { createTestDatabase, freshTestDatabase, startNats, startPostgres, type InfraServer } from '@nexus/testing';
import { loadEventStreamDefinition } from '../stream-definitions';

export const STREAM = loadEventStreamDefinition().name;

export interface BusWorld {
  readonly nats: InfraServer;
  readonly nc: NatsConnection;
  readonly sql: PgSqlExecutor;
  readonly store: PostgresEventStore;
  close(): Promise<void>;
}

/**
 * A NATS server of its own (so the stream starts empty) and a fresh, migrated database — on the
 * shared test server, or with `ownPostgres` on a server of its own: the read horizon
 * (`pg_snapshot_xmin`) is server-wide, so tests about it must not share a server with suites that
 * hold transactions open.
 */
export async function openBusWorld({ ownPostgres = false }: { ownPostgres?: boolean } = {}): Promise<BusWorld> {
  const postgres = ownPostgres ? await startPostgres() : undefined;
  const [nats, url] = await Promise.all([
    startNats(),
    postgres === undefined ? freshTestDatabase('bus') : createTestDatabase(postgres.url, 'bus'),
  ]);
  const sql = createPgExecutor(url, { max: 10 });
  await migrate(sql);
  const nc = await natsConnection(nats.url);
  return {
    nats,
    nc,
    sql,
    store: new PostgresEventStore(sql),
    async close() {
      await nc.close().catch(() => undefined);
      await sql.close();
      await nats.stop();
      await postgres?.stop();
    },
  };
}

/** Reconnects forever, quickly: the tests take NATS down on purpose. */
export function natsConnection(url: string): Promise<NatsConnection> {
  return connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
}

// The store's own test event, so the bus and the store speak of the same thing.
export { anEvent };

/** Appends `perStream` events to each of `streams` new streams, interleaved; returns them all. */
export async function appendEvents(
  store: PostgresEventStore,
  streams: number,
  perStream: number,
  category = 'session',
): Promise<RecordedEvent[]> {
  const ids = Array.from({ length: streams }, () => `${category}-${randomUUID()}`);
  const written: RecordedEvent[] = [];
  for (let v = 0; v < perStream; v += 1) {
    for (const id of ids) {
      const result = await store.appendToStream(id, [anEvent({ v })], { expectedVersion: v });
      written.push(...result.events);
    }
  }
  return written;
}

/** Every message in the stream, in stream order. */
export async function streamContents(nc: NatsConnection, stream = STREAM): Promise<RecordedEvent[]> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(stream).catch(() => undefined);
  const out: RecordedEvent[] = [];
  for (let seq = 1; seq <= (info?.state.last_seq ?? 0); seq += 1) {
    const msg = await jsm.streams.getMessage(stream, { seq });
    if (msg) out.push(msg.json<RecordedEvent>());
  }
  return out;
}

export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function streamMessageCount(nc: NatsConnection, stream = STREAM): Promise<number> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(stream).catch(() => undefined);
  return info?.state.messages ?? 0;
}
