import { Controller } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { Context, IdParam, ValidBody, type CommandContext } from '../../http/command-request';
import { CommandHttpController } from '../../http/command-http.controller';
import { CommandEndpoint } from '../../idempotency/command-endpoint.decorator';
import { forkRun } from './fork-run.mapping';
import { forkRunRequestSchema, type ForkRunRequest } from './fork-run.request.dto';

@Controller('v1/runs/:runId/forks')
export class ForkRunHttpController extends CommandHttpController {
  @CommandEndpoint(202)
  fork(@Context() context: CommandContext, @IdParam('runId') runId: string, @ValidBody(forkRunRequestSchema) body: ForkRunRequest) {
    const fork = { runId: uuidv7(), sessionId: body.sessionId ?? uuidv7() };
    return this.execute(context, fork, forkRun(runId, fork, body, context));
  }
}
