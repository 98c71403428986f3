import { Controller, Get, Param, Req } from '@nestjs/common';
import { ZodValidationPipe, type AuthenticatedRequest } from '@nexus/http';
import type { ToolCallDocument } from '@nexus/projections';
import { ReadModelRepository } from '../../read-models/read-model.repository';
import { idParamSchema } from '../../read-models/read-model.request.dto';
import { visibleOr404 } from '../../read-models/visibility';

@Controller('v1/tool-calls/:toolCallId')
export class GetToolCallHttpController {
  constructor(private readonly readModels: ReadModelRepository) {}

  @Get()
  async get(@Req() request: AuthenticatedRequest, @Param('toolCallId', new ZodValidationPipe(idParamSchema)) id: string): Promise<ToolCallDocument> {
    const doc = await this.readModels.get<ToolCallDocument>('rm_tool_calls', id, request.auth.actor.tenantId);
    return visibleOr404(doc === undefined ? undefined : { ...doc, userId: doc.requestedBy }, request.auth.actor, `Tool call ${id}`);
  }
}
