import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { toProblem } from '@nexus/http';

/**
 * The gateway's one exception filter (every route, and what fails before a route: a body that is
 * not JSON): Nexus problem documents (RFC 9457), plus what OpenAI clients read: an `error` member
 * `{ message, type, code }` (an extension member, so the document stays a valid problem; a
 * provider's own error member when the problem passes its refusal on), and
 * `x-should-retry: false` on refusals, which a retry will not change. A 409 `conflict` (an `Idempotency-Key` still in
 * flight) says `x-should-retry: true` instead: a retry shortly after gets the first answer.
 */
@Catch()
export class OpenAiProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  catch(error: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const { document, headers, internal } = toProblem(error);
    if (internal) this.logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    const refusal = document.status >= 400 && document.status < 500 && document.status !== 429;
    // A duplicate of a request still in flight is worth retrying: the retry gets the first answer.
    const shouldRetry = document.code === 'conflict' ? 'true' : refusal ? 'false' : undefined;
    void reply
      .status(document.status)
      .headers({ ...headers, ...(shouldRetry === undefined ? {} : { 'x-should-retry': shouldRetry }) })
      .type('application/problem+json')
      .send({ ...document, error: document['error'] ?? { message: document.detail, type: document.code, code: document.code, param: null } });
  }
}
