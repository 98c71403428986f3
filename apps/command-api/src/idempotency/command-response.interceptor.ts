import {
  type CallHandler,
  type ExecutionContext,
  HttpStatus,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants.js';
import { Reflector } from '@nestjs/core';
import type { FastifyReply } from 'fastify';
import { from, lastValueFrom, type Observable } from 'rxjs';
import {
  IDEMPOTENT_REPLAYED_HEADER,
  IdempotencyClaimLostError,
  IdempotentRequests,
  ProblemException,
  ReplayedProblem,
  type AuthenticatedRequest,
  type StoredResponse,
} from '@nexus/http';
import { withReplyToCommit, type ReplyToCommit } from './reply-to-commit';

/** What every command controller returns: the response body and the position it wrote. */
export interface CommandReply<Body = unknown> {
  readonly body: Body;
  readonly position: number;
}

export const POSITION_HEADER = 'X-Nexus-Position';

/**
 * Sets `X-Nexus-Position` on every command response and implements `Idempotency-Key`: the same key
 * with the same body gets the first response again and writes nothing; a different body → 422;
 * a duplicate while the first is still running → 409.
 */
@Injectable()
export class CommandResponseInterceptor implements NestInterceptor {
  constructor(
    private readonly idempotency: IdempotentRequests,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler<CommandReply>): Observable<unknown> {
    return from(this.handle(context, next));
  }

  private async handle(context: ExecutionContext, next: CallHandler<CommandReply>): Promise<unknown> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const start = await this.idempotency.begin(request);
    if (start.kind === 'replay') return this.send(reply, start.response, true);
    const status = this.reflector.get<number>(HTTP_CODE_METADATA, context.getHandler()) ?? HttpStatus.CREATED;
    const claim = start.scope;
    const pending: ReplyToCommit | undefined =
      claim === undefined
        ? undefined
        : {
            key: claim.key,
            body: undefined,
            committed: false,
            commitWithin: (tx, position) =>
              this.idempotency.succeed(claim, { status, body: pending?.body, headers: { [POSITION_HEADER]: String(position) } }, tx),
          };
    let response: StoredResponse;
    try {
      const run = () => lastValueFrom(next.handle());
      const result = pending === undefined ? await run() : await withReplyToCommit(pending, run);
      response = { status, body: result.body, headers: { [POSITION_HEADER]: String(result.position) } };
    } catch (error) {
      if (error instanceof IdempotencyClaimLostError) {
        // Our lease ran out and a retry holds the key now: it answers; nothing was written here.
        throw new ProblemException(409, 'conflict', 'Request in flight', 'A retry of this request holds its Idempotency-Key now; retry shortly.');
      }
      await this.idempotency.fail(claim, error);
      throw error;
    }
    // A command that appended nothing (a repeat) had no transaction to carry its answer.
    if (pending?.committed !== true) await this.idempotency.succeed(claim, response);
    return this.send(reply, response);
  }

  private send(reply: FastifyReply, response: StoredResponse, replayed = false): unknown {
    if (replayed) void reply.header(IDEMPOTENT_REPLAYED_HEADER, 'true');
    if (response.status >= 400) throw new ReplayedProblem(response);
    void reply.headers(response.headers);
    return response.body;
  }
}
