import { Controller } from '@nestjs/common';
import { Context, IdParam, ValidBody, type CommandContext } from '../../http/command-request';
import { CommandHttpController } from '../../http/command-http.controller';
import { CommandEndpoint } from '../../idempotency/command-endpoint.decorator';
import { cancelRun } from './cancel-run.mapping';
import { cancelRunRequestSchema, type CancelRunRequest } from './cancel-run.request.dto';

@Controller('v1/runs/:runId/cancel')
export class CancelRunHttpController extends CommandHttpController {
  @CommandEndpoint(202)
  cancel(@Context() context: CommandContext, @IdParam('runId') runId: string, @ValidBody(cancelRunRequestSchema) body: CancelRunRequest) {
    return this.execute(context, { runId, status: 'cancelled' }, cancelRun(runId, body, context));
  }
}
