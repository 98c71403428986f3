import { Controller } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { Context, ValidBody, type CommandContext } from '../../http/command-request';
import { CommandHttpController } from '../../http/command-http.controller';
import { CommandEndpoint } from '../../idempotency/command-endpoint.decorator';
import { startSession } from './start-session.mapping';
import { startSessionRequestSchema, type StartSessionRequest } from './start-session.request.dto';

@Controller('v1/sessions')
export class StartSessionHttpController extends CommandHttpController {
  @CommandEndpoint(201)
  start(@Context() context: CommandContext, @ValidBody(startSessionRequestSchema) body: StartSessionRequest) {
    const sessionId = uuidv7();
    return this.execute(context, { sessionId }, startSession(sessionId, body, context));
  }
}
