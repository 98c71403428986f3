import { Controller, Get, Inject, Param, Query, Req } from '@nestjs/common';
import { isAllowed } from '@nexus/domain';
import { EVENT_STORE, type EventStorePort } from '@nexus/event-store';
import { toolCallEventContract, toolCallStream, type RecordedEvent } from '@nexus/events';
import { ProblemException, ZodValidationPipe, type AuthenticatedRequest } from '@nexus/http';
import {
  readStreamEventsQuerySchema,
  streamIdParamSchema,
  type ReadStreamEventsRequest,
} from './read-stream-events.request.dto';

/**
 * A stream's raw history with metadata and hashes. A stream belongs to the tenant of the actor
 * who opened it; other tenants get 404. Inside the tenant, its owner, approvers and admins read it.
 * The event store is read directly, as every other query reads its read model: no query bus.
 */
@Controller('v1/streams/:streamId/events')
export class ReadStreamEventsHttpController {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStorePort) {}

  @Get()
  async read(
    @Req() request: AuthenticatedRequest,
    @Param('streamId', new ZodValidationPipe(streamIdParamSchema)) streamId: string,
    @Query(new ZodValidationPipe(readStreamEventsQuerySchema)) query: ReadStreamEventsRequest,
  ): Promise<{ streamId: string; events: RecordedEvent[] }> {
    // One read serves both the ownership check (the first event) and the answer.
    const events = await this.store.readStream(streamId);
    const first = events[0];
    const visible = first !== undefined && isAllowed(request.auth.actor, 'read', { tenantId: first.metadata.actor.tenantId, ownerId: ownerOf(first) });
    if (!visible) throw new ProblemException(404, 'not_found', 'Not found', `Stream ${streamId} was not found.`);
    return { streamId, events: events.filter((event) => event.streamVersion >= query.fromVersion) };
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
