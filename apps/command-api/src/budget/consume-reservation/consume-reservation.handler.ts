import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { budgetDecider, toBudgetStreamId } from '@nexus/domain';
import { CommandHandlingService } from '../../command-handling/command-handling.service';
import { toMicroUsd } from '../../http/command-request';
import { ConsumeReservationCommand } from './consume-reservation.command';

@CommandHandler(ConsumeReservationCommand)
export class ConsumeReservationHandler implements ICommandHandler<ConsumeReservationCommand> {
  constructor(private readonly commands: CommandHandlingService) {}

  async execute({ sessionId, reservationId, request, context: { actor, at, metadata } }: ConsumeReservationCommand) {
    const amount = {
      tokens: request.tokens,
      costMicroUsd: toMicroUsd(request.costUsd) ?? 0,
      wallClockSeconds: request.wallClockSeconds ?? 0,
    };
    return this.commands.handle(
      [
        {
          streamId: toBudgetStreamId(sessionId),
          decider: budgetDecider,
          command: { type: 'ConsumeReservation', data: { sessionId, reservationId, amount, actor, at } },
        },
      ],
      metadata,
    );
  }
}
