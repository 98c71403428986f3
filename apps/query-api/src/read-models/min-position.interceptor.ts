import { type CallHandler, type ExecutionContext, Inject, Injectable, type NestInterceptor } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { from, switchMap, type Observable } from 'rxjs';
import { NEXUS_CONFIG, type NexusConfig } from '@nexus/config';
import { SQL_EXECUTOR, type SqlExecutor } from '@nexus/event-store';
import { ProblemException } from '@nexus/http';
import { PROJECTOR_CONSUMER } from '@nexus/projections';

const pollMs = 20;

/**
 * Read-your-writes: with `X-Nexus-Min-Position: n` a query waits (bounded) until the read models
 * have applied the event at position n — either every projection's log checkpoint has passed it
 * (embedded mode reads the log in order), or the projector's inbox holds it (distributed mode,
 * where partitions keep each stream in order, so the caller's earlier events of that stream are
 * applied too). Past the bound it answers anyway, marked `X-Nexus-Stale: true`.
 */
@Injectable()
export class MinPositionInterceptor implements NestInterceptor {
  constructor(
    @Inject(SQL_EXECUTOR) private readonly sql: SqlExecutor,
    @Inject(NEXUS_CONFIG) private readonly config: NexusConfig,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const header = request.headers['x-nexus-min-position'];
    if (header === undefined) return next.handle();
    const position = Number(header);
    if (!Number.isSafeInteger(position) || position < 0) {
      throw new ProblemException(400, 'validation_failed', 'Validation failed', 'X-Nexus-Min-Position must be a non-negative integer.');
    }
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    return from(this.waitFor(position)).pipe(
      switchMap((reached) => {
        if (!reached) void reply.header('X-Nexus-Stale', 'true');
        return next.handle();
      }),
    );
  }

  private async waitFor(position: number): Promise<boolean> {
    const deadline = Date.now() + this.config.NEXUS_MIN_POSITION_WAIT_MS;
    for (;;) {
      if (position === 0 || (await this.reached(position))) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  private async reached(position: number): Promise<boolean> {
    const [row] = await this.sql.query<{ reached: boolean }>(
      `SELECT EXISTS (
         SELECT 1 FROM events e
          WHERE e.global_position = $1
            AND (NOT EXISTS (SELECT 1 FROM projection_checkpoints c
                              WHERE (c.transaction_id, c.position) < (e.transaction_id, e.global_position))
                 OR EXISTS (SELECT 1 FROM processed_events p WHERE p.consumer = $2 AND p.event_id = e.event_id))
       ) AS reached`,
      [position, PROJECTOR_CONSUMER],
    );
    return row?.reached === true;
  }
}
