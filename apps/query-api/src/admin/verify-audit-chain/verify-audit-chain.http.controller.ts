import { Body, Controller, Inject, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { platformScope } from '@nexus/domain';
import { EVENT_STORE, type EventStorePort } from '@nexus/event-store';
import { streamNdjson, ZodValidationPipe, type AuthenticatedRequest } from '@nexus/http';
import { operatorRequestSchema } from '../operator-request.dto';

/**
 * `nexus audit verify`: recomputes the hash chains from the stored rows and reports each event
 * whose hash no longer matches (an edited or reordered row), streaming progress. An operator
 * verifies every tenant's streams, an admin their own tenant's (`tenantId` in the lines says which).
 */
@Controller('v1/admin/audit/verify')
export class VerifyAuditChainHttpController {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStorePort) {}

  @Post()
  async verify(
    @Req() request: AuthenticatedRequest,
    @Body(new ZodValidationPipe(operatorRequestSchema)) _body: unknown,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const { tenantId } = platformScope(request.auth.actor, 'audit.verify');
    await streamNdjson(reply, async (emit) => {
      const started = performance.now();
      const total = await this.store.headPosition();
      emit({ type: 'start', total, tenantId });
      const result = await this.store.verifyChain({
        ...(tenantId === null ? {} : { tenantId }),
        onProgress: (progress) => emit({ type: 'progress', total, ...progress }),
      });
      const seconds = (performance.now() - started) / 1000;
      emit({
        type: 'result',
        tenantId,
        streams: result.streams,
        events: result.events,
        failures: result.failures,
        seconds,
        eventsPerSecond: seconds > 0 ? Math.round(result.events / seconds) : result.events,
      });
    });
  }
}
