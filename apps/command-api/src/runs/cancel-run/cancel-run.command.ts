import { Command } from '@nestjs/cqrs';
import type { CommandContext } from '../../http/command-request';
import type { CancelRunRequest } from './cancel-run.request.dto';

export class CancelRunCommand extends Command<{ position: number }> {
  constructor(
    readonly runId: string,
    readonly request: CancelRunRequest,
    readonly context: CommandContext,
  ) {
    super();
  }
}
