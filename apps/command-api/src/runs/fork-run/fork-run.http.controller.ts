import { Body, Controller, Param, Req } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { ZodValidationPipe, type AuthenticatedRequest } from '@nexus/http';
import { commandContextOf, idParamSchema } from '../../http/command-request';
import { CommandEndpoint, replyWith, type CommandReply } from '../../idempotency/command-endpoint.decorator';
import { ForkRunHandler } from './fork-run.handler';
import { forkRunRequestSchema, type ForkRunRequest } from './fork-run.request.dto';

@Controller('v1/runs/:runId/forks')
export class ForkRunHttpController {
  constructor(private readonly handler: ForkRunHandler) {}

  @CommandEndpoint(202)
  async fork(
    @Req() request: AuthenticatedRequest,
    @Param('runId', new ZodValidationPipe(idParamSchema)) runId: string,
    @Body(new ZodValidationPipe(forkRunRequestSchema)) body: ForkRunRequest,
  ): Promise<CommandReply<{ runId: string; sessionId: string }>> {
    const reply = replyWith({ runId: uuidv7(), sessionId: body.sessionId ?? uuidv7() });
    const { position } = await this.handler.fork(runId, reply, body, commandContextOf(request));
    return { body: reply, position };
  }
}
