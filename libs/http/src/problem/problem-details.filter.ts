import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { toProblem } from './problem';

/** The one place where errors become HTTP responses (RFC 9457, `application/problem+json`). */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  catch(error: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const problem = toProblem(error);
    if (problem.internal) this.logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    void reply
      .status(problem.document.status)
      .headers(problem.headers)
      .type('application/problem+json')
      .send(problem.document);
  }
}
