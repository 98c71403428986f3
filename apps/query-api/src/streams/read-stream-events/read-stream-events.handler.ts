import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { isAllowed } from '@nexus/domain';
import { EVENT_STORE, type EventStorePort } from '@nexus/event-store';
import { toolCallEventContract, toolCallStream, type RecordedEvent } from '@nexus/events';
import { ProblemException } from '@nexus/http';
import { ReadStreamEventsQuery } from './read-stream-events.query';

/**
 * A stream's raw history with metadata and hashes. A stream belongs to the tenant of the actor
 * who opened it; other tenants get 404. Inside the tenant, its owner, approvers and admins read it.
 */
@QueryHandler(ReadStreamEventsQuery)
export class ReadStreamEventsHandler implements IQueryHandler<ReadStreamEventsQuery> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStorePort) {}

  async execute({ streamId, fromVersion, caller }: ReadStreamEventsQuery) {
    // One read serves both the ownership check (the first event) and the answer.
    const events = await this.store.readStream(streamId);
    const first = events[0];
    const opener = first?.metadata.actor;
    const visible = opener !== undefined && isAllowed(caller, 'read', { tenantId: opener.tenantId, ownerId: ownerOf(first as RecordedEvent) });
    if (!visible) throw new ProblemException(404, 'not_found', 'Not found', `Stream ${streamId} was not found.`);
    return events.filter((event) => event.streamVersion >= fromVersion);
  }
}

/**
 * Whose stream it is: the user who opened it or, when a Nexus service opened it on a user's behalf
 * (the agent loop requests a run's tool calls), the user the first event names as the requester.
 */
function ownerOf(first: RecordedEvent): string {
  const { actor } = first.metadata;
  if (!actor.roles.includes('service')) return actor.userId;
  const opening = toolCallStream.is(first.streamId) ? toolCallEventContract.read(first) : undefined;
  return opening?.type === 'ToolCallRequested' ? opening.data.requestedBy.userId : actor.userId;
}
