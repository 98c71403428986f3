import { Body, Controller, Headers, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { eventMetadataFrom, ZodValidationPipe, type AuthenticatedRequest } from '@nexus/http';
import { cacheOptionOf, ChargedAnswers, reservationHeader, sessionIdOf } from '../charged-request/charged-request';
import { ChatCompletionsHandler } from './chat-completions.handler';
import { chatCompletionsRequestSchema, type ChatCompletionsRequest } from './chat-completions.request.dto';
import { ChatChunkWriter, sseData } from './chat-completions.response';

/**
 * OpenAI's `POST /v1/chat/completions`, so existing OpenAI clients can use Nexus as a governed
 * gateway: authenticated with a Nexus key, charged to the session named in `X-Nexus-Session-Id`.
 * Answers in OpenAI's shapes (JSON, or SSE `chat.completion.chunk`s ending in `data: [DONE]`);
 * errors are Nexus problem documents that OpenAI SDKs can read too. `X-Nexus-Cache: true` lets a
 * reply come from the response cache when the request is not `temperature: 0`. With `Idempotency-Key`, a
 * repeated request gets the first answer again (a stream as its full SSE text) without a second
 * provider call or budget charge.
 */
@Controller('v1/chat/completions')
export class ChatCompletionsHttpController {
  constructor(
    private readonly handler: ChatCompletionsHandler,
    private readonly answers: ChargedAnswers,
  ) {}

  @Post()
  async create(
    @Req() request: AuthenticatedRequest,
    @Headers('x-nexus-session-id') sessionHeader: unknown,
    @Headers('x-nexus-cache') cacheHeader: unknown,
    @Body(new ZodValidationPipe(chatCompletionsRequestSchema)) body: ChatCompletionsRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const sessionId = sessionIdOf(sessionHeader);
    const cache = cacheOptionOf(cacheHeader);
    return this.answers.answer(request, sessionId, reply, async ({ stream }) => {
      // The body as sent, not as parsed: what the client sent is what the provider gets.
      const client = { body, sent: request.body as Record<string, unknown>, cache };
      const call = await this.handler.reserve(sessionId, client, request.auth.actor, eventMetadataFrom(request));
      const headers = reservationHeader(call);
      if (body.stream !== true) return { status: 200, body: await this.handler.complete(call), headers };
      const writer = new ChatChunkWriter(call.identity, body.stream_options?.include_usage === true);
      return stream({ open: (signal) => this.handler.stream(call, signal), headers, writer, format: sseData });
    });
  }
}
