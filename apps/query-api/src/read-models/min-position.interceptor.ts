import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { from, switchMap, type Observable } from 'rxjs';
import { ProblemException } from '@nexus/http';
import { ProjectionWatcher } from './projection-watcher';

/**
 * Read-your-writes: with `X-Nexus-Min-Position: n` a query waits (bounded) until the read models
 * have applied the event at position n (`ProjectionWatcher`, one per process). Past the bound it
 * answers anyway, marked `X-Nexus-Stale: true`.
 */
@Injectable()
export class MinPositionInterceptor implements NestInterceptor {
  constructor(private readonly watcher: ProjectionWatcher) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const header = request.headers['x-nexus-min-position'];
    if (header === undefined) return next.handle();
    const position = Number(header);
    if (!Number.isSafeInteger(position) || position < 0) {
      throw new ProblemException(400, 'validation_failed', 'Validation failed', 'X-Nexus-Min-Position must be a non-negative integer.');
    }
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    return from(this.watcher.waitFor(position)).pipe(
      switchMap((reached) => {
        if (!reached) void reply.header('X-Nexus-Stale', 'true');
        return next.handle();
      }),
    );
  }
}
