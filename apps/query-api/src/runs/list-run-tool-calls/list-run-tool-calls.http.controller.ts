import { Controller, Get, Param, Req } from '@nestjs/common';
import { ZodValidationPipe, type AuthenticatedRequest } from '@nexus/http';
import type { RunDocument, ToolCallDocument } from '@nexus/projections';
import { ReadModelRepository } from '../../read-models/read-model.repository';
import { idParamSchema } from '../../read-models/read-model.request.dto';

@Controller('v1/runs/:runId/tool-calls')
export class ListRunToolCallsHttpController {
  constructor(private readonly readModels: ReadModelRepository) {}

  @Get()
  async list(@Req() request: AuthenticatedRequest, @Param('runId', new ZodValidationPipe(idParamSchema)) id: string): Promise<ToolCallDocument[]> {
    await this.readModels.getVisible<RunDocument>('rm_runs', id, request.auth.actor, `Run ${id}`);
    return this.readModels.list<ToolCallDocument>('rm_tool_calls', request.auth.actor.tenantId, `doc->>'runId'`, id, `doc->>'requestedAt'`);
  }
}
