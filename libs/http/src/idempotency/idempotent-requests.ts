import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { canonicalJson } from '@nexus/events';
import { NEXUS_CONFIG, type NexusConfig } from '@nexus/config';
import type { AuthenticatedRequest } from '../auth/api-key.guard';
import { toProblem, type ProblemDocument } from '../problem/problem';
import { ProblemException } from '../problem/problem.exception';
import type { SqlExecutor } from '@nexus/event-store';
import { IdempotencyStore, type IdempotencyClaim, type IdempotencyScope, type StoredResponse } from './idempotency.store';

/** Marks a response sent again for a repeated `Idempotency-Key`. */
export const IDEMPOTENT_REPLAYED_HEADER = 'Idempotent-Replayed';

/** Outcomes of a request that did run: worth replaying for the same key (402: the gateway's budget refusal). */
const replayableErrorStatuses = new Set([402, 403, 404, 409]);
const keyPattern = /^[\x21-\x7e]{1,255}$/;

/** Where a request under `Idempotency-Key` stands: to be run (claimed, or with no key), or answered already. */
export type IdempotentStart =
  | { readonly kind: 'run'; readonly scope: IdempotencyClaim | undefined }
  | { readonly kind: 'replay'; readonly response: StoredResponse };

/** A stored refusal, thrown to be sent again verbatim through the app's problem filter. */
export class ReplayedProblem extends ProblemException {
  constructor({ body, headers }: StoredResponse) {
    const { type: _type, status, code, title, detail, ...extensions } = body as ProblemDocument;
    super(status, code, title, detail, extensions, headers);
  }
}

/** A stored answer sent again: JSON as JSON, a stream's SSE text verbatim, a refusal thrown for the app's problem filter. */
export function sendReplayed(reply: FastifyReply, response: StoredResponse): void {
  void reply.header(IDEMPOTENT_REPLAYED_HEADER, 'true');
  if (response.status >= 400) throw new ReplayedProblem(response);
  void reply.status(response.status).headers(response.headers).send(response.body);
}

/**
 * The hash a key is bound to: method, URL and canonical body (RFC 8785), plus `extra` for what
 * identifies the request outside its body (a header naming the resource, say).
 */
export function idempotencyRequestHash(request: AuthenticatedRequest, extra?: string): string {
  const hash = createHash('sha256').update(`${request.method} ${request.url}\n${canonicalJson(request.body ?? {}) ?? ''}`);
  if (extra !== undefined) hash.update(`\n${extra}`);
  return hash.digest('hex');
}

/**
 * `Idempotency-Key` as API.md defines it for every POST: the same key with the same request gets
 * the first response again and runs nothing; a different request → 422 `idempotency_mismatch`; a
 * duplicate while the first still runs → 409 `conflict`; a malformed key → 400. Requests that never
 * ran to an outcome (invalid input, server or provider failure) release the key for a retry.
 */
@Injectable()
export class IdempotentRequests {
  private readonly logger = new Logger('idempotency');

  constructor(
    private readonly store: IdempotencyStore,
    @Inject(NEXUS_CONFIG) private readonly config: NexusConfig,
  ) {}

  /** Claims the request's key, or finds its stored response; throws the 400, 409 and 422 problems. */
  async begin(request: AuthenticatedRequest, options: { readonly hashExtra?: string } = {}): Promise<IdempotentStart> {
    const key = request.headers['idempotency-key'];
    if (key === undefined || request.auth === undefined) return { kind: 'run', scope: undefined };
    if (typeof key !== 'string' || !keyPattern.test(key)) {
      throw new ProblemException(400, 'validation_failed', 'Validation failed', 'Idempotency-Key must be 1–255 printable ASCII characters.');
    }
    const scope: IdempotencyScope = { tenantId: request.auth.actor.tenantId, userId: request.auth.actor.userId, key };
    const hash = idempotencyRequestHash(request, options.hashExtra);
    const claim = await this.store.claim(scope, hash, this.config.NEXUS_IDEMPOTENCY_LEASE_SECONDS, this.config.NEXUS_IDEMPOTENCY_TTL_HOURS);
    switch (claim.kind) {
      case 'mismatch':
        throw new ProblemException(422, 'idempotency_mismatch', 'Idempotency key reused', 'This Idempotency-Key was used with a different request.');
      case 'in_flight':
        throw new ProblemException(409, 'conflict', 'Request in flight', 'A request with this Idempotency-Key is still being processed; retry shortly.');
      case 'replay':
        return { kind: 'replay', response: claim.response };
      case 'claimed':
        return { kind: 'run', scope: claim.claim };
    }
  }

  /**
   * Keeps the response of a request that ran, for replay. With `tx`: in that transaction, so the
   * answer commits with what the request wrote, or neither does (`IdempotencyClaimLostError`).
   */
  async succeed(scope: IdempotencyClaim | undefined, response: StoredResponse, tx?: SqlExecutor): Promise<void> {
    if (scope !== undefined) await this.store.complete(scope, response, tx);
  }

  /** A failed request: a refusal that happened (402, 403, 404, 409) is kept for replay, anything else frees the key. */
  async fail(scope: IdempotencyClaim | undefined, error: unknown): Promise<void> {
    if (scope === undefined) return;
    const problem = toProblem(error);
    if (!replayableErrorStatuses.has(problem.document.status)) return this.store.abandon(scope);
    await this.store.complete(scope, { status: problem.document.status, body: problem.document, headers: problem.headers });
  }

  /** Frees the key of a request that did not run to an outcome, so a retry runs it. */
  async abandon(scope: IdempotencyClaim | undefined): Promise<void> {
    if (scope !== undefined) await this.store.abandon(scope);
  }

  /**
   * Keeps the claim of a long request (a streamed completion) alive until the returned function is
   * called; otherwise a duplicate after the lease would take it for dead and run it a second time.
   */
  hold(scope: IdempotencyClaim | undefined): () => void {
    if (scope === undefined) return () => undefined;
    const timer = setInterval(() => {
      this.store.renew(scope, this.config.NEXUS_IDEMPOTENCY_LEASE_SECONDS).catch((error: unknown) => this.logger.warn(`renewing an idempotency lease failed: ${String(error)}`));
    }, (this.config.NEXUS_IDEMPOTENCY_LEASE_SECONDS * 1000) / 3);
    timer.unref();
    return () => clearInterval(timer);
  }
}
