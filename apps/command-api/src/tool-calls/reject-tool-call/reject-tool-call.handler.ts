import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { toolCallDecider, toToolCallStreamId } from '@nexus/domain';
import { CommandHandlingService } from '../../command-handling/command-handling.service';
import { RejectToolCallCommand } from './reject-tool-call.command';

@CommandHandler(RejectToolCallCommand)
export class RejectToolCallHandler implements ICommandHandler<RejectToolCallCommand> {
  constructor(private readonly commands: CommandHandlingService) {}

  async execute({ toolCallId, request, context: { actor, at, metadata } }: RejectToolCallCommand) {
    return this.commands.handle(
      [
        {
          streamId: toToolCallStreamId(toolCallId),
          decider: toolCallDecider,
          command: { type: 'RejectToolCall', data: { toolCallId, reason: request.reason, actor, at } },
        },
      ],
      metadata,
    );
  }
}
