import { Inject, Injectable, Logger, type OnApplicationBootstrap, type BeforeApplicationShutdown } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectToBus, OutboxRelay } from '@nexus/bus';
import { NEXUS_CONFIG, type NexusConfig } from '@nexus/config';
import { PgSqlExecutor, SQL_EXECUTOR, type SqlExecutor } from '@nexus/event-store';

/**
 * Publishes committed events to JetStream (distributed mode). Every command-api instance runs a
 * relay; an advisory lock lets exactly one lead while the others stand by. Embedded mode has no
 * relay: there the event store itself is the bus.
 */
@Injectable()
export class RelayEventsWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('relay');
  private nats: NatsConnection | undefined;
  private relay: OutboxRelay | undefined;

  constructor(
    @Inject(NEXUS_CONFIG) private readonly config: NexusConfig,
    @Inject(SQL_EXECUTOR) private readonly sql: SqlExecutor,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.NATS_URL === undefined) return;
    if (!(this.sql instanceof PgSqlExecutor)) {
      this.logger.warn('NATS_URL is set but the event store is embedded: events are not relayed (set DATABASE_URL too)');
      return;
    }
    // Reconnects for ever: while NATS is away, commands keep committing and the relay catches up.
    this.nats = await connectToBus(this.config.NATS_URL);
    this.relay = new OutboxRelay({ sql: this.sql, nats: this.nats, partitions: this.config.NEXUS_BUS_PARTITIONS }).start();
  }

  // Before the database connections close (they close in onApplicationShutdown).
  async beforeApplicationShutdown(): Promise<void> {
    await this.relay?.stop();
    await this.nats?.drain();
  }
}
