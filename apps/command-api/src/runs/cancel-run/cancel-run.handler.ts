import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { runDecider, toRunStreamId } from '@nexus/domain';
import { CommandHandlingService } from '../../command-handling/command-handling.service';
import { CancelRunCommand } from './cancel-run.command';

@CommandHandler(CancelRunCommand)
export class CancelRunHandler implements ICommandHandler<CancelRunCommand> {
  constructor(private readonly commands: CommandHandlingService) {}

  async execute({ runId, request, context: { actor, at, metadata } }: CancelRunCommand) {
    return this.commands.handle(
      [
        {
          streamId: toRunStreamId(runId),
          decider: runDecider,
          command: { type: 'CancelRun', data: { runId, reason: request.reason ?? null, actor, at } },
        },
      ],
      metadata,
    );
  }
}
