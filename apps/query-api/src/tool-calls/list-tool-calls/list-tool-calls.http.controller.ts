import { Controller, Get, Query, Req } from '@nestjs/common';
import { ZodValidationPipe, type AuthenticatedRequest } from '@nexus/http';
import type { ToolCallDocument } from '@nexus/projections';
import { ReadModelRepository, type Page } from '../../read-models/read-model.repository';
import { pageLimit, seesWholeTenant } from '../../read-models/visibility';
import { listToolCallsQuerySchema, type ListToolCallsRequest } from './list-tool-calls.request.dto';

/** The approval queue (`?status=awaiting_approval`) and other tool-call lists, oldest first. */
@Controller('v1/tool-calls')
export class ListToolCallsHttpController {
  constructor(private readonly readModels: ReadModelRepository) {}

  @Get()
  list(
    @Req() request: AuthenticatedRequest,
    @Query(new ZodValidationPipe(listToolCallsQuerySchema)) query: ListToolCallsRequest,
  ): Promise<Page<ToolCallDocument>> {
    const caller = request.auth.actor;
    return this.readModels.page<ToolCallDocument>({
      table: 'rm_tool_calls',
      tenantId: caller.tenantId,
      filters: [
        ...(query.status === undefined ? [] : [[`doc->>'status' = ?`, query.status] as const]),
        ...(seesWholeTenant(caller) ? [] : [[`doc->>'requestedBy' = ?`, caller.userId] as const]),
      ],
      sortKey: `doc->>'requestedAt'`,
      direction: 'asc',
      cursor: query.cursor,
      limit: pageLimit(query.limit),
    });
  }
}
