import { Controller, Get, Param, Req } from '@nestjs/common';
import { ZodValidationPipe, type AuthenticatedRequest } from '@nexus/http';
import type { ToolCallDocument } from '@nexus/projections';
import { ReadModelRepository } from '../../read-models/read-model.repository';
import { idParamSchema } from '../../read-models/read-model.request.dto';

@Controller('v1/tool-calls/:toolCallId')
export class GetToolCallHttpController {
  constructor(private readonly readModels: ReadModelRepository) {}

  @Get()
  get(@Req() request: AuthenticatedRequest, @Param('toolCallId', new ZodValidationPipe(idParamSchema)) id: string): Promise<ToolCallDocument> {
    return this.readModels.getVisible<ToolCallDocument>('rm_tool_calls', id, request.auth.actor, `Tool call ${id}`, (doc) => doc.requestedBy);
  }
}
