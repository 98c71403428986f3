import { Body, Controller, Param, Req } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ZodValidationPipe, type AuthenticatedRequest } from '@nexus/http';
import { commandContextOf, idParamSchema } from '../../http/command-request';
import { CommandEndpoint, replyWith, type CommandReply } from '../../idempotency/command-endpoint.decorator';
import { CloseSessionCommand } from './close-session.command';
import { closeSessionRequestSchema, type CloseSessionRequest } from './close-session.request.dto';

@Controller('v1/sessions/:sessionId/close')
export class CloseSessionHttpController {
  constructor(private readonly commandBus: CommandBus) {}

  @CommandEndpoint(202)
  async close(
    @Req() request: AuthenticatedRequest,
    @Param('sessionId', new ZodValidationPipe(idParamSchema)) sessionId: string,
    @Body(new ZodValidationPipe(closeSessionRequestSchema)) body: CloseSessionRequest,
  ): Promise<CommandReply<{ sessionId: string; status: 'closed' }>> {
    const reply = replyWith({ sessionId, status: 'closed' });
    const { position } = await this.commandBus.execute(new CloseSessionCommand(sessionId, body, commandContextOf(request)));
    return { body: reply, position };
  }
}
