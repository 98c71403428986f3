import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { toolCallDecider, toToolCallStreamId } from '@nexus/domain';
import { CommandHandlingService } from '../../command-handling/command-handling.service';
import { ApproveToolCallCommand } from './approve-tool-call.command';

@CommandHandler(ApproveToolCallCommand)
export class ApproveToolCallHandler implements ICommandHandler<ApproveToolCallCommand> {
  constructor(private readonly commands: CommandHandlingService) {}

  async execute({ toolCallId, request, context: { actor, at, metadata } }: ApproveToolCallCommand) {
    return this.commands.handle(
      [
        {
          streamId: toToolCallStreamId(toolCallId),
          decider: toolCallDecider,
          command: {
            type: 'ApproveToolCall',
            data: { toolCallId, reason: request.reason ?? null, argsDigest: request.argsDigest ?? null, actor, at },
          },
        },
      ],
      metadata,
    );
  }
}
