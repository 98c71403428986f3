import { Body, Controller, Headers, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { eventMetadataFrom, IdempotentRequests, ZodValidationPipe, type AuthenticatedRequest } from '@nexus/http';
import { replay, sessionIdOf } from '../chat-completions/chat-completions.http.controller';
import { EmbeddingsHandler } from './embeddings.handler';
import { embeddingsRequestSchema, type EmbeddingsRequest } from './embeddings.request.dto';

/**
 * OpenAI's `POST /v1/embeddings`, authenticated with a Nexus key and charged to the session named
 * in `X-Nexus-Session-Id`, with `Idempotency-Key` as on every POST.
 */
@Controller('v1/embeddings')
export class EmbeddingsHttpController {
  constructor(
    private readonly handler: EmbeddingsHandler,
    private readonly idempotency: IdempotentRequests,
  ) {}

  @Post()
  async create(
    @Req() request: AuthenticatedRequest,
    @Headers('x-nexus-session-id') sessionHeader: unknown,
    @Body(new ZodValidationPipe(embeddingsRequestSchema)) body: EmbeddingsRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const sessionId = sessionIdOf(sessionHeader);
    const start = await this.idempotency.begin(request, { hashExtra: `x-nexus-session-id: ${sessionId}` });
    if (start.kind === 'replay') return replay(reply, start.response);
    try {
      // The body as sent, not as parsed: what the client sent is what the provider gets.
      const sent = request.body as Record<string, unknown>;
      const response = { status: 200, body: await this.handler.create(sessionId, body, sent, request.auth.actor, eventMetadataFrom(request)), headers: {} };
      await this.idempotency.succeed(start.scope, response);
      void reply.status(response.status).send(response.body);
    } catch (error) {
      await this.idempotency.fail(start.scope, error);
      throw error;
    }
  }
}
