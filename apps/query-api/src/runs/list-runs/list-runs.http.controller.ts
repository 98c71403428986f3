import { Controller, Get, Query, Req } from '@nestjs/common';
import { ZodValidationPipe, type AuthenticatedRequest } from '@nexus/http';
import type { RunDocument } from '@nexus/projections';
import { ReadModelRepository, type Page } from '../../read-models/read-model.repository';
import { listedOwner } from '../../read-models/visibility';
import { listRunsQuerySchema, type ListRunsRequest } from './list-runs.request.dto';

@Controller('v1/runs')
export class ListRunsHttpController {
  constructor(private readonly readModels: ReadModelRepository) {}

  @Get()
  list(@Req() request: AuthenticatedRequest, @Query(new ZodValidationPipe(listRunsQuerySchema)) query: ListRunsRequest): Promise<Page<RunDocument>> {
    const caller = request.auth.actor;
    const equal = { sessionId: query.sessionId, status: query.status, userId: listedOwner(caller) };
    return this.readModels.page<RunDocument>(caller.tenantId, { table: 'rm_runs', equal, sortKey: `doc->>'startedAt'`, direction: 'desc' }, query);
  }
}
