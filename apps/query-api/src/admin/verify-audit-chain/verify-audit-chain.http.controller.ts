import { Controller, Inject, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { EVENT_STORE, type EventStorePort } from '@nexus/event-store';
import { streamNdjson, type AuthenticatedRequest } from '@nexus/http';
import { requireAdmin } from '../require-admin';

/**
 * `nexus audit verify`: recomputes every stream's hash chain from the stored rows and reports
 * each event whose hash no longer matches (an edited or reordered row), streaming progress.
 */
@Controller('v1/admin/audit/verify')
export class VerifyAuditChainHttpController {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStorePort) {}

  @Post()
  async verify(@Req() request: AuthenticatedRequest, @Res() reply: FastifyReply): Promise<void> {
    requireAdmin(request);
    await streamNdjson(reply, async (emit) => {
      const started = performance.now();
      const total = await this.store.headPosition();
      emit({ type: 'start', total });
      const result = await this.store.verifyChain({ onProgress: (progress) => emit({ type: 'progress', total, ...progress }) });
      const seconds = (performance.now() - started) / 1000;
      emit({
        type: 'result',
        streams: result.streams,
        events: result.events,
        failures: result.failures,
        seconds,
        eventsPerSecond: seconds > 0 ? Math.round(result.events / seconds) : result.events,
      });
    });
  }
}
