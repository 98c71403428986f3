import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { PostgresEventStore, type SqlExecutor } from '@nexus/event-store';
import type { RecordedEvent } from '@nexus/events';
import { createConsumer, type BusConsumer } from './bus-consumer';
import { createLogConsumer } from './log-consumer';
import { ensureStream, loadEventStreamDefinition } from './stream-definitions';

export interface EventConsumerOptions {
  /** The consumer's name: its durables, inbox and dead letters. */
  readonly name: string;
  /** JetStream when set; otherwise the event store itself is the bus (embedded mode). */
  readonly natsUrl: string | undefined;
  readonly sql: SqlExecutor;
  readonly handler: (event: RecordedEvent, tx: SqlExecutor) => Promise<void>;
  /** On the bus: only this stream-id category (`run`, `toolcall`, …); all when omitted. */
  readonly category?: string;
  /** In log mode: the events the handler wants (the checkpoint moves past the rest). */
  readonly accepts?: (event: RecordedEvent) => boolean;
  /** Run the handler outside the inbox transaction (effects go elsewhere; see both consumers). */
  readonly handlerOutsideTransaction?: boolean;
  readonly backoffMs?: readonly number[];
  /** The bus's partition count (`NEXUS_BUS_PARTITIONS`). */
  readonly partitions?: number;
}

/**
 * A Nexus consumer in either mode, with the same semantics: a durable JetStream consumer when the
 * deployment has NATS, else a reader of the event store's log. Stopping it drains its connection.
 */
export async function startEventConsumer(options: EventConsumerOptions): Promise<BusConsumer> {
  if (options.natsUrl === undefined) {
    return createLogConsumer({
      name: options.name,
      sql: options.sql,
      storeFor: (sql) => new PostgresEventStore(sql),
      handler: options.handler,
      ...(options.accepts === undefined ? {} : { accepts: options.accepts }),
      ...(options.handlerOutsideTransaction === undefined ? {} : { handlerOutsideTransaction: options.handlerOutsideTransaction }),
    });
  }
  // Reconnects for ever: a NATS outage only delays consumption.
  const nats: NatsConnection = await connect({ servers: options.natsUrl, maxReconnectAttempts: -1 });
  const stream = loadEventStreamDefinition();
  await ensureStream(await jetstreamManager(nats), stream);
  const consumer = await createConsumer({
    name: options.name,
    nats,
    sql: options.sql,
    stream: stream.name,
    handler: options.handler,
    ...(options.category === undefined ? {} : { category: options.category }),
    ...(options.backoffMs === undefined ? {} : { backoffMs: options.backoffMs }),
    ...(options.partitions === undefined ? {} : { partitions: options.partitions }),
    ...(options.handlerOutsideTransaction === undefined ? {} : { handlerOutsideTransaction: options.handlerOutsideTransaction }),
  });
  return {
    async stop() {
      await consumer.stop();
      await nats.drain();
    },
  };
}
