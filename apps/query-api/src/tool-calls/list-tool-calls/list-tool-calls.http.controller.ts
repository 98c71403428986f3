import { Controller, Get, Query, Req } from '@nestjs/common';
import { ZodValidationPipe, type AuthenticatedRequest } from '@nexus/http';
import type { ToolCallDocument } from '@nexus/projections';
import { ReadModelRepository, type Page } from '../../read-models/read-model.repository';
import { listedOwner } from '../../read-models/visibility';
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
    const equal = { status: query.status, requestedBy: listedOwner(caller) };
    return this.readModels.page<ToolCallDocument>(caller.tenantId, { table: 'rm_tool_calls', equal, sortKey: `doc->>'requestedAt'`, direction: 'asc' }, query);
  }
}
