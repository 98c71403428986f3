import { appendRequests, appendResult, chainEvents, EVENTS_APPENDED_CHANNEL, prepare, type ChainedEvent, type InsertedRow } from './append-events';
import type { AppendRequest, AppendResult } from './event-store.port';
import type { SqlExecutor } from './sql-executor.port';
import type { StreamHead, StreamHeadHints } from './stream-head-hints';

/**
 * The most event rows one batch carries by default. The rows travel as one array per column, so
 * PostgreSQL's limit of 65,535 bind parameters does not bound a batch (ten parameters, whatever
 * its size); this does, to bound the statement and how long its requests wait on one another.
 * Thirty-two writers of single events never come near it.
 */
export const DEFAULT_MAX_BATCH_ROWS = 1_000;

/**
 * Two batches in flight, the rest queued behind them. An idle store never waits: an append that
 * finds fewer in flight goes at once. Measured with a short bench:append on a durable server on a
 * 2-core machine (noisy, direction only): one and two in flight were within noise of each other
 * at 8 and 32 writers, both several times the uncoalesced rate, and four was no better (more,
 * smaller statements). Two is kept because the second batch fills and goes while the first one's
 * commit waits on its WAL flush, and because two appends arriving together (light load) then go
 * at once instead of one waiting out the other's round trip.
 */
export const DEFAULT_BATCHES_IN_FLIGHT = 2;

export interface AppendCoalescingOptions {
  /**
   * Batches in flight (a lone append is a batch of one) before further appends queue to go
   * together in the next one; `Infinity` turns coalescing off.
   */
  readonly batchesInFlight?: number;
  /** The most event rows a batch carries; a request with more goes alone. */
  readonly maxBatchRows?: number;
}

interface Pending {
  readonly request: AppendRequest;
  readonly expectedVersion: number;
  readonly resolve: (result: AppendResult) => void;
  readonly reject: (error: unknown) => void;
}

/** A row the batch INSERT returns: which stream it went to, too. */
interface BatchRow extends InsertedRow {
  stream_id: string;
}

/** A request of a batch with the head its rows chain onto. */
interface Chained {
  readonly pending: Pending;
  readonly head: StreamHead;
  readonly chained: ChainedEvent[];
}

/**
 * Group commit for the hot path of `appendRequests`: while appends are in flight, further
 * single-stream appends whose head is known queue, and go together as one multi-row INSERT (one
 * round trip, one commit) when a batch comes back. Under load the cost of an append is the
 * statement (a round trip, a commit, a wake-up of the server process), not its rows.
 *
 * Each request is still all-or-nothing and gets what it would have got alone: the statement
 * checks each stream's previous hash on its own, so only the streams whose head moved are left
 * out, and those go the way a failed hint goes (read the head, then refuse, replay or insert).
 * Any error of the batch statement (a rival process created the same stream, an event id is
 * stored already) sends every request of the batch again alone, through the code that already
 * tells those cases apart: the batch is only an optimisation.
 */
export class AppendCoalescer {
  private readonly queue: Pending[] = [];
  private inFlight = 0;
  /** Streams with a request in a batch not yet settled: a later one waits for the next batch. */
  private readonly busy = new Set<string>();
  private readonly batchesInFlight: number;
  private readonly maxBatchRows: number;

  constructor(
    private readonly sql: SqlExecutor,
    private readonly hints: StreamHeadHints,
    options: AppendCoalescingOptions = {},
  ) {
    this.batchesInFlight = Math.max(1, options.batchesInFlight ?? DEFAULT_BATCHES_IN_FLIGHT);
    this.maxBatchRows = Math.max(1, options.maxBatchRows ?? DEFAULT_MAX_BATCH_ROWS);
  }

