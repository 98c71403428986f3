import type { EventMetadata, RecordedEvent } from '@nexus/events';
import { traceparentOf } from './trace-context';

/**
 * The metadata of a command a Nexus service sends because of an event: the service acts in the
 * event's tenant, keeps its correlation id, names the event as the cause, and continues the trace
 * from the current (consumer) span, so the next events are that span's children.
 */
export function metadataCausedBy(event: RecordedEvent, service: string): EventMetadata {
  return {
    actor: { userId: 'nexus', roles: ['service'], tenantId: event.metadata.actor.tenantId },
    correlationId: event.metadata.correlationId,
    causationId: event.id,
    traceparent: traceparentOf() ?? event.metadata.traceparent,
    ip: null,
    userAgent: service,
    idempotencyKey: null,
  };
}
