import type { RecordedEvent } from '@nexus/events';
import { computeEventHash, GENESIS_HASH } from './event-hash';
import { EventIdConflictError, WrongExpectedVersionError } from './event-store.errors';
import type { AppendRequest, AppendResult } from './event-store.port';
import { EVENT_COLUMNS, normalizeEvent, toRecordedEvent, type EventRow, type NormalizedEvent } from './event-rows';
import { DEADLOCK_DETECTED, sqlState, UNIQUE_VIOLATION, type SqlExecutor } from './sql-executor.port';
import type { StreamHead, StreamHeadHints } from './stream-head-hints';

/** Conflicts that a retry can clear (a concurrent writer of the same keys rolled back). */
const MAX_ATTEMPTS = 5;

interface Head {
  version: number | null;
  hash: string | null;
  position: string | number | null;
  existing: number;
}

const HEAD_SQL = `
  SELECT h.stream_version AS version, h.hash, h.global_position AS position,
         (SELECT count(*)::int FROM events WHERE event_id = ANY($2::uuid[])) AS existing
  FROM (SELECT 1) AS one
  LEFT JOIN LATERAL (
    SELECT stream_version, hash, global_position FROM events
    WHERE stream_id = $1 ORDER BY stream_version DESC LIMIT 1
  ) AS h ON true`;

/** Announced (see `SqlExecutor.announce`) after every commit that appended events. */
export const EVENTS_APPENDED_CHANNEL = 'nexus_events_appended';

type Plan = { kind: 'replay'; result: AppendResult } | { kind: 'append'; head: Head };

/**
 * Appends each request atomically. The UNIQUE (stream_id, stream_version) index is the lock: the
 * version check here only fails fast, and a writer that lost a race meets a unique violation,
 * after which the request is examined again outside the failed transaction to tell a stale
 * expected version from a retried append (same event ids) from a rolled-back rival (retry).
 *
 * One request with a numeric expected version needs no explicit transaction: its rows go in
 * with one INSERT, which is atomic, and the head read before it is validated by that same unique
 * index. That saves two round trips (BEGIN, COMMIT) on the hot path; when the head is known (a
 * new stream, or a hint) the head read is skipped too and an append is one statement.
 */
export async function appendRequests(
  executor: SqlExecutor,
  requests: readonly AppendRequest[],
  hints: StreamHeadHints,
  alongside?: (tx: SqlExecutor, results: readonly AppendResult[]) => Promise<void>,
): Promise<AppendResult[]> {
  const prepared = requests.map((request) => ({ request, events: prepare(request) }));
  // A fixed order of inserts across streams keeps two multi-stream appends from deadlocking.
  const order = [...prepared].sort((a, b) => (a.request.streamId < b.request.streamId ? -1 : 1));
  const needsTransaction = requests.length > 1 || requests.some((r) => r.expectedVersion === 'any') || alongside !== undefined;
  for (let attempt = 1; ; attempt += 1) {
    try {
      const run = async (tx: SqlExecutor): Promise<Map<string, AppendResult>> => {
        const results = new Map<string, AppendResult>();
        for (const { request, events } of order) {
          results.set(request.streamId, await appendOne(tx, request, events, attempt === 1 ? hints : undefined));
        }
        await alongside?.(tx, requests.map((r) => results.get(r.streamId) as AppendResult));
        return results;
      };
      const results = needsTransaction ? await executor.transaction(run) : await run(executor);
      for (const result of results.values()) hints.remember(result.events);
      // After the commit (a transaction executor holds it until then): wakes the log's readers.
      if ([...results.values()].some((r) => r.events.length > 0)) executor.announce?.(EVENTS_APPENDED_CHANNEL);
      return requests.map((r) => results.get(r.streamId) as AppendResult);
    } catch (error) {
      const state = sqlState(error);
      if ((state !== UNIQUE_VIOLATION && state !== DEADLOCK_DETECTED) || attempt >= MAX_ATTEMPTS) throw error;
      // Throws the typed error a request now deserves; if none does, the rival rolled back.
      for (const { request, events } of order) await plan(executor, request, events);
    }
  }
}

/** Normalises the request's events; refuses one that repeats an event id. */
export function prepare(request: AppendRequest): NormalizedEvent[] {
  const events = request.events.map(normalizeEvent);
  const ids = events.map((e) => e.event.id);
  const repeated = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (repeated.length > 0) throw new EventIdConflictError(request.streamId, repeated);
  return events;
}

async function appendOne(
  tx: SqlExecutor,
  request: AppendRequest,
  events: NormalizedEvent[],
  hints: StreamHeadHints | undefined,
): Promise<AppendResult> {
  const { streamId, expectedVersion } = request;
  if (expectedVersion !== 'any' && events.length > 0 && hints) {
    const known = hints.headFor(streamId, expectedVersion);
    if (known !== undefined) {
      const result = await insert(tx, streamId, known, events);
      if (result) return result;
      hints.forget(streamId);
    }
  }
  if (expectedVersion === 'any') {
    // Writers that do not care about the version would otherwise all race for the same next
    // version and mostly lose; queue them on a per-stream lock instead (held to commit).
    await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [streamId]);
  }
  const decision = await plan(tx, request, events);
  if (decision.kind === 'replay') return decision.result;
  const { head } = decision;
  const current = { version: head.version ?? 0, hash: head.hash ?? GENESIS_HASH };
  if (events.length === 0) {
    return { streamId, nextExpectedVersion: current.version, lastPosition: Number(head.position ?? 0), events: [] };
  }
  const result = await insert(tx, streamId, current, events);
  if (!result) throw new Error(`stream ${streamId}: the head just read is gone`);
  return result;
}

