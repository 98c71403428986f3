import { Command } from '@nestjs/cqrs';
import type { CommandContext } from '../../http/command-request';
import type { StartRunRequest } from './start-run.request.dto';

export class StartRunCommand extends Command<{ runId: string; position: number }> {
  constructor(
    readonly sessionId: string,
    readonly runId: string,
    readonly request: StartRunRequest,
    readonly context: CommandContext,
  ) {
    super();
  }
}
