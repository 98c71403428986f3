import { DomainError } from '@nexus/domain';
import { CommandRejectedError, CommandSideUnavailableError, isDomainErrorCode, type CommandReceipt } from '@nexus/bus';
import type { EventMetadata } from '@nexus/events';
import { toProblem } from '@nexus/http';
import type { CommandHandlingService } from '../../command-handling/command-handling.service';
import { internalCommandPlan } from './internal-command.mapping';

/**
 * An internal command through the one handling path, answered as every command sender answers: a
 * receipt, or a refusal as a `DomainError` (the decider's own, or a `CommandRejectedError` for an
 * invalid command or a conflict that outlasted the retries), or `CommandSideUnavailableError`.
 * Served over NATS and called in process alike, so a caller cannot tell the two apart.
 */
export async function executeInternalCommand(commands: CommandHandlingService, command: unknown, metadata: EventMetadata): Promise<CommandReceipt> {
  try {
    const { position, events } = await commands.handle(internalCommandPlan(command), metadata);
    return { position, eventTypes: events.map((e) => e.type) };
  } catch (error) {
    throw rejectionOf(error);
  }
}

/** What a failed command is to its sender; a failure of the command side itself stays as it is. */
function rejectionOf(error: unknown): unknown {
  if (error instanceof DomainError) return error;
  const { document, internal } = toProblem(error);
  if (document.code === 'unavailable') return new CommandSideUnavailableError(document.detail, { cause: error });
  if (internal || !isDomainErrorCode(document.code)) return error;
  return new CommandRejectedError(document.status, document.code, document.detail);
}