  /** Appends one request, in a batch when it can go in one, otherwise the usual way. */
  async append(request: AppendRequest): Promise<AppendResult> {
    const { expectedVersion } = request;
    if (expectedVersion === 'any' || request.events.length === 0 || request.events.length > this.maxBatchRows) {
      return this.alone(request);
    }
    if (this.hints.headFor(request.streamId, expectedVersion) === undefined) return this.alone(request);
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ request, expectedVersion, resolve, reject });
      this.drain();
    });
  }

  /** Starts batches while fewer than the limit are in flight and the queue has requests to take. */
  private drain(): void {
    while (this.inFlight < this.batchesInFlight) {
      const batch = this.takeBatch();
      if (batch.length === 0) return;
      this.inFlight += 1;
      void this.send(batch).finally(() => {
        this.inFlight -= 1;
        this.drain();
      });
    }
  }

  /** The queued requests, in order, that fit one batch: one per stream, none of a busy stream. */
  private takeBatch(): Pending[] {
    const batch: Pending[] = [];
    let rows = 0;
    for (let i = 0; i < this.queue.length; ) {
      const pending = this.queue[i] as Pending;
      const streamId = pending.request.streamId;
      const size = pending.request.events.length;
      if (this.busy.has(streamId) || rows + size > this.maxBatchRows) {
        i += 1;
        continue;
      }
      this.queue.splice(i, 1);
      this.busy.add(streamId);
      batch.push(pending);
      rows += size;
    }
    return batch;
  }

  /** Resolves once the batch's statement is done; requests sent on alone settle on their own. */
  private async send(batch: readonly Pending[]): Promise<void> {
    const [first] = batch;
    if (batch.length === 1 && first !== undefined) {
      // Nothing to go with: today's one-statement append, holding the slot until done as a batch would.
      const result = this.alone(first.request);
      this.settle(first, result);
      await result.catch(() => undefined);
      return;
    }
    const ready = this.chain(batch);
    if (ready.length === 0) return;
    let inserted: BatchRow[];
    try {
      inserted = await this.insertBatch(ready);
    } catch {
      for (const { pending } of ready) this.settle(pending, this.alone(pending.request));
      return;
    }
    this.finish(ready, inserted);
  }

  /**
   * Each request's rows, chained onto its head as known now (an earlier batch may have moved it
   * since the request queued: then it goes alone). One that repeats an event id is refused as it
   * would be alone.
   */
  private chain(batch: readonly Pending[]): Chained[] {
    const ready: Chained[] = [];
    for (const pending of batch) {
      const { streamId } = pending.request;
      const head = this.hints.headFor(streamId, pending.expectedVersion);
      if (head === undefined) {
        this.settle(pending, this.alone(pending.request));
        continue;
      }
      try {
        ready.push({ pending, head, chained: chainEvents(streamId, head, prepare(pending.request)) });
      } catch (error) {
        this.settle(pending, Promise.reject(error));
      }
    }
    return ready;
  }

  /** Hands each request its result, or sends it on alone when its stream's head had moved. */
  private finish(ready: readonly Chained[], inserted: readonly BatchRow[]): void {
    const byStream = new Map<string, BatchRow[]>();
    for (const row of inserted) {
      const rows = byStream.get(row.stream_id) ?? [];
      rows.push(row);
      byStream.set(row.stream_id, rows);
    }
    for (const { pending, head, chained } of ready) {
      const streamId = pending.request.streamId;
      const rows = byStream.get(streamId);
      if (rows === undefined) {
        // As when a hint fails alone: forget it, so the request reads the head first.
        this.hints.forget(streamId);
        this.settle(pending, this.alone(pending.request));
        continue;
      }
      const result = appendResult(streamId, head, chained, rows);
      this.hints.remember(result.events);
      this.settle(pending, Promise.resolve(result));
    }
    // After the commit, once for the whole batch: wakes the log's readers.
    if (inserted.length > 0) this.sql.announce?.(EVENTS_APPENDED_CHANNEL);
  }

  /** One INSERT for every request's rows (see `BATCH_INSERT_SQL`). */
  private async insertBatch(ready: readonly Chained[]): Promise<BatchRow[]> {
    const columns: unknown[][] = Array.from({ length: BATCH_COLUMNS }, () => []);
    for (const { pending, chained } of ready) {
      for (const { values } of chained) {
        [pending.request.streamId, ...values].forEach((value, column) => columns[column]?.push(value));
      }
    }
    return this.sql.query<BatchRow>(BATCH_INSERT_SQL, columns);
  }

  /** The request on its own, exactly as without coalescing. */
  private async alone(request: AppendRequest): Promise<AppendResult> {
    const [result] = await appendRequests(this.sql, [request], this.hints);
    if (result === undefined) throw new Error(`stream ${request.streamId}: the append returned no result`);
    return result;
  }

  /** Passes the outcome on and frees the stream for the next batch. */
  private settle(pending: Pending, outcome: Promise<AppendResult>): void {
    void outcome.then(pending.resolve, pending.reject).finally(() => {
      this.busy.delete(pending.request.streamId);
      this.drain();
    });
  }
}

/** stream_id and the nine values `chainEvents` gives each row. */
const BATCH_COLUMNS = 10;

/**
 * The batch's rows arrive as one array per column, so the text is the same whatever the batch
 * holds: prepared once per connection, and no bind parameter limit to mind. jsonb and the
 * timestamp go as text and are cast here, as the one-request INSERT casts its parameters, so
 * neither driver's array serializer gets to reinterpret them. The ordinality keeps the rows in
 * request order: global positions are drawn as rows are inserted, and a stream's events must be
 * read in version order.
 *
 * Each stream's first row must chain onto its head, checked as the one-request INSERT checks it
 * (the previous event is stored with that hash), and must not be stored already: a stream whose
 * head is wrong, or no longer the head (another writer's rows committed after it, or the stream
 * exists though expected new), leaves all its rows out and the others go in. The second check is
 * there because one unique violation fails the whole statement; it spares the batch the common
 * case, and leaves the unique index to catch a rival not yet committed.
 */
const BATCH_INSERT_SQL = `
  WITH v AS (
    SELECT * FROM unnest($1::text[], $2::int[], $3::uuid[], $4::text[], $5::int[], $6::text[], $7::text[],
                         $8::text[], $9::text[], $10::text[])
      WITH ORDINALITY AS v (stream_id, stream_version, event_id, type, schema_version, data, metadata,
                            occurred_at, prev_hash, hash, n)
  ),
  firsts AS (
    SELECT DISTINCT ON (stream_id) stream_id, stream_version, prev_hash FROM v ORDER BY stream_id, stream_version
  ),
  chained AS (
    SELECT f.stream_id FROM firsts AS f
    WHERE (f.stream_version = 1
           OR EXISTS (SELECT 1 FROM events AS e
                      WHERE e.stream_id = f.stream_id AND e.stream_version = f.stream_version - 1 AND e.hash = f.prev_hash))
      AND NOT EXISTS (SELECT 1 FROM events AS e WHERE e.stream_id = f.stream_id AND e.stream_version = f.stream_version)
  )
  INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data, metadata,
                      occurred_at, prev_hash, hash)
  SELECT v.stream_id, v.stream_version, v.event_id, v.type, v.schema_version, v.data::jsonb, v.metadata::jsonb,
         v.occurred_at::timestamptz, v.prev_hash, v.hash
  FROM v WHERE v.stream_id IN (SELECT stream_id FROM chained) ORDER BY v.n
  RETURNING stream_id, event_id::text AS event_id, global_position, transaction_id::text AS transaction_id`;
