import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { budgetDecider, sessionDecider, toBudgetStreamId, toSessionStreamId } from '@nexus/domain';
import { CommandHandlingService } from '../../command-handling/command-handling.service';
import { CloseSessionCommand } from './close-session.command';

/** Closing a session closes its budget to new reservations in the same append. */
@CommandHandler(CloseSessionCommand)
export class CloseSessionHandler implements ICommandHandler<CloseSessionCommand> {
  constructor(private readonly commands: CommandHandlingService) {}

  async execute({ sessionId, request, context: { actor, at, metadata } }: CloseSessionCommand) {
    return this.commands.handle(
      [
        {
          streamId: toSessionStreamId(sessionId),
          decider: sessionDecider,
          command: { type: 'CloseSession', data: { sessionId, actor, at, ...(request.reason === undefined ? {} : { reason: request.reason }) } },
        },
        {
          streamId: toBudgetStreamId(sessionId),
          decider: budgetDecider,
          command: { type: 'CloseBudget', data: { sessionId, actor, at } },
        },
      ],
      metadata,
    );
  }
}
