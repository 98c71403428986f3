import { Command } from '@nestjs/cqrs';
import type { CommandContext } from '../../http/command-request';
import type { ApproveToolCallRequest } from './approve-tool-call.request.dto';

export class ApproveToolCallCommand extends Command<{ position: number }> {
  constructor(
    readonly toolCallId: string,
    readonly request: ApproveToolCallRequest,
    readonly context: CommandContext,
  ) {
    super();
  }
}
