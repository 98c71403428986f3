import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectToBus } from './connect-to-bus';
import { PostgresEventStore, type SqlExecutor } from '@nexus/event-store';
import { streamCategory, type RecordedEvent } from '@nexus/events';
import { startPartitionedConsumer, type PartitionedConsumerOptions } from './partitioned-consumer';
import { DEFAULT_PARTITIONS } from './subjects';
import { createLogConsumer } from './log-consumer';
import { ensureStream, loadEventStreamDefinition } from './stream-definitions';

/** A running consumer, in either mode. */
export interface BusConsumer {
  stop(): Promise<void>;
}

interface ConsumerSettings {
  /** The consumer's name: its durables, inbox and dead letters. */
  readonly name: string;
  /** JetStream when set; otherwise the event store itself is the bus (embedded mode). */
  readonly natsUrl: string | undefined;
  readonly sql: SqlExecutor;
  /** On the bus: only this stream-id category (`run`, `toolcall`, …); all when omitted. */
  readonly category?: string;
  /** How long an instance keeps its partitions without renewing them (`NEXUS_CONSUMER_LEASE_MS`). */
  readonly leaseMs?: number;
  /** The bus's partition count (`NEXUS_BUS_PARTITIONS`). */
  readonly partitions?: number;
}

/** A handler of one event at a time. */
interface EventHandlerSettings {
  readonly handler: (event: RecordedEvent, tx: SqlExecutor) => Promise<void>;
  /** The events the handler wants (the checkpoint moves past the rest). */
  readonly accepts?: (event: RecordedEvent) => boolean;
  /** Run the handler outside the inbox transaction (effects go elsewhere; see both consumers). */
  readonly handlerOutsideTransaction?: boolean;
}

/**
 * Or a handler of a whole batch, inside the batch's transaction with its inbox rows and
 * checkpoint: for effects that are rows of the same database, written for the batch in one
 * statement. The events are one partition's in order, or several partitions' (each in order);
 * in embedded mode a batch is one event.
 */
interface BatchHandlerSettings {
  readonly batchHandler: (events: readonly RecordedEvent[], tx: SqlExecutor) => Promise<void>;
}

export type EventConsumerOptions = ConsumerSettings & (EventHandlerSettings | BatchHandlerSettings);

/** The settings a deployment gives all its consumers (NATS_URL, NEXUS_BUS_PARTITIONS, NEXUS_CONSUMER_LEASE_MS). */
export interface ConsumerDeploymentSettings {
  readonly NATS_URL?: string | undefined;
  readonly NEXUS_BUS_PARTITIONS: number;
  readonly NEXUS_CONSUMER_LEASE_MS: number;
}

/** Where every consumer of a deployment runs: its bus (or the log), partitions, lease and database. */
export const consumerDeployment = (settings: ConsumerDeploymentSettings, sql: SqlExecutor) => ({
  natsUrl: settings.NATS_URL,
  partitions: settings.NEXUS_BUS_PARTITIONS,
  leaseMs: settings.NEXUS_CONSUMER_LEASE_MS,
  sql,
});

/**
 * A Nexus consumer in either mode, with the same semantics: a partition-owned consumer group on
 * JetStream when the deployment has NATS (`startPartitionedConsumer`: instances divide the
 * partitions, each applies its own in order), else a reader of the event store's log. Stopping it
 * drains its connection.
 */
export async function startEventConsumer(options: EventConsumerOptions): Promise<BusConsumer> {
  if (options.natsUrl === undefined) {
    // The log holds every category: the bus's subject filter becomes a filter of the events.
    const { category } = options;
    const inCategory = (event: RecordedEvent) => category === undefined || streamCategory(event.streamId) === category;
    const accepts = 'batchHandler' in options || options.accepts === undefined ? inCategory : (event: RecordedEvent) => inCategory(event) && (options.accepts?.(event) ?? true);
    return createLogConsumer({
      name: options.name,
      sql: options.sql,
      storeFor: (sql) => new PostgresEventStore(sql),
      accepts,
      ...('batchHandler' in options
        ? { handler: (event: RecordedEvent, tx: SqlExecutor) => options.batchHandler([event], tx) }
        : {
            handler: options.handler,
            ...(options.handlerOutsideTransaction === undefined ? {} : { handlerOutsideTransaction: options.handlerOutsideTransaction }),
          }),
    });
  }
  const nats: NatsConnection = await connectToBus(options.natsUrl);
  const stream = loadEventStreamDefinition();
  await ensureStream(await jetstreamManager(nats), stream);
  const partitions = options.partitions ?? DEFAULT_PARTITIONS;
  const consumer = await startPartitionedConsumer({
    name: options.name,
    nats,
    sql: options.sql,
    stream: stream.name,
    partitions,
    ...(options.category === undefined ? {} : { category: options.category }),
    ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
    ...handlingOf(options, partitions),
  });
  return {
    async stop() {
      await consumer.stop();
      await nats.drain();
    },
  };
}

/** How the partitioned consumer runs the options' handler. */
function handlingOf(options: EventConsumerOptions, partitions: number): Partial<PartitionedConsumerOptions> {
  if ('batchHandler' in options) return { batchHandler: options.batchHandler };
  const { handler } = options;
  if (options.handlerOutsideTransaction !== true) {
    return { batchHandler: async (events: readonly RecordedEvent[], tx: SqlExecutor) => {
      for (const event of events) await handler(event, tx);
    } };
  }
  // Provider calls and tools wait on the outside: as many at once as there are partitions.
  return {
    handler: (event: RecordedEvent) => handler(event, options.sql),
    concurrency: partitions,
    ...(options.accepts === undefined ? {} : { accepts: options.accepts }),
  };
}
