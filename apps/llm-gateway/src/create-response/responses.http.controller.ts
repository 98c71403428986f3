import { Body, Controller, Headers, Logger, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import {
  eventMetadataFrom,
  IdempotentRequests,
  validationProblem,
  ZodValidationPipe,
  type AuthenticatedRequest,
  type IdempotencyClaim,
} from '@nexus/http';
import { ChatCompletionsHandler, type ClientRequest, type ReservedCall } from '../chat-completions/chat-completions.handler';
import { cacheOptionOf, replay, sessionIdOf } from '../chat-completions/chat-completions.http.controller';
import { chatCompletionsRequestSchema } from '../chat-completions/chat-completions.request.dto';
import { toChatCompletionsBody } from './responses.mapping';
import { responsesRequestSchema, type ResponsesRequest } from './responses.request.dto';
import { ResponseEventWriter, responseFromChat, sseEvent, type ResponseIdentity } from './responses.response';

/**
 * OpenAI's `POST /v1/responses` (the Agents SDK's default API), served through the chat completions
 * path: the request is translated to a chat completions request and governed exactly like one —
 * reserved on the session's budget before any provider call, consumed or released after, with the
 * same policy, redaction, breakers, aliases and `local` model — and the answer translated back to a
 * `response` object or the Responses stream events. Nexus stores no responses, so
 * `previous_response_id` is refused (400 `unsupported_parameter`): clients send the conversation.
 */
@Controller('v1/responses')
export class ResponsesHttpController {
  private readonly logger = new Logger('responses');

  constructor(
    private readonly handler: ChatCompletionsHandler,
    private readonly idempotency: IdempotentRequests,
  ) {}

  @Post()
  async create(
    @Req() request: AuthenticatedRequest,
    @Headers('x-nexus-session-id') sessionHeader: unknown,
    @Headers('x-nexus-cache') cacheHeader: unknown,
    @Body(new ZodValidationPipe(responsesRequestSchema)) body: ResponsesRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const sessionId = sessionIdOf(sessionHeader);
    const cache = cacheOptionOf(cacheHeader);
    const sent = toChatCompletionsBody(body);
    const parsed = chatCompletionsRequestSchema.safeParse(sent);
    if (!parsed.success) throw validationProblem(parsed.error);
    const start = await this.idempotency.begin(request, { hashExtra: `x-nexus-session-id: ${sessionId}` });
    if (start.kind === 'replay') return replay(reply, start.response);
    const release = this.idempotency.hold(start.scope);
    try {
      const client: ClientRequest = { body: parsed.data, sent, cache, purpose: 'responses' };
      const call = await this.handler.reserve(sessionId, client, request.auth.actor, eventMetadataFrom(request));
      const identity = { id: `resp_${call.identity.id.slice('chatcmpl-'.length)}`, created: call.identity.created, model: call.identity.model };
      if (body.stream === true) return await this.stream(call, identity, body, reply, start.scope);
      const response = { status: 200, body: responseFromChat(identity, body, await this.handler.complete(call)), headers: reservationHeader(call) };
      await this.idempotency.succeed(start.scope, response);
      void reply.status(response.status).headers(response.headers).send(response.body);
    } catch (error) {
      await this.idempotency.fail(start.scope, error);
      throw error;
    } finally {
      release();
    }
  }

  private async stream(call: ReservedCall, identity: ResponseIdentity, body: ResponsesRequest, reply: FastifyReply, scope: IdempotencyClaim | undefined): Promise<void> {
    // As for chat completions: a client that leaves stops the provider; usage so far is still settled.
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
    const write = (list: Array<Record<string, unknown>>): void => {
      const data = list.map(sseEvent).join('');
      transcript += data;
      if (!gone) raw.write(data);
    };
    const writer = new ResponseEventWriter(identity, body);
    write(writer.start());
    let finished = false;
    for await (const event of events) {
      if (gone) break;
      write(writer.next(event));
      finished = event.type === 'end' && event.failure === undefined;
    }
    const complete = finished && !gone;
    await (complete ? this.idempotency.succeed(scope, { status: 200, body: transcript, headers }) : this.idempotency.abandon(scope)).catch(
      (error: unknown) => this.logger.warn(`settling the Idempotency-Key of a stream failed: ${String(error)}`),
    );
    if (!gone) raw.end();
  }
}

const reservationHeader = (call: ReservedCall) => ({ 'x-nexus-reservation-id': call.reservation.reservationId });
