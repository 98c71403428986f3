import type { RecordedEvent } from '@nexus/events';
import { GENESIS_HASH } from './event-hash';

export interface StreamHead {
  readonly version: number;
  readonly hash: string;
}

/**
 * The last (version, hash) this process saw of recently used streams, so an append can go to the
 * database in one statement instead of reading the head first. Only a hint: the INSERT checks in
 * SQL that the row it chains onto exists with that hash, and falls back to reading the head when
 * it does not, so a stale or rolled-back entry costs a round trip, never correctness.
 * Command handlers read a stream before appending to it, which is what fills this in.
 */
export class StreamHeadHints {
  private readonly heads = new Map<string, StreamHead>();

  constructor(private readonly capacity = 10_000) {}

  get(streamId: string): StreamHead | undefined {
    return this.heads.get(streamId);
  }

  /** The head an append expecting `expectedVersion` chains onto without reading it: a new stream's, or a matching hint. */
  headFor(streamId: string, expectedVersion: number): StreamHead | undefined {
    const head = expectedVersion === 0 ? { version: 0, hash: GENESIS_HASH } : this.heads.get(streamId);
    return head?.version === expectedVersion ? head : undefined;
  }

  remember(events: readonly RecordedEvent[]): void {
    const last = events[events.length - 1];
    if (!last) return;
    this.heads.delete(last.streamId);
    this.heads.set(last.streamId, { version: last.streamVersion, hash: last.hash });
    if (this.heads.size > this.capacity) {
      const oldest = this.heads.keys().next().value;
      if (oldest !== undefined) this.heads.delete(oldest);
    }
  }

  forget(streamId: string): void {
    this.heads.delete(streamId);
  }
}
