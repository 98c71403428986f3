import { computeEventHash, GENESIS_HASH } from './event-hash';
import { EVENT_COLUMNS, toRecordedEvent, type EventRow } from './event-rows';
import type { ChainFailure, ChainVerification, VerifyChainOptions } from './event-store.port';
import type { SqlExecutor } from './sql-executor.port';

/**
 * Walks the whole table in (stream, version) order, a batch at a time by keyset, and checks each
 * event against the one before it: versions contiguous from 1, `prev_hash` equal to the previous
 * stored hash, `hash` equal to the hash recomputed from the row's content. Links are checked
 * against the *stored* previous hash so one edited row is reported once, at that row; rewriting
 * a row's hash as well breaks the next row's link instead.
 *
 * With `tenantId`, only that tenant's events are walked (those its members and Nexus's services
 * acting for it wrote: every event of a stream has the stream's tenant). Hiding a row from the
 * walk by editing its tenant breaks the next row's link, so it is still reported.
 */
export async function verifyChain(sql: SqlExecutor, options: VerifyChainOptions): Promise<ChainVerification> {
  const batchSize = options.batchSize ?? 1000;
  const failures: ChainFailure[] = [];
  let streams = 0;
  let events = 0;
  let previous: { streamId: string; streamVersion: number; hash: string } | undefined;
  for (;;) {
    const rows = await sql.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM events
       WHERE (stream_id, stream_version) > ($1, $2)
         AND ($4::text IS NULL OR metadata->'actor'->>'tenantId' = $4::text)
       ORDER BY stream_id, stream_version
       LIMIT $3`,
      [previous?.streamId ?? '', previous?.streamVersion ?? 0, batchSize, options.tenantId ?? null],
    );
    for (const event of rows.map(toRecordedEvent)) {
      const sameStream = previous?.streamId === event.streamId;
      if (!sameStream) streams += 1;
      events += 1;
      const fail = (reason: string): void => {
        failures.push({ streamId: event.streamId, streamVersion: event.streamVersion, globalPosition: event.globalPosition, reason });
      };
      const expectedVersion = sameStream && previous ? previous.streamVersion + 1 : 1;
      const expectedPrev = sameStream && previous ? previous.hash : GENESIS_HASH;
      if (event.streamVersion !== expectedVersion) fail(`version gap: expected version ${expectedVersion}`);
      if (event.prevHash !== expectedPrev) fail('prev_hash does not match the previous event of the stream');
      if (computeEventHash(event.prevHash, event) !== event.hash) fail('hash does not match the event content');
      previous = { streamId: event.streamId, streamVersion: event.streamVersion, hash: event.hash };
    }
    options.onProgress?.({ streams, events });
    if (rows.length < batchSize) return { streams, events, failures };
  }
}
