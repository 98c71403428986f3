import { Body, Controller, Param, Req } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ZodValidationPipe, type AuthenticatedRequest } from '@nexus/http';
import { commandContextOf, idParamSchema } from '../../http/command-request';
import { CommandEndpoint, replyWith, type CommandReply } from '../../idempotency/command-endpoint.decorator';
import { ApproveToolCallCommand } from './approve-tool-call.command';
import { approveToolCallRequestSchema, type ApproveToolCallRequest } from './approve-tool-call.request.dto';

@Controller('v1/tool-calls/:toolCallId/approve')
export class ApproveToolCallHttpController {
  constructor(private readonly commandBus: CommandBus) {}

  @CommandEndpoint(202)
  async approve(
    @Req() request: AuthenticatedRequest,
    @Param('toolCallId', new ZodValidationPipe(idParamSchema)) toolCallId: string,
    @Body(new ZodValidationPipe(approveToolCallRequestSchema)) body: ApproveToolCallRequest,
  ): Promise<CommandReply<{ toolCallId: string; status: 'approved' }>> {
    const reply = replyWith({ toolCallId, status: 'approved' });
    const { position } = await this.commandBus.execute(new ApproveToolCallCommand(toolCallId, body, commandContextOf(request)));
    return { body: reply, position };
  }
}
