import { Controller, Get, Query, Req } from '@nestjs/common';
import { ZodValidationPipe, type AuthenticatedRequest } from '@nexus/http';
import type { AuditEntryDocument } from '@nexus/projections';
import { ReadModelRepository, type Page } from '../../read-models/read-model.repository';
import { pageLimit, seesWholeTenant } from '../../read-models/visibility';
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
    const actor = seesWholeTenant(caller) ? query.actor : caller.userId;
    const eq = (field: string, value: string | undefined) => (value === undefined ? [] : [[`doc->>'${field}' = ?`, value] as const]);
    return this.readModels.page<AuditEntryDocument>({
      table: 'rm_audit_log',
      tenantId: caller.tenantId,
      filters: [
        ...eq('actor', actor),
        ...eq('action', query.action),
        ...eq('resourceType', query.resourceType),
        ...eq('resourceId', query.resourceId),
        ...(query.from === undefined ? [] : [[`doc->>'at' >= ?`, new Date(query.from).toISOString()] as const]),
        ...(query.to === undefined ? [] : [[`doc->>'at' < ?`, new Date(query.to).toISOString()] as const]),
      ],
      // Zero-padded so that text order is log order.
      sortKey: `lpad(last_position::text, 20, '0')`,
      direction: 'asc',
      cursor: query.cursor,
      limit: pageLimit(query.limit),
    });
  }
}
