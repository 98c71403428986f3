import { Inject, Injectable, Logger, type OnApplicationBootstrap, type BeforeApplicationShutdown } from '@nestjs/common';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectToBus, ensureStream, loadEventStreamDefinition, startPartitionedConsumer, type PartitionedConsumer } from '@nexus/bus';
import { NEXUS_CONFIG, type NexusConfig } from '@nexus/config';
import { EVENT_STORE, SQL_EXECUTOR, type EventStorePort, type SqlExecutor } from '@nexus/event-store';
import { allProjections, applyBatch, PROJECTED_CHANNEL, PROJECTOR_CONSUMER, runProjections } from '@nexus/projections';
import { projectionLagEvents, projectionLagSeconds } from './projection-lag';

const catchUpIntervalMs = 50;
const lagProbeMs = 5000;

/**
 * Keeps the read models up to date. Distributed (NATS_URL set): the projector instances divide the
 * bus partitions among themselves (`startPartitionedConsumer`: one owner per partition, leases in
 * PostgreSQL); each owner applies its partition's events in batches, with their inbox rows and the
 * partition's checkpoint in one transaction, as `runProjections` does. Embedded (no NATS): the
 * event store is the bus — a catch-up loop reads the log in order from the projections'
 * checkpoints, writing documents and checkpoints in one transaction.
 */
@Injectable()
export class ProjectEventsWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('projector');
  private nats: NatsConnection | undefined;
  private consumer: PartitionedConsumer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lagProbe: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly lagEvents = projectionLagEvents();
  private readonly lagSeconds = projectionLagSeconds();

  constructor(
    @Inject(NEXUS_CONFIG) private readonly config: NexusConfig,
    @Inject(SQL_EXECUTOR) private readonly sql: SqlExecutor,
    @Inject(EVENT_STORE) private readonly store: EventStorePort,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.NATS_URL === undefined) {
      this.scheduleCatchUp(0);
      this.probeLag(() => this.catchUpLag());
      return;
    }
    this.nats = await connectToBus(this.config.NATS_URL);
    const stream = loadEventStreamDefinition();
    const jsm = await jetstreamManager(this.nats);
    await ensureStream(jsm, stream);
    const consumer = await startPartitionedConsumer({
      name: PROJECTOR_CONSUMER,
      nats: this.nats,
      sql: this.sql,
      stream: stream.name,
      partitions: this.config.NEXUS_BUS_PARTITIONS,
      leaseMs: this.config.NEXUS_CONSUMER_LEASE_MS,
      concurrency: this.config.NEXUS_PROJECTOR_CONCURRENCY,
      batchHandler: async (events, tx) => {
        await applyBatch(tx, allProjections, events);
        // The positions applied ride on the notice: query-api settles the readers waiting for them
        // without asking the database.
        tx.announce?.(PROJECTED_CHANNEL, events.map((event) => event.globalPosition).join(','));
        const oldest = Math.min(...events.map((event) => Date.parse(event.occurredAt)));
        this.lagSeconds.set({ projector: PROJECTOR_CONSUMER }, (Date.now() - oldest) / 1000);
      },
    });
    this.consumer = consumer;
    // Each instance reports what waits on its own partitions; summed across instances, the group's lag.
    this.probeLag(() => consumer.pending());
  }

  private probeLag(measure: () => Promise<number>): void {
    this.lagProbe = setInterval(() => {
      measure().then(
        (lag) => this.lagEvents.set({ projector: PROJECTOR_CONSUMER }, lag),
        () => undefined, // a probe that fails (bus or database away) leaves the last value
      );
    }, lagProbeMs);
    this.lagProbe.unref();
  }

  /** Events past the slowest projection's checkpoint. */
  private async catchUpLag(): Promise<number> {
    const [row] = await this.sql.query<{ lag: string }>(
      `SELECT (SELECT count(*) FROM events WHERE global_position > (SELECT min(position) FROM projection_checkpoints))::text AS lag`,
    );
    return Number(row?.lag ?? 0);
  }

  // Before the database connections close (they close in onApplicationShutdown).
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.lagProbe);
    await this.consumer?.stop();
    await this.nats?.drain();
  }

  private scheduleCatchUp(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.catchUp(), delayMs);
  }

  private async catchUp(): Promise<void> {
    try {
      const result = await runProjections(this.store, this.sql, allProjections, { onBatch: () => this.sql.announce?.(PROJECTED_CHANNEL) });
      this.scheduleCatchUp(result.events > 0 ? 0 : catchUpIntervalMs);
    } catch (error) {
      if (!this.stopped) this.logger.warn(`projection catch-up failed, retrying: ${(error as Error).message}`);
      this.scheduleCatchUp(1000);
    }
  }
}
