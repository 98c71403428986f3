/**
 * A consumer's inbox (`processed_events`: the events it has applied) and its dead letters (the
 * events it gave up on): the SQL both runtimes share — the partition-owned consumer on JetStream
 * and embedded mode's log consumer — so "applied once" and "given up" are the same rows, written
 * the same way, in either deployment shape. Migration 003 holds the tables.
 */
import type { SqlExecutor } from '@nexus/event-store';
import type { RecordedEvent } from '@nexus/events';
import { busMetrics } from './bus-metrics';

/**
 * The inbox insert as statement text, for a caller that folds it into a larger statement (a CTE
 * beside its checkpoint update: one round trip). `consumer` and `ids` name the parameters.
 */
export const insertIntoInboxSql = (consumer: string, ids: string): string =>
  `INSERT INTO processed_events (consumer, event_id) SELECT ${consumer}, unnest(${ids}::uuid[]) ON CONFLICT DO NOTHING`;

/**
 * Records the events as applied by `consumer` and returns the ids that were not recorded before:
 * the ones to apply now (a redelivery applies nothing twice). With `idleInTransactionMs`, the
 * same statement also bounds how long the calling transaction may sit idle (one round trip fewer
 * per batch; see the partitioned consumer's stall bound).
 */
export async function recordInInbox(
  tx: SqlExecutor,
  consumer: string,
  ids: readonly string[],
  options: { idleInTransactionMs?: number } = {},
): Promise<Set<string>> {
  const rows =
    options.idleInTransactionMs === undefined
      ? await tx.query<{ event_id: string }>(`${insertIntoInboxSql('$1', '$2')} RETURNING event_id`, [consumer, ids])
      : await tx.query<{ event_id: string }>(
          `INSERT INTO processed_events (consumer, event_id)
           SELECT $1, id FROM unnest($2::uuid[]) AS id
            CROSS JOIN (SELECT set_config('idle_in_transaction_session_timeout', $3, true)) AS bound
           ON CONFLICT DO NOTHING RETURNING event_id`,
          [consumer, ids, String(options.idleInTransactionMs)],
        );
  return new Set(rows.map((row) => row.event_id));
}

/** Which of the events `consumer` has applied already (for handlers that run before their inbox row). */
export async function inboxHolds(sql: SqlExecutor, consumer: string, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await sql.query<{ event_id: string }>('SELECT event_id FROM processed_events WHERE consumer = $1 AND event_id = ANY($2::uuid[])', [
    consumer,
    ids,
  ]);
  return new Set(rows.map((row) => row.event_id));
}

/** An event a consumer gives up on, with where it came from and why. */
export interface DeadLetter {
  readonly consumer: string;
  readonly event: RecordedEvent;
  /** The bus subject, or `log:<stream id>` in embedded mode. */
  readonly subject: string;
  /** The bus's stream sequence; null in embedded mode (the log has positions, not sequences). */
  readonly streamSeq: number | null;
  readonly deliveries: number;
  readonly error: string;
}

/**
 * Copies the event to `dead_letters`, once per consumer and event, in the caller's transaction
 * (beside the checkpoint that moves past it). Counted only when this call wrote it: a consumer
 * that dies after the copy and gives up again on restart counts it once.
 */
export async function deadLetter(tx: SqlExecutor, letter: DeadLetter): Promise<void> {
  const rows = await tx.query(
    `INSERT INTO dead_letters (consumer, event_id, subject, stream_seq, deliveries, payload, error)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING 1`,
    [letter.consumer, letter.event.id, letter.subject, letter.streamSeq, letter.deliveries, JSON.stringify(letter.event), letter.error],
  );
  if (rows.length > 0) busMetrics.deadLetters.inc({ consumer: letter.consumer });
}
