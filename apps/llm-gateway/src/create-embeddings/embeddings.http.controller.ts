import { Body, Controller, Headers, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { eventMetadataFrom, ZodValidationPipe, type AuthenticatedRequest } from '@nexus/http';
import { ChargedAnswers, sessionIdOf } from '../charged-request/charged-request';
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
    private readonly answers: ChargedAnswers,
  ) {}

  @Post()
  async create(
    @Req() request: AuthenticatedRequest,
    @Headers('x-nexus-session-id') sessionHeader: unknown,
    @Body(new ZodValidationPipe(embeddingsRequestSchema)) body: EmbeddingsRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const sessionId = sessionIdOf(sessionHeader);
    return this.answers.answer(request, sessionId, reply, async () => {
      // The body as sent, not as parsed: what the client sent is what the provider gets.
      const sent = request.body as Record<string, unknown>;
      return { status: 200, body: await this.handler.create(sessionId, body, sent, request.auth.actor, eventMetadataFrom(request)), headers: {} };
    });
  }
}
