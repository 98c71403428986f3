import { Body, Controller, Req } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { v7 as uuidv7 } from 'uuid';
import { ZodValidationPipe, type AuthenticatedRequest } from '@nexus/http';
import { commandContextOf } from '../../http/command-request';
import { CommandEndpoint, replyWith, type CommandReply } from '../../idempotency/command-endpoint.decorator';
import { StartSessionCommand } from './start-session.command';
import { startSessionRequestSchema, type StartSessionRequest } from './start-session.request.dto';

@Controller('v1/sessions')
export class StartSessionHttpController {
  constructor(private readonly commandBus: CommandBus) {}

  @CommandEndpoint(201)
  async start(
    @Req() request: AuthenticatedRequest,
    @Body(new ZodValidationPipe(startSessionRequestSchema)) body: StartSessionRequest,
  ): Promise<CommandReply<{ sessionId: string }>> {
    const reply = replyWith({ sessionId: uuidv7() });
    const { position } = await this.commandBus.execute(
      new StartSessionCommand(reply.sessionId, body, commandContextOf(request)),
    );
    return { body: reply, position };
  }
}
