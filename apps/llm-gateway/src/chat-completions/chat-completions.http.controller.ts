import { Body, Controller, Headers, Logger, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import {
  eventMetadataFrom,
  IDEMPOTENT_REPLAYED_HEADER,
  IdempotentRequests,
  ProblemException,
  ReplayedProblem,
  ZodValidationPipe,
  type AuthenticatedRequest,
  type IdempotencyClaim,
  type StoredResponse,
} from '@nexus/http';
import { ChatCompletionsHandler, type ReservedCall } from './chat-completions.handler';
import { chatCompletionsRequestSchema, sessionIdHeaderSchema, type ChatCompletionsRequest } from './chat-completions.request.dto';
import { chunks, sseData } from './chat-completions.response';

/** The session a call is charged to, from `X-Nexus-Session-Id` (every charged gateway route). */
export function sessionIdOf(header: unknown): string {
  const session = sessionIdHeaderSchema.safeParse(header);
  if (session.success) return session.data;
  const message = session.error.issues[0]?.message ?? 'invalid';
  throw new ProblemException(400, 'validation_failed', 'Validation failed', `The X-Nexus-Session-Id header is ${message}.`, {
    errors: [{ field: 'X-Nexus-Session-Id', message }],
  });
}

export function cacheOptionOf(header: unknown): boolean | undefined {
  if (header === undefined) return undefined;
  if (header === 'true' || header === 'false') return header === 'true';
  const message = 'true or false';
  throw new ProblemException(400, 'validation_failed', 'Validation failed', `The X-Nexus-Cache header must be ${message}.`, {
    errors: [{ field: 'X-Nexus-Cache', message }],
  });
}

/** A stored answer sent again: JSON as JSON, a stream's SSE text verbatim, a refusal through the filter. */
export function replay(reply: FastifyReply, response: StoredResponse): void {
  void reply.header(IDEMPOTENT_REPLAYED_HEADER, 'true');
  if (response.status >= 400) throw new ReplayedProblem(response);
  void reply.status(response.status).headers(response.headers).send(response.body);
}

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
  private readonly logger = new Logger('chat-completions');

  constructor(
    private readonly handler: ChatCompletionsHandler,
    private readonly idempotency: IdempotentRequests,
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
    // The session is a header, not part of OpenAI's body: the same body charged elsewhere is another request.
    const start = await this.idempotency.begin(request, { hashExtra: `x-nexus-session-id: ${sessionId}` });
    if (start.kind === 'replay') return replay(reply, start.response);
    const release = this.idempotency.hold(start.scope);
    try {
      // The body as sent, not as parsed: what the client sent is what the provider gets.
      const client = { body, sent: request.body as Record<string, unknown>, cache };
      const call = await this.handler.reserve(sessionId, client, request.auth.actor, eventMetadataFrom(request));
      if (body.stream === true) return await this.stream(call, body, reply, start.scope);
      const response = { status: 200, body: await this.handler.complete(call), headers: reservationHeader(call) };
      await this.idempotency.succeed(start.scope, response);
      void reply.status(response.status).headers(response.headers).send(response.body);
    } catch (error) {
      await this.idempotency.fail(start.scope, error);
      throw error;
    } finally {
      release();
    }
  }

  private async stream(call: ReservedCall, body: ChatCompletionsRequest, reply: FastifyReply, scope: IdempotencyClaim | undefined): Promise<void> {
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
    const headers = { 'content-type': 'text/event-stream', 'cache-control': 'no-store', ...reservationHeader(call) };
    if (!gone) raw.writeHead(200, { ...headers, connection: 'keep-alive' });
    let transcript = '';
    const write = (value: unknown): void => {
      const data = sseData(value);
      transcript += data;
      if (!gone) raw.write(data);
    };
    let finished = false;
    const { identity } = call;
    write(chunks.delta(identity, { role: 'assistant', content: '' }));
    // Tool calls stream as they come when the provider streams them; otherwise whole at the end.
    const streamedCalls = new Set<number>();
    for await (const event of events) {
      if (gone) break;
      if (event.type === 'delta') {
        write(chunks.delta(identity, { content: event.text }));
        continue;
      }
      if (event.type === 'tool_call_delta') {
        write(chunks.toolCallDelta(identity, event, !streamedCalls.has(event.index)));
        streamedCalls.add(event.index);
        continue;
      }
      if (event.failure !== undefined) {
        // OpenAI SDKs raise an API error for a `data:` line carrying `error`.
        write({ error: { message: 'The provider failed mid-stream.', type: 'provider_unavailable', code: 'provider_unavailable' } });
        break;
      }
      if (event.toolCalls.length > 0 && streamedCalls.size === 0) write(chunks.toolCalls(identity, event.toolCalls));
      write(chunks.finish(identity, event.finishReason, event.toolCalls));
      if (body.stream_options?.include_usage === true) write(chunks.usage(identity, event.usage));
      write('[DONE]');
      finished = true;
    }
    // Settled before the stream ends, so a client retrying the moment it has read `[DONE]` gets the
    // replay. A stream cut short by a failure or a departed client frees the key for a retry.
    const complete = finished && !gone;
    await (complete ? this.idempotency.succeed(scope, { status: 200, body: transcript, headers }) : this.idempotency.abandon(scope)).catch(
      (error: unknown) => this.logger.warn(`settling the Idempotency-Key of a stream failed: ${String(error)}`),
    );
    if (!gone) raw.end();
  }
}

const reservationHeader = (call: ReservedCall) => ({ 'x-nexus-reservation-id': call.reservation.reservationId });
