import type { NewEvent, RecordedEvent } from '@nexus/events';
import type { SqlExecutor } from './sql-executor.port';

/** `0`: the stream must not exist yet; `n`: its last version must be n; `'any'`: no check. */
export type ExpectedVersion = number | 'any';

export interface AppendRequest {
  readonly streamId: string;
  readonly expectedVersion: ExpectedVersion;
  readonly events: readonly NewEvent[];
}

/** What else an append commits. */
export interface AppendOptions {
  /**
   * Runs in the append's own transaction, after the events are in: what it writes commits with
   * them or not at all, and when it throws nothing is appended (a command's idempotency record).
   */
  readonly alongside?: (tx: SqlExecutor, results: readonly AppendResult[]) => Promise<void>;
}

export interface AppendResult {
  readonly streamId: string;
  /** The stream's version after the append: pass it as the next `expectedVersion`. */
  readonly nextExpectedVersion: number;
  /** Global position of the last event written (the `X-Nexus-Position` of a command). */
  readonly lastPosition: number;
  readonly events: RecordedEvent[];
}

/**
 * Where a global reader is: the last event it read, ordered by (transaction id, position).
 * `transactionId` is a decimal xid8, kept as a string (it is a 64-bit counter).
 */
export interface GlobalCheckpoint {
  readonly transactionId: string;
  readonly position: number;
}

export interface ReadAllResult {
  readonly events: RecordedEvent[];
  /** Pass back as `after`; equals `after` when nothing new was visible. */
  readonly checkpoint: GlobalCheckpoint;
}

export interface ChainFailure {
  readonly streamId: string;
  readonly streamVersion: number;
  readonly globalPosition: number;
  readonly reason: string;
}

export interface ChainVerification {
  readonly streams: number;
  readonly events: number;
  readonly failures: ChainFailure[];
}

export interface VerifyChainOptions {
  readonly onProgress?: (progress: { streams: number; events: number }) => void;
  readonly batchSize?: number;
  /** Only this tenant's streams; every tenant's when absent. */
  readonly tenantId?: string;
}

/** The event store: streams with optimistic concurrency, a gap-safe global log, a hash chain. */
export interface EventStorePort {
  /** The stream's events in version order, from `fromVersion` (1-based, inclusive) on. */
  readStream(streamId: string, options?: { fromVersion?: number }): Promise<RecordedEvent[]>;
  /**
   * Appends atomically. Throws `WrongExpectedVersionError` on a version mismatch. Re-appending
   * events whose ids are all stored in this stream returns the original result and writes nothing.
   */
  appendToStream(
    streamId: string,
    events: readonly NewEvent[],
    options: { expectedVersion: ExpectedVersion },
  ): Promise<AppendResult>;
  /** All-or-nothing across streams, in one transaction; results in request order. */
  appendToStreams(requests: readonly AppendRequest[], options?: AppendOptions): Promise<AppendResult[]>;
  /** Committed events strictly after `after`, never past a transaction still in flight. */
  readAll(options?: { after?: GlobalCheckpoint; limit?: number }): Promise<ReadAllResult>;
  /**
   * Whether committed events follow `after`: asked by a reader whose `readAll` just came back
   * empty, it means an older transaction still in flight held the read horizon back (or ended
   * since that read). Either way the reader should look again soon rather than wait for the next
   * append notice: the horizon moving sends none.
   */
  hasUnreadEvents(after: GlobalCheckpoint): Promise<boolean>;
  /** Whether a reader at `checkpoint` has passed the event at global `position`. */
  hasReached(checkpoint: GlobalCheckpoint, position: number): Promise<boolean>;
  /** The highest global position written (0 when empty). */
  headPosition(): Promise<number>;
  /** Recomputes every stream's (or one tenant's streams') hash chain from the table, batch by batch. */
  verifyChain(options?: VerifyChainOptions): Promise<ChainVerification>;
}

export const EVENT_STORE = Symbol('EventStorePort');

/** Where a reader starts: before every transaction and position. */
export const START_CHECKPOINT: GlobalCheckpoint = { transactionId: '0', position: 0 };

/** Orders checkpoints the way `readAll` does: by transaction id, then position. */
export function compareCheckpoints(a: GlobalCheckpoint, b: GlobalCheckpoint): number {
  const ax = BigInt(a.transactionId);
  const bx = BigInt(b.transactionId);
  if (ax !== bx) return ax < bx ? -1 : 1;
  return a.position - b.position;
}
