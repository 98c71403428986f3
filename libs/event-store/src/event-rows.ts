import { storableJson, type EventMetadata, type NewEvent, type RecordedEvent } from '@nexus/events';

/**
 * The columns every read selects, shaped so both drivers return the same JS values: positions
 * are parsed from bigint, xid8 comes as text, and occurred_at is printed in the exact ISO form
 * that was hashed (milliseconds, `Z`), independent of the drivers' date parsers.
 */
export const EVENT_COLUMNS = `
  global_position, stream_id, stream_version, event_id::text AS event_id, type, schema_version,
  data, metadata, to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS occurred_at,
  transaction_id::text AS transaction_id, prev_hash, hash`;

export interface EventRow {
  global_position: string | number | bigint;
  stream_id: string;
  stream_version: number;
  event_id: string;
  type: string;
  schema_version: number;
  data: object;
  metadata: EventMetadata;
  occurred_at: string;
  transaction_id: string;
  prev_hash: string;
  hash: string;
}

export function toRecordedEvent(row: EventRow): RecordedEvent {
  return {
    id: row.event_id,
    type: row.type,
    schemaVersion: row.schema_version,
    data: row.data,
    metadata: row.metadata,
    occurredAt: row.occurred_at,
    streamId: row.stream_id,
    streamVersion: row.stream_version,
    globalPosition: Number(row.global_position),
    transactionId: row.transaction_id,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** The event exactly as it will read back: what is hashed must be what is stored. */
export interface NormalizedEvent {
  readonly event: NewEvent;
  readonly dataJson: string;
  readonly metadataJson: string;
}

/**
 * Lower-cases the uuid (Postgres prints it so), reduces the timestamp to the millisecond ISO
 * form the table returns, and round-trips data and metadata through JSON so the hash covers what
 * jsonb keeps (no `undefined`, no class instances).
 */
export function normalizeEvent(event: NewEvent): NormalizedEvent {
  const time = new Date(event.occurredAt);
  if (Number.isNaN(time.getTime())) {
    throw new RangeError(`event ${event.id}: occurredAt "${event.occurredAt}" is not an ISO timestamp`);
  }
  // What PostgreSQL cannot store (NUL, lone surrogates — from a model, a tool, a fetched page)
  // is replaced with U+FFFD before it is hashed and appended, and the metadata says how much:
  // an append must never fail on what a run produced, or the run would hang on it.
  // JSON.stringify spells both as `\u` escapes, so the JSON it prints anyway tells whether a
  // walk is needed at all: almost never, and then only for that event.
  let dataJson = JSON.stringify(event.data);
  let metadataJson = JSON.stringify(event.metadata);
  if (mayBeUnstorable(dataJson) || mayBeUnstorable(metadataJson)) {
    const data = storableJson(event.data);
    const metadata = storableJson(event.metadata);
    const replaced = data.replaced + metadata.replaced;
    dataJson = JSON.stringify(data.value);
    metadataJson = JSON.stringify(replaced === 0 ? metadata.value : { ...metadata.value, replacedCharacters: replaced });
  }
  return {
    event: {
      id: event.id.toLowerCase(),
      type: event.type,
      schemaVersion: event.schemaVersion,
      data: JSON.parse(dataJson) as object,
      metadata: JSON.parse(metadataJson) as EventMetadata,
      occurredAt: time.toISOString(),
    },
    dataJson,
    metadataJson,
  };
}

/** A NUL or a surrogate escape in printed JSON (an escaped backslash before `u` can match too: then the walk finds nothing). */
const mayBeUnstorable = (json: string): boolean => json.includes('\\u0000') || /\\ud[89a-f]/i.test(json);
