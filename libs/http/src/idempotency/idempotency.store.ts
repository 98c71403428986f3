import { Inject, Injectable } from '@nestjs/common';
import { SQL_EXECUTOR, type SqlExecutor } from '@nexus/event-store';

/** Whose key it is: keys of two callers never collide. */
export interface IdempotencyScope {
  readonly tenantId: string;
  readonly userId: string;
  readonly key: string;
}

/** A response as it is kept for replay. */
export interface StoredResponse {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Record<string, string>;
}

/** What claiming a key found: it is ours now, already answered, used for another request, or still running. */
export type Claim =
  | { readonly kind: 'claimed' }
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
    const params = [scope.tenantId, scope.userId, scope.key, requestHash, String(leaseSeconds), String(ttlHours)];
    const claimed = await this.sql.query(
      `INSERT INTO idempotency_keys (tenant_id, user_id, key, request_hash, state, locked_until)
       VALUES ($1, $2, $3, $4, 'in_flight', now() + ($5 || ' seconds')::interval)
       ON CONFLICT (tenant_id, user_id, key) DO UPDATE
         SET request_hash = EXCLUDED.request_hash, state = 'in_flight', locked_until = EXCLUDED.locked_until,
             response_status = NULL, response_body = NULL, response_headers = NULL, created_at = now()
         WHERE idempotency_keys.created_at < now() - ($6 || ' hours')::interval
            OR (idempotency_keys.state = 'in_flight' AND idempotency_keys.locked_until < now()
                AND idempotency_keys.request_hash = EXCLUDED.request_hash)
       RETURNING 1`,
      params,
    );
    if (claimed.length > 0) return { kind: 'claimed' };
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

  /** Keeps the response of a request that ran, for replay. */
  async complete(scope: IdempotencyScope, response: StoredResponse): Promise<void> {
    await this.sql.query(
      `UPDATE idempotency_keys
          SET state = 'completed', response_status = $4, response_body = $5, response_headers = $6
        WHERE tenant_id = $1 AND user_id = $2 AND key = $3`,
      [scope.tenantId, scope.userId, scope.key, response.status, JSON.stringify(response.body ?? null), JSON.stringify(response.headers)],
    );
  }

  /** Extends the lease of a claim still running, so a long request is not taken for a dead one. */
  async renew(scope: IdempotencyScope, leaseSeconds: number): Promise<void> {
    await this.sql.query(
      `UPDATE idempotency_keys SET locked_until = now() + ($4 || ' seconds')::interval
        WHERE tenant_id = $1 AND user_id = $2 AND key = $3 AND state = 'in_flight'`,
      [scope.tenantId, scope.userId, scope.key, String(leaseSeconds)],
    );
  }

  /** Forgets a claim whose request never ran (invalid input, server failure) so it may be retried. */
  async abandon(scope: IdempotencyScope): Promise<void> {
    await this.sql.query(
      `DELETE FROM idempotency_keys WHERE tenant_id = $1 AND user_id = $2 AND key = $3 AND state = 'in_flight'`,
      [scope.tenantId, scope.userId, scope.key],
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
