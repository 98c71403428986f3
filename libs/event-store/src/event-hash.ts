import { createHash } from 'node:crypto';

import { canonicalJson, type RecordedEvent } from '@nexus/events';

/** The `prevHash` of every stream's first event. */
export const GENESIS_HASH = '0'.repeat(64);

export type HashedContent = Pick<
  RecordedEvent,
  'streamId' | 'streamVersion' | 'id' | 'type' | 'schemaVersion' | 'data' | 'metadata' | 'occurredAt'
>;

/**
 * sha256(prevHash + JCS(content)). RFC 8785 canonical JSON sorts keys and prints numbers one way,
 * so the same event read back from jsonb (which reorders keys) hashes the same.
 */
export function computeEventHash(prevHash: string, event: HashedContent): string {
  const content = canonicalJson({
    streamId: event.streamId,
    streamVersion: event.streamVersion,
    id: event.id,
    type: event.type,
    schemaVersion: event.schemaVersion,
    data: event.data,
    metadata: event.metadata,
    occurredAt: event.occurredAt,
  });
  return createHash('sha256').update(prevHash).update(content ?? '').digest('hex');
}
