import { Body, Controller, Headers, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { eventMetadataFrom, validationProblem, ZodValidationPipe, type AuthenticatedRequest } from '@nexus/http';
import { cacheOptionOf, ChargedAnswers, reservationHeader, sessionIdOf } from '../charged-request/charged-request';
import { ChatCompletionsHandler, type ClientRequest } from '../chat-completions/chat-completions.handler';
import { chatCompletionsRequestSchema } from '../chat-completions/chat-completions.request.dto';
import { toChatCompletionsBody } from './responses.mapping';
import { responsesRequestSchema, type ResponsesRequest } from './responses.request.dto';
import { ResponseEventWriter, responseFromChat, sseEvent } from './responses.response';

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
  constructor(
    private readonly handler: ChatCompletionsHandler,
    private readonly answers: ChargedAnswers,
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
    return this.answers.answer(request, sessionId, reply, async ({ stream }) => {
      const client: ClientRequest = { body: parsed.data, sent, cache, purpose: 'responses' };
      const call = await this.handler.reserve(sessionId, client, request.auth.actor, eventMetadataFrom(request));
      const identity = { id: `resp_${call.identity.id.slice('chatcmpl-'.length)}`, created: call.identity.created, model: call.identity.model };
      const headers = reservationHeader(call);
      if (body.stream !== true) return { status: 200, body: responseFromChat(identity, body, await this.handler.complete(call)), headers };
      const writer = new ResponseEventWriter(identity, body);
      return stream({ open: (signal) => this.handler.stream(call, signal), headers, writer, format: sseEvent });
    });
  }
}
