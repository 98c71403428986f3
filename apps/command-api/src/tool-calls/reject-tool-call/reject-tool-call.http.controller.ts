import { Controller } from '@nestjs/common';
import { Context, IdParam, ValidBody, type CommandContext } from '../../http/command-request';
import { CommandHttpController } from '../../http/command-http.controller';
import { CommandEndpoint } from '../../idempotency/command-endpoint.decorator';
import { rejectToolCall } from './reject-tool-call.mapping';
import { rejectToolCallRequestSchema, type RejectToolCallRequest } from './reject-tool-call.request.dto';

@Controller('v1/tool-calls/:toolCallId/reject')
export class RejectToolCallHttpController extends CommandHttpController {
  @CommandEndpoint(202)
  reject(@Context() context: CommandContext, @IdParam('toolCallId') toolCallId: string, @ValidBody(rejectToolCallRequestSchema) body: RejectToolCallRequest) {
    return this.execute(context, { toolCallId, status: 'rejected' }, rejectToolCall(toolCallId, body, context));
  }
}
