import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { SQL_EXECUTOR, type SqlExecutor } from '@nexus/event-store';

/** Whose key it is: keys of two callers never collide. */
export interface IdempotencyScope {
  readonly tenantId: string;
  readonly userId: string;
  readonly key: string;
}

/** A key this request holds: its claim's id tells it from a retry that took the key over. */
export interface IdempotencyClaim extends IdempotencyScope {
  readonly claimId: string;
}

/** The claim no longer holds its key (its lease ran out and a retry took it over): nothing was written. */
export class IdempotencyClaimLostError extends Error {
  constructor(readonly scope: IdempotencyScope) {
    super(`Idempotency-Key ${scope.key} was taken over by a retry`);
    this.name = 'IdempotencyClaimLostError';
  }
}

/** A response as it is kept for replay. */
export interface StoredResponse {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Record<string, string>;
}

/** What claiming a key found: it is ours now, already answered, used for another request, or still running. */
export type Claim =
  | { readonly kind: 'claimed'; readonly claim: IdempotencyClaim }
  | { readonly kind: 'replay'; readonly response: StoredResponse }
  | { readonly kind: 'mismatch' }
  | { readonly kind: 'in_flight' };

interface Row {
  request_hash: string;
  state: 'in_flight' | 'completed';
  response_status: number | null;
  response_body: unknown;
  response_headers: Record<string, string> | null;
}

/**
 * `Idempotency-Key`s in Postgres, shared by every instance of every app that takes them (command-api,
 * llm-gateway). A key is scoped to the caller's tenant and user.
 */
@Injectable()
export class IdempotencyStore {
  constructor(@Inject(SQL_EXECUTOR) private readonly sql: SqlExecutor) {}

  /**
   * Claims a key for a request. A fresh key, or one older than the retention window, is claimed
   * with a lease; a key whose holder died (lease passed) is taken over by the next retry.
   */
  async claim(scope: IdempotencyScope, requestHash: string, leaseSeconds: number, ttlHours: number): Promise<Claim> {
    const claimId = randomUUID();
    const params = [scope.tenantId, scope.userId, scope.key, requestHash, String(leaseSeconds), String(ttlHours), claimId];
    const claimed = await this.sql.query(
      `INSERT INTO idempotency_keys (tenant_id, user_id, key, request_hash, state, locked_until, claim_id)
       VALUES ($1, $2, $3, $4, 'in_flight', now() + ($5 || ' seconds')::interval, $7)
       ON CONFLICT (tenant_id, user_id, key) DO UPDATE
         SET request_hash = EXCLUDED.request_hash, state = 'in_flight', locked_until = EXCLUDED.locked_until,
             response_status = NULL, response_body = NULL, response_headers = NULL, created_at = now(),
             claim_id = EXCLUDED.claim_id
         WHERE idempotency_keys.created_at < now() - ($6 || ' hours')::interval
            OR (idempotency_keys.state = 'in_flight' AND idempotency_keys.locked_until < now()
                AND idempotency_keys.request_hash = EXCLUDED.request_hash)
       RETURNING 1`,
      params,
    );
    if (claimed.length > 0) return { kind: 'claimed', claim: { ...scope, claimId } };
    const [row] = await this.sql.query<Row>(
      `SELECT request_hash, state, response_status, response_body, response_headers
         FROM idempotency_keys WHERE tenant_id = $1 AND user_id = $2 AND key = $3`,
      params.slice(0, 3),
    );
    if (row === undefined) return this.claim(scope, requestHash, leaseSeconds, ttlHours); // purged meanwhile
    if (row.request_hash !== requestHash) return { kind: 'mismatch' };
    if (row.state === 'in_flight') return { kind: 'in_flight' };
    return {
      kind: 'replay',
      response: { status: row.response_status ?? 200, body: row.response_body, headers: row.response_headers ?? {} },
    };
  }

  /**
   * Keeps the response of a request that ran, for replay, if its claim still holds the key. With
   * `tx`, in that transaction (a command's, beside its events); a lost claim then throws
   * `IdempotencyClaimLostError`, so the transaction rolls back and writes nothing.
   */
  async complete(claim: IdempotencyClaim, response: StoredResponse, tx?: SqlExecutor): Promise<void> {
    const rows = await (tx ?? this.sql).query(
      `UPDATE idempotency_keys
          SET state = 'completed', response_status = $4, response_body = $5, response_headers = $6
        WHERE tenant_id = $1 AND user_id = $2 AND key = $3 AND state = 'in_flight' AND claim_id = $7
        RETURNING 1`,
      [claim.tenantId, claim.userId, claim.key, response.status, JSON.stringify(response.body ?? null), JSON.stringify(response.headers), claim.claimId],
    );
    if (rows.length === 0 && tx !== undefined) throw new IdempotencyClaimLostError(claim);
  }

  /** Extends the lease of a claim still running, so a long request is not taken for a dead one. */
  async renew(claim: IdempotencyClaim, leaseSeconds: number): Promise<void> {
    await this.sql.query(
      `UPDATE idempotency_keys SET locked_until = now() + ($4 || ' seconds')::interval
        WHERE tenant_id = $1 AND user_id = $2 AND key = $3 AND state = 'in_flight' AND claim_id = $5`,
      [claim.tenantId, claim.userId, claim.key, String(leaseSeconds), claim.claimId],
    );
  }

  /** Forgets a claim whose request never ran (invalid input, server failure) so it may be retried. */
  async abandon(claim: IdempotencyClaim): Promise<void> {
    await this.sql.query(
      `DELETE FROM idempotency_keys WHERE tenant_id = $1 AND user_id = $2 AND key = $3 AND state = 'in_flight' AND claim_id = $4`,
      [claim.tenantId, claim.userId, claim.key, claim.claimId],
    );
  }

  /** Drops keys past the retention window. */
  async purge(ttlHours: number): Promise<number> {
    const rows = await this.sql.query(
      `DELETE FROM idempotency_keys WHERE created_at < now() - ($1 || ' hours')::interval RETURNING 1`,
      [String(ttlHours)],
    );
    return rows.length;
  }
}
