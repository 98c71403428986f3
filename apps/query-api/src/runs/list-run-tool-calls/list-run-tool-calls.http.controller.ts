import { Controller, Get, Param, Req } from '@nestjs/common';
import { ZodValidationPipe, type AuthenticatedRequest } from '@nexus/http';
import type { RunDocument, ToolCallDocument } from '@nexus/projections';
import { ReadModelRepository } from '../../read-models/read-model.repository';
import { idParamSchema } from '../../read-models/read-model.request.dto';
import { visibleOr404 } from '../../read-models/visibility';

@Controller('v1/runs/:runId/tool-calls')
export class ListRunToolCallsHttpController {
  constructor(private readonly readModels: ReadModelRepository) {}

  @Get()
  async list(@Req() request: AuthenticatedRequest, @Param('runId', new ZodValidationPipe(idParamSchema)) id: string): Promise<ToolCallDocument[]> {
    const { tenantId } = request.auth.actor;
    visibleOr404(await this.readModels.get<RunDocument>('rm_runs', id, tenantId), request.auth.actor, `Run ${id}`);
    return this.readModels.list<ToolCallDocument>('rm_tool_calls', tenantId, `doc->>'runId'`, id, `doc->>'requestedAt'`);
  }
}
