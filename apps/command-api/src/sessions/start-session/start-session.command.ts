import { Command } from '@nestjs/cqrs';
import type { CommandContext } from '../../http/command-request';
import type { StartSessionRequest } from './start-session.request.dto';

export class StartSessionCommand extends Command<{ sessionId: string; position: number }> {
  constructor(
    readonly sessionId: string,
    readonly request: StartSessionRequest,
    readonly context: CommandContext,
  ) {
    super();
  }
}
