import { Controller, Get, Query, Req } from '@nestjs/common';
import { ZodValidationPipe, type AuthenticatedRequest } from '@nexus/http';
import type { SessionDocument } from '@nexus/projections';
import { ReadModelRepository, type Page } from '../../read-models/read-model.repository';
import { listedOwner } from '../../read-models/visibility';
import { listSessionsQuerySchema, type ListSessionsRequest } from './list-sessions.request.dto';

/** The caller's own sessions, newest first; admins (and approvers) see the tenant's. */
@Controller('v1/sessions')
export class ListSessionsHttpController {
  constructor(private readonly readModels: ReadModelRepository) {}

  @Get()
  list(
    @Req() request: AuthenticatedRequest,
    @Query(new ZodValidationPipe(listSessionsQuerySchema)) query: ListSessionsRequest,
  ): Promise<Page<SessionDocument>> {
    const caller = request.auth.actor;
    const equal = { status: query.status, userId: listedOwner(caller) };
    return this.readModels.page<SessionDocument>(caller.tenantId, { table: 'rm_sessions', equal, sortKey: `doc->>'createdAt'`, direction: 'desc' }, query);
  }
}
