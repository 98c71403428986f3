import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { z } from 'zod';
import { connectToBus, INTERNAL_COMMANDS_QUEUE, INTERNAL_COMMANDS_SUBJECT, type InternalCommandReply } from '@nexus/bus';
import { NEXUS_CONFIG, type NexusConfig } from '@nexus/config';
import { eventMetadataSchema } from '@nexus/events';
import { toProblem } from '@nexus/http';
import { CommandHandlingService } from '../command-handling/command-handling.service';
import { executeInternalCommand } from './execute-internal-command/execute-internal-command';

const envelopeSchema = z.strictObject({ command: z.unknown(), metadata: eventMetadataSchema });

/**
 * Serves internal commands over NATS request/reply (distributed mode): every command-api instance
 * joins one queue group, so each command is handled once, by a decider, like an HTTP command.
 * Only Nexus services reach this subject; it is not exposed to clients.
 */
@Injectable()
export class ServeInternalCommandsNatsListener implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('internal-commands');
  private nats: NatsConnection | undefined;
  private subscription: Subscription | undefined;

  constructor(
    @Inject(NEXUS_CONFIG) private readonly config: NexusConfig,
    private readonly commands: CommandHandlingService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.NATS_URL === undefined) return;
    this.nats = await connectToBus(this.config.NATS_URL);
    this.subscription = this.nats.subscribe(INTERNAL_COMMANDS_SUBJECT, {
      queue: INTERNAL_COMMANDS_QUEUE,
      callback: (error, message) => {
        if (error !== null) return this.logger.warn(`subscription error: ${error.message}`);
        void this.handle(message.json()).then((reply) => message.respond(JSON.stringify(reply)));
      },
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.subscription?.unsubscribe();
    await this.nats?.drain();
  }

  private async handle(payload: unknown): Promise<InternalCommandReply> {
    try {
      const { command, metadata } = envelopeSchema.parse(payload);
      const receipt = await executeInternalCommand(this.commands, command, metadata);
      return { ok: true, receipt };
    } catch (error) {
      const { document, internal } = toProblem(error);
      if (internal) this.logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
      return { ok: false, status: document.status, code: document.code, detail: document.detail };
    }
  }
}
