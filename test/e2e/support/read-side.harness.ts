import { expect } from '@jest/globals';
import { PostgresEventStore, START_CHECKPOINT, type GlobalCheckpoint, type SqlExecutor } from '@nexus/event-store';
import type { RecordedEvent } from '@nexus/events';
import { allProjections, documentsDigest, readModelDigest } from '@nexus/projections';
import { foldInMemory } from '../../../libs/projections/src/testing/fold-in-memory';

/** The projector's inbox consumer name (apps/projector's PROJECTOR_CONSUMER). */
const PROJECTOR = 'projector';

export interface Progress {
  readonly events: number;
  readonly processed: number;
  readonly deadLetters: number;
}

export async function projectorProgress(sql: SqlExecutor): Promise<Progress> {
  const [row] = await sql.query<{ events: string; processed: string; dead: string }>(
    `SELECT (SELECT count(*) FROM events) AS events,
            (SELECT count(*) FROM processed_events WHERE consumer = $1) AS processed,
            (SELECT count(*) FROM dead_letters WHERE consumer = $1) AS dead`,
    [PROJECTOR],
  );
  return { events: Number(row?.events), processed: Number(row?.processed), deadLetters: Number(row?.dead) };
}

/**
 * Polls until the projector's inbox holds one row per event in the store (every event applied
 * exactly once: the inbox key is unique), or fails at the deadline with the last progress seen.
 * A dead letter fails at once: it is an event the read models will never get.
 */
export async function waitUntilProjected(sql: SqlExecutor, deadlineMs: number): Promise<Progress> {
  const deadline = Date.now() + deadlineMs;
  let last: Progress = { events: -1, processed: -1, deadLetters: 0 };
  for (let poll = 0; Date.now() < deadline; poll += 1) {
    last = await projectorProgress(sql);
    if (last.deadLetters > 0) throw new Error(`events were dead-lettered: ${JSON.stringify(last)}`);
    if (last.events > 0 && last.processed === last.events) return last;
    if (process.env['NEXUS_E2E_VERBOSE'] && poll % 20 === 0) console.log(`catching up: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`projector did not catch up within ${deadlineMs} ms: ${JSON.stringify(last)}`);
}

/** The whole log, in the store's global read order. */
export async function readWholeLog(sql: SqlExecutor): Promise<RecordedEvent[]> {
  const store = new PostgresEventStore(sql);
  const events: RecordedEvent[] = [];
  let after: GlobalCheckpoint = START_CHECKPOINT;
  for (;;) {
    const page = await store.readAll({ after, limit: 5000 });
    events.push(...page.events);
    if (page.events.length === 0) return events;
    after = page.checkpoint;
  }
}

export interface DigestComparison {
  readonly projection: string;
  readonly live: string;
  readonly fold: string;
  readonly documents: number;
}

/** Each live read model's digest next to the digest of a fresh in-memory fold of `events`. */
export async function compareWithFreshFold(sql: SqlExecutor, events: readonly RecordedEvent[]): Promise<DigestComparison[]> {
  const comparisons: DigestComparison[] = [];
  for (const projection of allProjections) {
    const docs = foldInMemory(projection, events);
    comparisons.push({
      projection: projection.name,
      live: await readModelDigest(sql, projection.name),
      fold: documentsDigest(docs.values()),
      documents: docs.size,
    });
  }
  return comparisons;
}

/**
 * Streams whose last applied version, as the read models record it (`stream_versions` of every
 * `rm_*` document fed by the stream), differs from the stream's head version in the store.
 * Only projections that fold every event type see every version; for them a lower recorded
 * version is a lost event and a higher one cannot exist.
 */
export async function streamsBehindHead(sql: SqlExecutor, projection: string): Promise<{ stream: string; recorded: number; head: number }[]> {
  return sql.query(
    `WITH recorded AS (
       SELECT v.key AS stream, max(v.value::text::int) AS recorded
         FROM rm_${projection}, jsonb_each(stream_versions) AS v GROUP BY v.key),
     heads AS (SELECT stream_id AS stream, max(stream_version) AS head FROM events GROUP BY stream_id)
     SELECT h.stream, coalesce(r.recorded, 0) AS recorded, h.head
       FROM heads h LEFT JOIN recorded r USING (stream)
      WHERE coalesce(r.recorded, 0) <> h.head`,
  );
}

/**
 * Per-stream apply order from the inbox: within each stream, the inbox rows ordered by stream
 * version must never go back in `processed_at` (each is its transaction's start, which comes
 * after the previous batch's commit when the stream's events are applied in order) nor in
 * transaction id. Events applied in one batch share both. Returns the violations.
 */
export async function outOfOrderApplies(sql: SqlExecutor): Promise<{ stream_id: string; stream_version: number }[]> {
  return sql.query(
    // Events of one batch share a transaction (same xid and timestamp); a partition's batches
    // commit one after another, so a later batch has a later transaction id.
    `SELECT stream_id, stream_version FROM (
       SELECT e.stream_id, e.stream_version, p.processed_at, p.xmin::text::bigint AS xid,
              lag(p.processed_at) OVER (PARTITION BY e.stream_id ORDER BY e.stream_version) AS previous,
              lag(p.xmin::text::bigint) OVER (PARTITION BY e.stream_id ORDER BY e.stream_version) AS previous_xid
         FROM events e JOIN processed_events p ON p.event_id = e.event_id AND p.consumer = $1) applied
      WHERE previous IS NOT NULL AND (processed_at < previous OR xid < previous_xid)
      LIMIT 20`,
    [PROJECTOR],
  );
}

export async function auditLogRows(sql: SqlExecutor): Promise<number> {
  const [row] = await sql.query<{ n: string }>('SELECT count(*) AS n FROM rm_audit_log');
  return Number(row?.n);
}

/**
 * What every fault test asserts at the end: once the projector has caught up with the whole log,
 * every read model equals a fresh fold of it and the audit log has a row per event. Returns the
 * log and the comparisons, for the test's own further checks and its printout.
 */
export async function expectReadModelsExact(
  sql: SqlExecutor,
  catchUpMs: number,
): Promise<{ events: RecordedEvent[]; comparisons: DigestComparison[] }> {
  const progress = await waitUntilProjected(sql, catchUpMs);
  const events = await readWholeLog(sql);
  expect(events).toHaveLength(progress.events);
  const comparisons = await compareWithFreshFold(sql, events);
  for (const c of comparisons) expect({ projection: c.projection, digest: c.live }).toEqual({ projection: c.projection, digest: c.fold });
  expect(await auditLogRows(sql)).toBe(events.length);
  return { events, comparisons };
}
