import { Body, Controller, Inject, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { platformScope } from '@nexus/domain';
import { EVENT_STORE, SQL_EXECUTOR, type EventStorePort, type SqlExecutor } from '@nexus/event-store';
import { streamNdjson, ZodValidationPipe, type AuthenticatedRequest } from '@nexus/http';
import { allProjections, rebuildProjection } from '@nexus/projections';
import { operatorRequestSchema } from '../operator-request.dto';

export const projectionNameSchema = z.enum(allProjections.map((p) => p.name) as [string, ...string[]]);

/**
 * `nexus replay <projection>`: rebuilds one read model from the whole event log into fresh
 * tables while the live one keeps serving, then swaps them; progress is streamed. Every tenant
 * reads the rebuilt tables, so only an operator may.
 */
@Controller('v1/admin/projections/:name/rebuild')
export class RebuildProjectionHttpController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStorePort,
    @Inject(SQL_EXECUTOR) private readonly sql: SqlExecutor,
  ) {}

  @Post()
  async rebuild(
    @Req() request: AuthenticatedRequest,
    @Param('name', new ZodValidationPipe(projectionNameSchema)) name: string,
    @Body(new ZodValidationPipe(operatorRequestSchema)) _body: unknown,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    platformScope(request.auth.actor, 'projection.rebuild');
    await streamNdjson(reply, async (emit) => {
      emit({ type: 'start', projection: name, total: await this.store.headPosition() });
      const result = await rebuildProjection(this.store, this.sql, name, {
        onProgress: (progress) => emit({ type: 'progress', ...progress }),
      });
      emit({
        type: 'result',
        projection: name,
        events: result.events,
        seconds: result.seconds,
        eventsPerSecond: result.seconds > 0 ? Math.round(result.events / result.seconds) : result.events,
      });
    });
  }
}
