import { Controller, Get, Param, Req } from '@nestjs/common';
import { ZodValidationPipe, type AuthenticatedRequest } from '@nexus/http';
import type { RunDocument } from '@nexus/projections';
import { ReadModelRepository } from '../../read-models/read-model.repository';
import { idParamSchema } from '../../read-models/read-model.request.dto';

@Controller('v1/runs/:runId')
export class GetRunHttpController {
  constructor(private readonly readModels: ReadModelRepository) {}

  @Get()
  async get(@Req() request: AuthenticatedRequest, @Param('runId', new ZodValidationPipe(idParamSchema)) id: string): Promise<RunDocument> {
    const run = await this.readModels.getVisible<RunDocument>('rm_runs', id, request.auth.actor, `Run ${id}`);
    // Documents projected before forks existed have neither field: they are no fork and have none.
    return { ...run, forkedFrom: run.forkedFrom ?? null, forks: run.forks ?? [] };
  }
}
