import { Injectable, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { IdempotentRequests, ProblemException, sendReplayed, type AuthenticatedRequest, type StoredResponse } from '@nexus/http';
import { sessionIdHeaderSchema } from '../chat-completions/chat-completions.request.dto';
import { streamSseAnswer, type SseAnswer } from './sse-answer';

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

/** Names the reservation an answer drew on, so a client can find its charge. */
export const reservationHeader = (call: { readonly reservation: { readonly reservationId: string } }) => ({
  'x-nexus-reservation-id': call.reservation.reservationId,
});

/** What a streamed answer needs: the provider's stream to open, its headers, and how to write it. */
export type SseStream<T> = Pick<SseAnswer<T>, 'open' | 'headers' | 'writer' | 'format'>;

/** What a charged request's work is given: a way to stream its answer itself (then it answers `undefined`). */
export interface ChargedRequest {
  stream<T>(sse: SseStream<T>): Promise<undefined>;
}

/**
 * The one way a charged POST is answered under its `Idempotency-Key`: a repeat gets the first
 * answer again; otherwise the work runs with the key held (a long call must not look dead to a
 * duplicate), and its answer is stored and sent, or its failure recorded. The session is a header,
 * not part of OpenAI's body: the same body charged elsewhere is another request.
 */
@Injectable()
export class ChargedAnswers {
  private readonly logger = new Logger('charged-answers');

  constructor(private readonly idempotency: IdempotentRequests) {}

  async answer(
    request: AuthenticatedRequest,
    sessionId: string,
    reply: FastifyReply,
    work: (charged: ChargedRequest) => Promise<StoredResponse | undefined>,
  ): Promise<void> {
    const start = await this.idempotency.begin(request, { hashExtra: `x-nexus-session-id: ${sessionId}` });
    if (start.kind === 'replay') return sendReplayed(reply, start.response);
    const release = this.idempotency.hold(start.scope);
    const charged: ChargedRequest = {
      stream: async (sse) => {
        const headers = { 'content-type': 'text/event-stream', 'cache-control': 'no-store', ...sse.headers };
        await streamSseAnswer({ ...sse, headers, reply, idempotency: this.idempotency, scope: start.scope, logger: this.logger });
        return undefined;
      },
    };
    try {
      const response = await work(charged);
      // A streamed answer settled its key as it ended.
      if (response === undefined) return;
      await this.idempotency.succeed(start.scope, response);
      void reply.status(response.status).headers(response.headers).send(response.body);
    } catch (error) {
      await this.idempotency.fail(start.scope, error);
      throw error;
    } finally {
      release();
    }
  }
}
