/**
 * NATS subject names for relayed events: `nexus.events.<category>.<partition>`. The category is
 * the stream-id prefix (`session`, `budget`, `run`, `toolcall`); the partition is a stable hash of
 * the event's partition key — its session id (see `EventMetadata.partitionKey`), else its stream id.
 * Every event of one session lands on one partition, so a consumer that serialises each partition
 * keeps per-stream order and the log order between a session's streams.
 */
import { streamCategory } from '@nexus/events';

export const SUBJECT_PREFIX = 'nexus.events';
export const DEFAULT_PARTITIONS = 32;

/** `session-123` → `session`. A stream id without a dash is its own category. */
export const categoryOf = streamCategory;

/** FNV-1a (32 bit) over the UTF-16 code units: stable across processes and releases. */
export function partitionOf(streamId: string, partitions = DEFAULT_PARTITIONS): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < streamId.length; i += 1) {
    hash ^= streamId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % partitions;
}

export function eventSubject(streamId: string, partitions = DEFAULT_PARTITIONS, partitionKey: string = streamId): string {
  return `${SUBJECT_PREFIX}.${categoryOf(streamId)}.${partitionOf(partitionKey, partitions)}`;
}

/** The filter of one partition, for one category or (`*`) all of them. */
export function partitionFilter(partition: number, category = '*'): string {
  return `${SUBJECT_PREFIX}.${category}.${partition}`;
}
