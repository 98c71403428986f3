import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { SQL_EXECUTOR, type SqlExecutor } from '@nexus/event-store';
import { eventMetadataSchema, type DomainCommand } from '@nexus/events';
import { TimerWorker } from '@nexus/timers';
import { InProcessCommandSender } from '../agent-loop/internal-command.sender';

/**
 * Fires durable timers (reservation expiry, run wall clock, approval expiry) as internal commands.
 * Timers are rows, so they survive restarts; every command-api instance polls, and a due timer is
 * claimed by one of them (SKIP LOCKED). The commands are idempotent: a late timer is a no-op.
 */
@Injectable()
export class FireDueTimersWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('timers');
  private worker: TimerWorker<DomainCommand> | undefined;

  constructor(
    @Inject(SQL_EXECUTOR) private readonly sql: SqlExecutor,
    private readonly sender: InProcessCommandSender,
  ) {}

  onApplicationBootstrap(): void {
    this.worker = new TimerWorker<DomainCommand>({
      sql: this.sql,
      pollMs: 250,
      fire: async (timer) => void (await this.sender.send(timer.command, eventMetadataSchema.parse(timer.metadata))),
      onError: (error) => this.logger.warn(`a timer failed to fire: ${(error as Error).message}`),
    });
    this.worker.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.worker?.stop();
  }
}
