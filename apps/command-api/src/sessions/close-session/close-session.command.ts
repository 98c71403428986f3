import { Command } from '@nestjs/cqrs';
import type { CommandContext } from '../../http/command-request';
import type { CloseSessionRequest } from './close-session.request.dto';

export class CloseSessionCommand extends Command<{ position: number }> {
  constructor(
    readonly sessionId: string,
    readonly request: CloseSessionRequest,
    readonly context: CommandContext,
  ) {
    super();
  }
}