/**
 * Inserts the events after `head`. With a real previous event, the rows go in only if that event
 * is stored with that hash (checked in the same statement); `undefined` when it is not.
 */
async function insert(
  tx: SqlExecutor,
  streamId: string,
  head: StreamHead,
  events: NormalizedEvent[],
): Promise<AppendResult | undefined> {
  const params: unknown[] = [streamId];
  const rows: string[] = [];
  const chained = chainEvents(streamId, head, events);
  for (const { values } of chained) {
    const b = params.length;
    params.push(...values);
    rows.push(
      `($1, $${b + 1}::int, $${b + 2}::uuid, $${b + 3}::text, $${b + 4}::int, $${b + 5}::jsonb, $${b + 6}::jsonb, ` +
        `$${b + 7}::timestamptz, $${b + 8}::text, $${b + 9}::text)`,
    );
  }
  let guard = '';
  if (head.version > 0) {
    params.push(head.version, head.hash);
    guard = `WHERE EXISTS (SELECT 1 FROM events WHERE stream_id = $1 AND stream_version = $${params.length - 1}
                                                 AND hash = $${params.length})`;
  }
  const inserted = await tx.query<InsertedRow>(
    `INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data, metadata,
                         occurred_at, prev_hash, hash)
     SELECT * FROM (VALUES ${rows.join(', ')}) AS v ${guard}
     RETURNING event_id::text AS event_id, global_position, transaction_id::text AS transaction_id`,
    params,
  );
  return inserted.length === 0 ? undefined : appendResult(streamId, head, chained, inserted);
}

/** An event placed after `head` and hashed: what will be stored, but for its position and transaction. */
export interface ChainedEvent {
  readonly recorded: Omit<RecordedEvent, 'globalPosition' | 'transactionId'>;
  /** The row's values after stream_id, in `events` column order (stream_version .. hash). */
  readonly values: readonly unknown[];
}

/** What an INSERT of events returns of each row. */
export interface InsertedRow {
  event_id: string;
  global_position: string | number;
  transaction_id: string;
}

/** Numbers the events on from `head` and chains their hashes onto its hash. */
export function chainEvents(streamId: string, head: StreamHead, events: readonly NormalizedEvent[]): ChainedEvent[] {
  let prevHash = head.hash;
  return events.map(({ event, dataJson, metadataJson }, i) => {
    const streamVersion = head.version + 1 + i;
    const hash = computeEventHash(prevHash, { ...event, streamId, streamVersion });
    const values = [streamVersion, event.id, event.type, event.schemaVersion, dataJson, metadataJson, event.occurredAt, prevHash, hash];
    const recorded = { ...event, streamId, streamVersion, prevHash, hash };
    prevHash = hash;
    return { recorded, values };
  });
}

/** The result of an append whose rows `inserted` returned (every row of `chained`). */
export function appendResult(
  streamId: string,
  head: StreamHead,
  chained: readonly ChainedEvent[],
  inserted: readonly InsertedRow[],
): AppendResult {
  const byId = new Map(inserted.map((row) => [row.event_id, row]));
  const recorded: RecordedEvent[] = chained.map(({ recorded: event }) => {
    const row = byId.get(event.id);
    return { ...event, globalPosition: Number(row?.global_position), transactionId: String(row?.transaction_id) };
  });
  return {
    streamId,
    nextExpectedVersion: head.version + chained.length,
    lastPosition: Math.max(...recorded.map((e) => e.globalPosition)),
    events: recorded,
  };
}

/** Reads the stream's head and decides: append, replay a completed append, or refuse. */
async function plan(executor: SqlExecutor, request: AppendRequest, events: NormalizedEvent[]): Promise<Plan> {
  const ids = events.map((e) => e.event.id);
  const [head] = await executor.query<Head>(HEAD_SQL, [request.streamId, ids]);
  if (!head) throw new Error('the head query returned no row');
  if (head.existing > 0) return { kind: 'replay', result: await replay(executor, request.streamId, ids) };
  const actual = head.version ?? 0;
  if (request.expectedVersion !== 'any' && request.expectedVersion !== actual) {
    throw new WrongExpectedVersionError(request.streamId, request.expectedVersion, actual);
  }
  return { kind: 'append', head };
}

/** Idempotency: every id already stored in this stream means the append happened; return it. */
async function replay(executor: SqlExecutor, streamId: string, ids: string[]): Promise<AppendResult> {
  const rows = await executor.query<EventRow>(
    `SELECT ${EVENT_COLUMNS} FROM events WHERE event_id = ANY($1::uuid[]) ORDER BY global_position`,
    [ids],
  );
  const stored = rows.map(toRecordedEvent);
  const mine = new Set(stored.filter((e) => e.streamId === streamId).map((e) => e.id));
  const last = stored[stored.length - 1];
  if (mine.size !== ids.length || !last) {
    throw new EventIdConflictError(streamId, ids.filter((id) => stored.some((e) => e.id === id)));
  }
  return {
    streamId,
    nextExpectedVersion: Math.max(...stored.map((e) => e.streamVersion)),
    lastPosition: last.globalPosition,
    events: stored,
  };
}
