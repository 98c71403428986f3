import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { budgetDecider, toBudgetStreamId } from '@nexus/domain';
import { CommandHandlingService } from '../../command-handling/command-handling.service';
import { ReleaseReservationCommand } from './release-reservation.command';

@CommandHandler(ReleaseReservationCommand)
export class ReleaseReservationHandler implements ICommandHandler<ReleaseReservationCommand> {
  constructor(private readonly commands: CommandHandlingService) {}

  async execute({ sessionId, reservationId, context: { actor, at, metadata } }: ReleaseReservationCommand) {
    return this.commands.handle(
      [
        {
          streamId: toBudgetStreamId(sessionId),
          decider: budgetDecider,
          command: { type: 'ReleaseReservation', data: { sessionId, reservationId, actor, at } },
        },
      ],
      metadata,
    );
  }
}
