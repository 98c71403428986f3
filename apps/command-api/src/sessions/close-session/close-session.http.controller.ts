import { Controller } from '@nestjs/common';
import { Context, IdParam, ValidBody, type CommandContext } from '../../http/command-request';
import { CommandHttpController } from '../../http/command-http.controller';
import { CommandEndpoint } from '../../idempotency/command-endpoint.decorator';
import { closeSession } from './close-session.mapping';
import { closeSessionRequestSchema, type CloseSessionRequest } from './close-session.request.dto';

@Controller('v1/sessions/:sessionId/close')
export class CloseSessionHttpController extends CommandHttpController {
  @CommandEndpoint(202)
  close(@Context() context: CommandContext, @IdParam('sessionId') sessionId: string, @ValidBody(closeSessionRequestSchema) body: CloseSessionRequest) {
    return this.execute(context, { sessionId, status: 'closed' }, closeSession(sessionId, body, context));
  }
}
