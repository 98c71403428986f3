import type { RecordedEvent } from '@nexus/events';
import { streamCategory, streamEntityId, type Projection } from '../projection';

export interface AuditEntryDocument {
  readonly id: string;
  readonly at: string;
  readonly actor: string;
  readonly actorRoles: readonly string[];
  readonly tenantId: string;
  readonly action: string;
  readonly resourceType: string;
  readonly resourceId: string;
  readonly details: object;
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly correlationId: string;
  readonly eventId: string;
  readonly streamId: string;
  readonly position: number;
}

/** `GET /v1/audit`: one entry per event of every type, written once and never changed. */
export const auditLogProjection: Projection<AuditEntryDocument> = {
  name: 'audit_log',
  handles: '*',
  documentId: (event: RecordedEvent) => event.id,
  evolve(doc, event) {
    if (doc !== null) return doc;
    return {
      id: event.id,
      at: event.occurredAt,
      actor: event.metadata.actor.userId,
      actorRoles: event.metadata.actor.roles,
      tenantId: event.metadata.actor.tenantId,
      action: event.type,
      resourceType: streamCategory(event.streamId),
      resourceId: streamEntityId(event.streamId),
      details: event.data,
      ip: event.metadata.ip,
      userAgent: event.metadata.userAgent,
      correlationId: event.metadata.correlationId,
      eventId: event.id,
      streamId: event.streamId,
      position: event.globalPosition,
    };
  },
};
