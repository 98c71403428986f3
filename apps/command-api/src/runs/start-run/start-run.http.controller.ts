import { Body, Controller, Param, Req } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { v7 as uuidv7 } from 'uuid';
import { ZodValidationPipe, type AuthenticatedRequest } from '@nexus/http';
import { commandContextOf, idParamSchema } from '../../http/command-request';
import { CommandEndpoint, replyWith, type CommandReply } from '../../idempotency/command-endpoint.decorator';
import { StartRunCommand } from './start-run.command';
import { startRunRequestSchema, type StartRunRequest } from './start-run.request.dto';

@Controller('v1/sessions/:sessionId/runs')
export class StartRunHttpController {
  constructor(private readonly commandBus: CommandBus) {}

  @CommandEndpoint(202)
  async start(
    @Req() request: AuthenticatedRequest,
    @Param('sessionId', new ZodValidationPipe(idParamSchema)) sessionId: string,
    @Body(new ZodValidationPipe(startRunRequestSchema)) body: StartRunRequest,
  ): Promise<CommandReply<{ runId: string }>> {
    const reply = replyWith({ runId: uuidv7() });
    const { position } = await this.commandBus.execute(
      new StartRunCommand(sessionId, reply.runId, body, commandContextOf(request)),
    );
    return { body: reply, position };
  }
}
