import { Body, Controller, Headers, Post, Req, Res, UseFilters } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { eventMetadataFrom, ProblemException, ZodValidationPipe, type AuthenticatedRequest } from '@nexus/http';
import { ChatCompletionsHandler } from './chat-completions.handler';
import { chatCompletionsRequestSchema, sessionIdHeaderSchema, type ChatCompletionsRequest } from './chat-completions.request.dto';
import { chunks, sseData } from './chat-completions.response';
import { OpenAiProblemFilter } from './openai-problem.filter';

/**
 * OpenAI's `POST /v1/chat/completions`, so existing OpenAI clients can use Nexus as a governed
 * gateway: authenticated with a Nexus key, charged to the session named in `X-Nexus-Session-Id`.
 * Answers in OpenAI's shapes (JSON, or SSE `chat.completion.chunk`s ending in `data: [DONE]`);
 * errors are Nexus problem documents that OpenAI SDKs can read too.
 */
@Controller('v1/chat/completions')
@UseFilters(OpenAiProblemFilter)
export class ChatCompletionsHttpController {
  constructor(private readonly handler: ChatCompletionsHandler) {}

  @Post()
  async create(
    @Req() request: AuthenticatedRequest,
    @Headers('x-nexus-session-id') sessionHeader: unknown,
    @Body(new ZodValidationPipe(chatCompletionsRequestSchema)) body: ChatCompletionsRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const session = sessionIdHeaderSchema.safeParse(sessionHeader);
    if (!session.success) {
      const message = session.error.issues[0]?.message ?? 'invalid';
      throw new ProblemException(400, 'validation_failed', 'Validation failed', `The X-Nexus-Session-Id header is ${message}.`, {
        errors: [{ field: 'X-Nexus-Session-Id', message }],
      });
    }
    const call = await this.handler.reserve(session.data, body, request.auth.actor, eventMetadataFrom(request));
    const reservationHeader = { 'x-nexus-reservation-id': call.reservation.reservationId };
    if (body.stream !== true) {
      const completion = await this.handler.complete(call);
      return void reply.status(200).headers(reservationHeader).send(completion);
    }

    // A client that leaves stops the provider (even while its first chunk is awaited); the metered
    // stream still settles the usage so far.
    const abort = new AbortController();
    const raw = reply.raw;
    let gone = false;
    raw.on('close', () => {
      if (raw.writableFinished) return;
      gone = true;
      abort.abort(new Error('client disconnected'));
    });
    const events = await this.handler.stream(call, abort.signal);
    reply.hijack();
    if (!gone) raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', ...reservationHeader });
    const write = (value: unknown): void => {
      if (!gone) raw.write(sseData(value));
    };
    const { identity } = call;
    write(chunks.delta(identity, { role: 'assistant', content: '' }));
    for await (const event of events) {
      if (gone) break;
      if (event.type === 'delta') {
        write(chunks.delta(identity, { content: event.text }));
        continue;
      }
      if (event.failure !== undefined) {
        // OpenAI SDKs raise an API error for a `data:` line carrying `error`.
        write({ error: { message: 'The provider failed mid-stream.', type: 'provider_unavailable', code: 'provider_unavailable' } });
        break;
      }
      if (event.toolCalls.length > 0) write(chunks.toolCalls(identity, event.toolCalls));
      write(chunks.finish(identity, event.finishReason, event.toolCalls));
      if (body.stream_options?.include_usage === true) write(chunks.usage(identity, event.usage));
      write('[DONE]');
    }
    if (!gone) raw.end();
  }
}
