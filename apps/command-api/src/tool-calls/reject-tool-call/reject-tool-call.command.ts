import { Command } from '@nestjs/cqrs';
import type { CommandContext } from '../../http/command-request';
import type { RejectToolCallRequest } from './reject-tool-call.request.dto';

export class RejectToolCallCommand extends Command<{ position: number }> {
  constructor(
    readonly toolCallId: string,
    readonly request: RejectToolCallRequest,
    readonly context: CommandContext,
  ) {
    super();
  }
}
