import { Inject, Injectable, Logger, type OnApplicationBootstrap, type BeforeApplicationShutdown } from '@nestjs/common';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createConsumer, ensureStream, loadEventStreamDefinition, type BusConsumer } from '@nexus/bus';
import { NEXUS_CONFIG, type NexusConfig } from '@nexus/config';
import { EVENT_STORE, SQL_EXECUTOR, type EventStorePort, type SqlExecutor } from '@nexus/event-store';
import { allProjections, applyBatch, applyEvent, PROJECTOR_CONSUMER, runProjections } from '@nexus/projections';
import { projectionLagEvents, projectionLagSeconds } from './projection-lag';

const catchUpIntervalMs = 50;
/**
 * Per-delivery ack deadlines. A killed instance's unacked delivery holds its partition
 * (`max_ack_pending: 1`) until this deadline passes, so the first ones are short: another or the
 * restarted instance takes over within seconds instead of the bus default's 30 s, then 60 s, then
 * 120 s when the same partition is caught twice. Applying an event is one short transaction, kept
 * alive by `working()` if it is slow, and the later steps keep the patience before a failing event
 * is dead-lettered at about three minutes.
 */
const projectorBackoffMs = [2_000, 10_000, 60_000, 120_000];
const lagProbeMs = 5000;

/**
 * Keeps the read models up to date. Distributed (NATS_URL set): a durable JetStream consumer per
 * partition, shared by every projector instance; the events waiting on different partitions are
 * applied together with their inbox rows in one transaction (one per event when alone). Embedded (no NATS): the event store is the bus — a catch-up loop reads the log in
 * order from the projections' checkpoints, writing documents and checkpoints in one transaction.
 */
@Injectable()
export class ProjectEventsWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('projector');
  private nats: NatsConnection | undefined;
  private consumer: BusConsumer | undefined;
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
    this.nats = await connect({ servers: this.config.NATS_URL, maxReconnectAttempts: -1 });
    const stream = loadEventStreamDefinition();
    const jsm = await jetstreamManager(this.nats);
    await ensureStream(jsm, stream);
    this.consumer = await createConsumer({
      name: PROJECTOR_CONSUMER,
      nats: this.nats,
      sql: this.sql,
      stream: stream.name,
      backoffMs: projectorBackoffMs,
      handler: async (event, tx) => {
        await applyEvent(tx, allProjections, event);
        this.lagSeconds.set({ projector: PROJECTOR_CONSUMER }, (Date.now() - Date.parse(event.occurredAt)) / 1000);
      },
      // Events waiting on several partitions are applied in one transaction.
      batchHandler: async (events, tx) => {
        await applyBatch(tx, allProjections, events);
        const oldest = Math.min(...events.map((event) => Date.parse(event.occurredAt)));
        this.lagSeconds.set({ projector: PROJECTOR_CONSUMER }, (Date.now() - oldest) / 1000);
      },
    });
    this.probeLag(() => this.busLag(jsm, stream.name));
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

  /** Messages of the projector's partition consumers not yet acknowledged. */
  private async busLag(jsm: JetStreamManager, stream: string): Promise<number> {
    let pending = 0;
    for await (const info of jsm.consumers.list(stream)) {
      if (info.name.startsWith(`${PROJECTOR_CONSUMER}-p`)) pending += info.num_pending + info.num_ack_pending;
    }
    return pending;
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
      const result = await runProjections(this.store, this.sql, allProjections);
      this.scheduleCatchUp(result.events > 0 ? 0 : catchUpIntervalMs);
    } catch (error) {
      if (!this.stopped) this.logger.warn(`projection catch-up failed, retrying: ${(error as Error).message}`);
      this.scheduleCatchUp(1000);
    }
  }
}
