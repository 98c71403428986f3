import type { NatsConnection } from '@nats-io/transport-node';
import type { DomainCommand, EventMetadata } from '@nexus/events';
import {
  CommandRejectedError,
  CommandSideUnavailableError,
  INTERNAL_COMMANDS_SUBJECT,
  isDomainErrorCode,
  type CommandReceipt,
  type CommandSenderPort,
  type InternalCommandReply,
} from './command-sender.port';

/**
 * Sends internal commands to command-api over NATS request/reply. A timeout, a missing responder,
 * NATS away or command-api's database away reject with `CommandSideUnavailableError` (the caller
 * may retry: commands from services are idempotent); a refusal by the command side rejects with
 * `CommandRejectedError`, a `DomainError` with the refusal's code, as the in-process sender's
 * refusals are; a failure of the command side itself (500) with a plain error, as in process.
 */
export class NatsCommandSender implements CommandSenderPort {
  constructor(
    private readonly nats: NatsConnection,
    private readonly timeoutMs = 10_000,
  ) {}

  async send(command: DomainCommand, metadata: EventMetadata): Promise<CommandReceipt> {
    const message = await this.nats
      .request(INTERNAL_COMMANDS_SUBJECT, JSON.stringify({ command, metadata }), { timeout: this.timeoutMs })
      .catch((error: unknown) => {
        throw new CommandSideUnavailableError(`internal command not answered: ${(error as Error).message}`, { cause: error });
      });
    const reply = message.json<InternalCommandReply>();
    if (reply.ok) return reply.receipt;
    if (reply.code === 'unavailable') throw new CommandSideUnavailableError(reply.detail);
    if (isDomainErrorCode(reply.code)) throw new CommandRejectedError(reply.status, reply.code, reply.detail);
    throw new Error(`internal command failed on the command side: ${reply.code}: ${reply.detail}`);
  }
}
