import { Controller, Get, Query, Req } from '@nestjs/common';
import { ZodValidationPipe, type AuthenticatedRequest } from '@nexus/http';
import type { AuditEntryDocument } from '@nexus/projections';
import { ReadModelRepository, type Page } from '../../read-models/read-model.repository';
import { listedOwner } from '../../read-models/visibility';
import { listAuditEntriesQuerySchema, type ListAuditEntriesRequest } from './list-audit-entries.request.dto';

/**
 * The audit log: one entry per event, in log order. Users see their own actions; approvers and
 * admins the tenant's. `from`/`to` compare ISO timestamps, which sort as text.
 */
@Controller('v1/audit')
export class ListAuditEntriesHttpController {
  constructor(private readonly readModels: ReadModelRepository) {}

  @Get()
  list(
    @Req() request: AuthenticatedRequest,
    @Query(new ZodValidationPipe(listAuditEntriesQuerySchema)) query: ListAuditEntriesRequest,
  ): Promise<Page<AuditEntryDocument>> {
    const caller = request.auth.actor;
    return this.readModels.page<AuditEntryDocument>(
      caller.tenantId,
      {
        table: 'rm_audit_log',
        equal: { actor: listedOwner(caller) ?? query.actor, action: query.action, resourceType: query.resourceType, resourceId: query.resourceId },
        filters: [
          ...(query.from === undefined ? [] : [[`doc->>'at' >= ?`, new Date(query.from).toISOString()] as const]),
          ...(query.to === undefined ? [] : [[`doc->>'at' < ?`, new Date(query.to).toISOString()] as const]),
        ],
        // Zero-padded so that text order is log order.
        sortKey: `lpad(last_position::text, 20, '0')`,
        direction: 'asc',
      },
      query,
    );
  }
}
