import { createHash } from 'node:crypto';
import {
  type CallHandler,
  type ExecutionContext,
  HttpStatus,
  Inject,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants.js';
import { Reflector } from '@nestjs/core';
import canonicalize from 'canonicalize';
import type { FastifyReply } from 'fastify';
import { from, lastValueFrom, type Observable } from 'rxjs';
import { NEXUS_CONFIG, type NexusConfig } from '@nexus/config';
import { ProblemException, toProblem, type AuthenticatedRequest, type ProblemDocument } from '@nexus/http';
import { IdempotencyStore, type IdempotencyScope, type StoredResponse } from './idempotency.store';

/** What every command controller returns: the response body and the position it wrote. */
export interface CommandReply<Body = unknown> {
  readonly body: Body;
  readonly position: number;
}

export const POSITION_HEADER = 'X-Nexus-Position';
/** Outcomes of a command that did run: worth replaying for the same key. */
const replayableErrorStatuses = new Set([403, 404, 409]);
const keyPattern = /^[\x21-\x7e]{1,255}$/;
const leaseSeconds = 30;

/** Thrown to send a stored refusal again, verbatim, through the problem filter. */
class ReplayedProblem extends ProblemException {
  constructor({ body, headers }: StoredResponse) {
    const { type: _type, status, code, title, detail, ...extensions } = body as ProblemDocument;
    super(status, code, title, detail, extensions, headers);
  }
}

/**
 * Sets `X-Nexus-Position` on every command response and implements `Idempotency-Key`: the same key
 * with the same body gets the first response again and writes nothing; a different body → 422;
 * a duplicate while the first is still running → 409.
 */
@Injectable()
export class CommandResponseInterceptor implements NestInterceptor {
  constructor(
    private readonly store: IdempotencyStore,
    private readonly reflector: Reflector,
    @Inject(NEXUS_CONFIG) private readonly config: NexusConfig,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler<CommandReply>): Observable<unknown> {
    return from(this.handle(context, next));
  }

  private async handle(context: ExecutionContext, next: CallHandler<CommandReply>): Promise<unknown> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const run = async (): Promise<StoredResponse> => {
      const result = await lastValueFrom(next.handle());
      const status = this.reflector.get<number>(HTTP_CODE_METADATA, context.getHandler()) ?? HttpStatus.CREATED;
      return { status, body: result.body, headers: { [POSITION_HEADER]: String(result.position) } };
    };
    const key = request.headers['idempotency-key'];
    if (key === undefined || request.auth === undefined) return this.send(reply, await run());
    if (typeof key !== 'string' || !keyPattern.test(key)) {
      throw new ProblemException(400, 'validation_failed', 'Validation failed', 'Idempotency-Key must be 1–255 printable ASCII characters.');
    }
    const scope: IdempotencyScope = { tenantId: request.auth.actor.tenantId, userId: request.auth.actor.userId, key };
    const claim = await this.store.claim(scope, this.requestHash(request), leaseSeconds, this.config.NEXUS_IDEMPOTENCY_TTL_HOURS);
    switch (claim.kind) {
      case 'mismatch':
        throw new ProblemException(422, 'idempotency_mismatch', 'Idempotency key reused', 'This Idempotency-Key was used with a different request.');
      case 'in_flight':
        throw new ProblemException(409, 'conflict', 'Request in flight', 'A request with this Idempotency-Key is still being processed; retry shortly.');
      case 'replay':
        return this.send(reply, claim.response, true);
      case 'claimed':
        break;
    }
    let response: StoredResponse;
    try {
      response = await run();
    } catch (error) {
      const problem = toProblem(error);
      if (!replayableErrorStatuses.has(problem.document.status)) {
        await this.store.abandon(scope);
        throw error;
      }
      await this.store.complete(scope, { status: problem.document.status, body: problem.document, headers: problem.headers });
      throw error;
    }
    await this.store.complete(scope, response);
    return this.send(reply, response);
  }

  private send(reply: FastifyReply, response: StoredResponse, replayed = false): unknown {
    if (replayed) void reply.header('Idempotent-Replayed', 'true');
    if (response.status >= 400) throw new ReplayedProblem(response);
    void reply.headers(response.headers);
    return response.body;
  }

  private requestHash(request: AuthenticatedRequest): string {
    return createHash('sha256')
      .update(`${request.method} ${request.url}\n${canonicalize(request.body ?? {}) ?? ''}`)
      .digest('hex');
  }
}
