import { Body, Controller, Param, Req } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ZodValidationPipe, type AuthenticatedRequest } from '@nexus/http';
import { commandContextOf, idParamSchema } from '../../http/command-request';
import { CommandEndpoint, replyWith, type CommandReply } from '../../idempotency/command-endpoint.decorator';
import { RejectToolCallCommand } from './reject-tool-call.command';
import { rejectToolCallRequestSchema, type RejectToolCallRequest } from './reject-tool-call.request.dto';

@Controller('v1/tool-calls/:toolCallId/reject')
export class RejectToolCallHttpController {
  constructor(private readonly commandBus: CommandBus) {}

  @CommandEndpoint(202)
  async reject(
    @Req() request: AuthenticatedRequest,
    @Param('toolCallId', new ZodValidationPipe(idParamSchema)) toolCallId: string,
    @Body(new ZodValidationPipe(rejectToolCallRequestSchema)) body: RejectToolCallRequest,
  ): Promise<CommandReply<{ toolCallId: string; status: 'rejected' }>> {
    const reply = replyWith({ toolCallId, status: 'rejected' });
    const { position } = await this.commandBus.execute(new RejectToolCallCommand(toolCallId, body, commandContextOf(request)));
    return { body: reply, position };
  }
}
