import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { NEXUS_CONFIG, type NexusConfig } from '@nexus/config';
import { IdempotencyStore } from './idempotency.store';

const everyHour = 3_600_000;

/**
 * Drops keys past their retention window, hourly. Any instance of any app may do it (in one process
 * several do): the DELETE is safe to race.
 */
@Injectable()
export class PurgeIdempotencyKeysJob implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('idempotency');
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: IdempotencyStore,
    @Inject(NEXUS_CONFIG) private readonly config: NexusConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.purge(), everyHour);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private async purge(): Promise<void> {
    try {
      const purged = await this.store.purge(this.config.NEXUS_IDEMPOTENCY_TTL_HOURS);
      if (purged > 0) this.logger.log(`purged ${purged} expired idempotency keys`);
    } catch (error) {
      this.logger.warn(`purging idempotency keys failed: ${(error as Error).message}`);
    }
  }
}
