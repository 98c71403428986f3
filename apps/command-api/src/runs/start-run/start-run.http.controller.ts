import { Controller } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { Context, IdParam, ValidBody, type CommandContext } from '../../http/command-request';
import { CommandHttpController } from '../../http/command-http.controller';
import { CommandEndpoint } from '../../idempotency/command-endpoint.decorator';
import { startRun } from './start-run.mapping';
import { startRunRequestSchema, type StartRunRequest } from './start-run.request.dto';

@Controller('v1/sessions/:sessionId/runs')
export class StartRunHttpController extends CommandHttpController {
  @CommandEndpoint(202)
  start(@Context() context: CommandContext, @IdParam('sessionId') sessionId: string, @ValidBody(startRunRequestSchema) body: StartRunRequest) {
    const run = { sessionId, runId: uuidv7() };
    const defaults = { model: this.config.NEXUS_DEFAULT_MODEL, maxSteps: this.config.NEXUS_DEFAULT_MAX_STEPS };
    return this.execute(context, { runId: run.runId }, startRun(run, body, defaults, context));
  }
}
