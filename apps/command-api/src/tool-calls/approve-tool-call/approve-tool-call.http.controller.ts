import { Controller } from '@nestjs/common';
import { Context, IdParam, ValidBody, type CommandContext } from '../../http/command-request';
import { CommandHttpController } from '../../http/command-http.controller';
import { CommandEndpoint } from '../../idempotency/command-endpoint.decorator';
import { approveToolCall } from './approve-tool-call.mapping';
import { approveToolCallRequestSchema, type ApproveToolCallRequest } from './approve-tool-call.request.dto';

@Controller('v1/tool-calls/:toolCallId/approve')
export class ApproveToolCallHttpController extends CommandHttpController {
  @CommandEndpoint(202)
  approve(@Context() context: CommandContext, @IdParam('toolCallId') toolCallId: string, @ValidBody(approveToolCallRequestSchema) body: ApproveToolCallRequest) {
    return this.execute(context, { toolCallId, status: 'approved' }, approveToolCall(toolCallId, body, context));
  }
}
