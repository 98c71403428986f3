import { Body, Controller, Param, Req } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ZodValidationPipe, type AuthenticatedRequest } from '@nexus/http';
import { commandContextOf, idParamSchema } from '../../http/command-request';
import { CommandEndpoint, replyWith, type CommandReply } from '../../idempotency/command-endpoint.decorator';
import { CancelRunCommand } from './cancel-run.command';
import { cancelRunRequestSchema, type CancelRunRequest } from './cancel-run.request.dto';

@Controller('v1/runs/:runId/cancel')
export class CancelRunHttpController {
  constructor(private readonly commandBus: CommandBus) {}

  @CommandEndpoint(202)
  async cancel(
    @Req() request: AuthenticatedRequest,
    @Param('runId', new ZodValidationPipe(idParamSchema)) runId: string,
    @Body(new ZodValidationPipe(cancelRunRequestSchema)) body: CancelRunRequest,
  ): Promise<CommandReply<{ runId: string; status: 'cancelled' }>> {
    const reply = replyWith({ runId, status: 'cancelled' });
    const { position } = await this.commandBus.execute(new CancelRunCommand(runId, body, commandContextOf(request)));
    return { body: reply, position };
  }
}
