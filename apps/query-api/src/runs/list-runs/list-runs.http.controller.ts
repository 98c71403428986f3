import { Controller, Get, Query, Req } from '@nestjs/common';
import { ZodValidationPipe, type AuthenticatedRequest } from '@nexus/http';
import type { RunDocument } from '@nexus/projections';
import { ReadModelRepository, type Page } from '../../read-models/read-model.repository';
import { pageLimit, seesWholeTenant } from '../../read-models/visibility';
import { listRunsQuerySchema, type ListRunsRequest } from './list-runs.request.dto';

@Controller('v1/runs')
export class ListRunsHttpController {
  constructor(private readonly readModels: ReadModelRepository) {}

  @Get()
  list(@Req() request: AuthenticatedRequest, @Query(new ZodValidationPipe(listRunsQuerySchema)) query: ListRunsRequest): Promise<Page<RunDocument>> {
    const caller = request.auth.actor;
    return this.readModels.page<RunDocument>({
      table: 'rm_runs',
      tenantId: caller.tenantId,
      filters: [
        ...(query.sessionId === undefined ? [] : [[`doc->>'sessionId' = ?`, query.sessionId] as const]),
        ...(query.status === undefined ? [] : [[`doc->>'status' = ?`, query.status] as const]),
        ...(seesWholeTenant(caller) ? [] : [[`doc->>'userId' = ?`, caller.userId] as const]),
      ],
      sortKey: `doc->>'startedAt'`,
      direction: 'desc',
      cursor: query.cursor,
      limit: pageLimit(query.limit),
    });
  }
}
