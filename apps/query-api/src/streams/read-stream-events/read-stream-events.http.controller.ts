import { Controller, Get, Param, Query as QueryParams, Req } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import type { RecordedEvent } from '@nexus/events';
import { ZodValidationPipe, type AuthenticatedRequest } from '@nexus/http';
import { ReadStreamEventsQuery } from './read-stream-events.query';
import {
  readStreamEventsQuerySchema,
  streamIdParamSchema,
  type ReadStreamEventsRequest,
} from './read-stream-events.request.dto';


@Controller('v1/streams/:streamId/events')
export class ReadStreamEventsHttpController {
  constructor(private readonly queryBus: QueryBus) {}

  @Get()
  async read(
    @Req() request: AuthenticatedRequest,
    @Param('streamId', new ZodValidationPipe(streamIdParamSchema)) streamId: string,
    @QueryParams(new ZodValidationPipe(readStreamEventsQuerySchema)) query: ReadStreamEventsRequest,
  ): Promise<{ streamId: string; events: RecordedEvent[] }> {
    const events = await this.queryBus.execute(new ReadStreamEventsQuery(streamId, query.fromVersion, request.auth.actor));
    return { streamId, events };
  }
}
