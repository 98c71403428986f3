import type { NewEvent, RecordedEvent } from '@nexus/events';
import { AppendCoalescer, type AppendCoalescingOptions } from './append-coalescer';
import { appendRequests } from './append-events';
import { EVENT_COLUMNS, toRecordedEvent, type EventRow } from './event-rows';
import {
  compareCheckpoints,
  START_CHECKPOINT,
  type AppendOptions,
  type AppendRequest,
  type AppendResult,
  type ChainVerification,
  type EventStorePort,
  type ExpectedVersion,
  type GlobalCheckpoint,
  type ReadAllResult,
  type VerifyChainOptions,
} from './event-store.port';
import { StreamHeadHints } from './stream-head-hints';
import { verifyChain } from './verify-chain';
import type { SqlExecutor } from './sql-executor.port';

export interface PostgresEventStoreOptions {
  /** How concurrent single-stream appends go together in one statement (see `AppendCoalescer`). */
  readonly appendCoalescing?: AppendCoalescingOptions;
}

/**
 * The event store on PostgreSQL or PGlite: the same SQL on both, through `SqlExecutor`.
 * The schema is `infra/postgres/migrations/001_event_store.sql`; run `migrate` first.
 */
export class PostgresEventStore implements EventStorePort {
  private readonly hints = new StreamHeadHints();
  private readonly coalescer: AppendCoalescer;

  constructor(
    private readonly sql: SqlExecutor,
    options: PostgresEventStoreOptions = {},
  ) {
    this.coalescer = new AppendCoalescer(sql, this.hints, options.appendCoalescing);
  }

  async readStream(streamId: string, options: { fromVersion?: number } = {}): Promise<RecordedEvent[]> {
    const rows = await this.sql.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events
       WHERE stream_id = $1 AND stream_version >= $2 ORDER BY stream_version`,
      [streamId, options.fromVersion ?? 1],
    );
    const events = rows.map(toRecordedEvent);
    this.hints.remember(events);
    return events;
  }

  async appendToStream(
    streamId: string,
    events: readonly NewEvent[],
    options: { expectedVersion: ExpectedVersion },
  ): Promise<AppendResult> {
    return this.coalescer.append({ streamId, events, expectedVersion: options.expectedVersion });
  }

  async appendToStreams(requests: readonly AppendRequest[], options: AppendOptions = {}): Promise<AppendResult[]> {
    const streams = new Set(requests.map((r) => r.streamId));
    if (streams.size !== requests.length) {
      throw new RangeError('appendToStreams takes each stream at most once; merge its events into one request');
    }
    const [only] = requests;
    if (requests.length === 1 && only !== undefined && options.alongside === undefined) return [await this.coalescer.append(only)];
    return requests.length === 0 ? [] : appendRequests(this.sql, requests, this.hints, options.alongside);
  }

  /**
   * Why not `WHERE global_position > n`: a position is drawn from a sequence when the row is
   * inserted, not when its transaction commits. Transaction A takes position 10, B takes 11, B
   * commits first; a reader that sees 11 and moves its cursor past it will never see 10 when A
   * commits a moment later. So readers walk in (transaction id, position) order and stop short
   * of the oldest transaction still running (`pg_snapshot_xmin`): every transaction below it has
   * finished, committed or rolled back, so nothing can appear behind the cursor any more, and a
   * rolled-back one simply left no rows (no stall). The ORDER BY names the table's columns: the
   * select list outputs transaction_id as text, and sorting that text would put xid 1000 before
   * 999 and skip events for good. The price is that one long transaction
   * anywhere on the server holds readers back until it ends: keep write transactions short.
   */
  async readAll(options: { after?: GlobalCheckpoint; limit?: number } = {}): Promise<ReadAllResult> {
    const after = options.after ?? START_CHECKPOINT;
    const rows = await this.sql.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events
       WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint)
         AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
       ORDER BY events.transaction_id, events.global_position
       LIMIT $3`,
      [after.transactionId, after.position, options.limit ?? 1000],
    );
    const events = rows.map(toRecordedEvent);
    const last = events[events.length - 1];
    return {
      events,
      checkpoint: last ? { transactionId: last.transactionId, position: last.globalPosition } : after,
    };
  }

  async hasUnreadEvents(after: GlobalCheckpoint): Promise<boolean> {
    // No horizon here, on purpose: the older transaction may end between the reader's read and
    // this question, and then its events are readable rather than held back; either way the
    // reader must look again soon instead of waiting for a notice that will not come.
    // Not `EXISTS (...)`: inside it the planner drops the ORDER BY and may scan the table from
    // its start; in (transaction id, position) order it reads one index entry.
    const rows = await this.sql.query(
      `SELECT 1 FROM events WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint)
        ORDER BY transaction_id, global_position LIMIT 1`,
      [after.transactionId, after.position],
    );
    return rows.length > 0;
  }

  async hasReached(checkpoint: GlobalCheckpoint, position: number): Promise<boolean> {
    const [row] = await this.sql.query<{ transaction_id: string }>(
      'SELECT transaction_id::text AS transaction_id FROM events WHERE global_position = $1',
      [position],
    );
    // Not visible yet (or never written): no reader can have applied it.
    if (!row) return false;
    return compareCheckpoints({ transactionId: row.transaction_id, position }, checkpoint) <= 0;
  }

  async headPosition(): Promise<number> {
    const [row] = await this.sql.query<{ head: string | number }>(
      'SELECT coalesce(max(global_position), 0) AS head FROM events',
    );
    return Number(row?.head ?? 0);
  }

  verifyChain(options: VerifyChainOptions = {}): Promise<ChainVerification> {
    return verifyChain(this.sql, options);
  }
}
